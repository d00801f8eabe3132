"""The upstream Chat Completions server, as seen from the Responses server: one pooled httpx client.

The URL is the operator's (``ServerConfig.upstream``); a client only chooses the body. The ``Authorization``
sent upstream is the server-side key when one is configured, else the client's header, passed through
untouched; no other client header is forwarded. Keys are never logged.

Failures before a stream starts become a :class:`BridgeError`: an upstream HTTP error (4xx, 5xx) keeps its
status and message; an unreachable upstream, a redirect (never followed: the upstream is the operator's
URL, not one it points to), a status outside 100–599, a body that cannot be decoded (bad gzip) or one
larger than ``max_upstream_bytes`` are a 502; a timeout a 504. A stream is closed in every case on the way out
of :meth:`Upstream.stream`, shielded from cancellation, so a client that goes away closes the upstream
connection at once (the upstream stops generating) instead of leaving it to the pool.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx

from ._config import ServerConfig
from ._errors import BridgeError, upstream_http_error
from ._limits import read_limited

Json = dict[str, Any]

_ERROR_BODY_LIMIT = 64 * 1024
# Idle upstream connections kept for reuse. httpcore 1.0 scans every pooled connection for each idle one on
# every request and release, and closes an idle connection whenever the pool holds more than this many
# connections in all (encode/httpcore#1035): the larger the limit, the longer that scan grows under many
# concurrent streams (benchmarks/bridge.py, 200 concurrent). At 20 it stays short, and a connection is
# still reused up to 20 streams at once.
_KEEPALIVE = 20


def pooled_transport(config: ServerConfig) -> httpx.AsyncHTTPTransport:
    """The network transport towards the upstream, with the configured pool limits."""
    limits = httpx.Limits(
        max_connections=config.max_connections,
        max_keepalive_connections=min(_KEEPALIVE, config.max_connections),
    )
    return httpx.AsyncHTTPTransport(limits=limits)


def _transport(config: ServerConfig, base: httpx.AsyncBaseTransport | None) -> httpx.AsyncBaseTransport:
    transport = pooled_transport(config) if base is None else base
    if config.record_dir is not None:
        from .._fixtures import RecordingTransport  # the recorder of the testing helpers (needs httpx only)

        transport = RecordingTransport(transport, config.record_dir)
    return transport


def _json_payload(payload: Json) -> bytes:
    """The request body: UTF-8 JSON, or ASCII JSON when a string holds a lone surrogate (half an emoji in
    a client's input or a stored output), which UTF-8 cannot encode and a ``\\ud83d`` escape carries as is."""
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(payload, separators=(",", ":"), allow_nan=False).encode("ascii")


def _bad_gateway(message: str) -> BridgeError:
    return BridgeError(502, message, kind="upstream_error", code="upstream_error")


def _unreachable(exc: httpx.RequestError) -> BridgeError:
    if isinstance(exc, httpx.TimeoutException):
        return BridgeError(
            504, f"upstream timed out: {type(exc).__name__}", kind="upstream_error", code="timeout"
        )
    return BridgeError(
        502,
        f"upstream unreachable: {type(exc).__name__}: {exc}",
        kind="upstream_error",
        code="upstream_error",
    )


_PROBE_SECONDS = 5.0
_PROBE_MODELS_SHOWN = 5


def missing_v1_hint(upstream: str) -> str | None:
    """Why a 404 from ``upstream`` probably happened: a base URL without the ``/v1`` most servers need."""
    path = urlsplit(upstream).path.rstrip("/")
    if path.endswith("/v1") or "/v1/" in path:
        return None
    return f"the upstream URL probably lacks /v1 (try {upstream.rstrip('/')}/v1)"


@dataclass(frozen=True)
class ModelList:
    """The upstream's answer to ``GET /models``, read whole."""

    status_code: int
    content: bytes
    content_type: str

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300


@dataclass(frozen=True)
class UpstreamProbe:
    """What ``GET {upstream}/models`` said: an HTTP status, or the transport error that prevented one."""

    url: str
    status_code: int | None = None
    error: str | None = None
    models: tuple[str, ...] = ()
    hint: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    def describe(self) -> str:
        """One line for the log."""
        if self.status_code is None:
            return f"upstream {self.url} is unreachable ({self.error}): every request will fail with 502/504"
        if self.ok:
            shown = ", ".join(self.models[:_PROBE_MODELS_SHOWN])
            more = "…" if len(self.models) > _PROBE_MODELS_SHOWN else ""
            return f"upstream {self.url} answered {self.status_code}: models {shown or '(none listed)'}{more}"
        hint = f": {self.hint}" if self.hint else ""
        return f"upstream {self.url} answered HTTP {self.status_code}{hint}"

    def as_json(self) -> Json:
        keys = ("url", "status_code", "error", "hint")
        body: Json = {k: getattr(self, k) for k in keys if getattr(self, k) is not None}
        return {"reachable": self.status_code is not None, "ok": self.ok, **body, "seconds": self.seconds}


def _model_names(content: bytes) -> tuple[str, ...]:
    try:
        data = json.loads(content)
    except ValueError:
        return ()
    entries = data.get("data") if isinstance(data, dict) else None
    names = (e.get("id") for e in entries or [] if isinstance(e, dict))
    return tuple(n for n in names if isinstance(n, str))


async def _read_bounded(response: httpx.Response, limit: int) -> bytes:
    pieces: list[bytes] = []
    size = 0
    async for piece in response.aiter_bytes():
        pieces.append(piece)
        size += len(piece)
        if size >= limit:
            break
    return b"".join(pieces)[:limit]


def _http_error(status: int, content: bytes) -> BridgeError:
    """An upstream 4xx/5xx keeps its status; anything else not 2xx is a 502 (a redirect is not followed:
    the operator chose the upstream URL, not whatever it points to; h11 lets any 3-digit status through)."""
    if 400 <= status <= 599:
        return upstream_http_error(status, content)
    what = "a redirect" if 300 <= status <= 399 else "an invalid status"
    return _bad_gateway(f"upstream answered with {what} (HTTP {status})")


async def _close(response: httpx.Response) -> None:
    with anyio.CancelScope(shield=True):  # runs while the request is being cancelled: it must still close
        await response.aclose()


class Upstream:
    """The pooled client and the three calls the server makes: stream, complete, list models."""

    def __init__(self, config: ServerConfig, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        """``transport`` replaces the network pool; it stays the caller's (not closed here)."""
        self._config = config
        self._owns_transport = transport is None
        timeout = httpx.Timeout(config.read_timeout, connect=config.connect_timeout)
        self._client = httpx.AsyncClient(transport=_transport(config, transport), timeout=timeout)

    async def aclose(self) -> None:
        if self._owns_transport:  # closing the client closes its transport
            await self._client.aclose()

    def _headers(self, authorization: str | None, accept: str) -> dict[str, str]:
        headers = {"accept": accept}
        if self._config.upstream_api_key:
            headers["authorization"] = f"Bearer {self._config.upstream_api_key}"
        elif authorization:
            headers["authorization"] = authorization
        return headers

    async def _send(self, request: httpx.Request) -> httpx.Response:
        try:
            response = await self._client.send(request, stream=True)
        except httpx.RequestError as exc:
            raise _unreachable(exc) from exc
        if response.is_success:
            return response
        try:
            content = await _read_bounded(response, _ERROR_BODY_LIMIT)
        except httpx.RequestError:  # cut off, or not decodable: the status says enough
            content = b""
        finally:
            await _close(response)
        raise _http_error(response.status_code, content)

    @asynccontextmanager
    async def stream(self, payload: Json, authorization: str | None) -> AsyncIterator[httpx.Response]:
        """The upstream's streamed response (headers received, status 2xx), closed on exit."""
        headers = {**self._headers(authorization, "text/event-stream"), "content-type": "application/json"}
        request = self._client.build_request(
            "POST", self._config.chat_completions_url, content=_json_payload(payload), headers=headers
        )
        response = await self._send(request)
        try:
            yield response
        finally:
            await _close(response)

    async def complete(self, payload: Json, authorization: str | None) -> Any:
        """A non-streamed chat completion, parsed; a 502 when the body is not JSON."""
        async with self.stream(payload, authorization) as response:
            content = await self._read(response)
        try:
            return json.loads(content)
        except (ValueError, RecursionError):
            raise _bad_gateway("upstream returned a body that is not JSON") from None

    async def _read(self, response: httpx.Response) -> bytes:
        """The whole body, decoded, at most ``max_upstream_bytes``; a 502 when it cannot be decoded."""
        try:
            return await read_limited(response.aiter_bytes(), self._config.max_upstream_bytes)
        except httpx.DecodingError as exc:
            raise _bad_gateway(f"upstream body could not be decoded: {exc}") from None
        except httpx.RequestError as exc:
            raise _unreachable(exc) from exc

    async def probe(self) -> UpstreamProbe:
        """``GET {upstream}/models`` with the server's own key (if any), within a few seconds."""
        url, started = self._config.models_url, time.monotonic()
        try:
            response = await self.models(None, timeout=_PROBE_SECONDS)
        except BridgeError as error:
            return UpstreamProbe(url, error=error.message, seconds=round(time.monotonic() - started, 3))
        status = response.status_code
        return UpstreamProbe(
            url,
            status_code=status,
            models=_model_names(response.content) if response.is_success else (),
            hint=missing_v1_hint(self._config.upstream) if status == 404 else None,
            seconds=round(time.monotonic() - started, 3),
        )

    async def models(self, authorization: str | None, timeout: float | None = None) -> ModelList:
        """``GET {upstream}/models``, read whole (bounded); a 4xx/5xx is returned as is, for a pass-through;
        a redirect, an invalid status or an undecodable body is a 502."""
        request = self._client.build_request(
            "GET",
            self._config.models_url,
            headers=self._headers(authorization, "application/json"),
            timeout=httpx.USE_CLIENT_DEFAULT if timeout is None else httpx.Timeout(timeout),
        )
        try:
            response = await self._client.send(request, stream=True)
        except httpx.RequestError as exc:
            raise _unreachable(exc) from exc
        try:
            if not response.is_success and not 400 <= response.status_code <= 599:
                raise _http_error(response.status_code, b"")
            content = await self._read(response)
        finally:
            await _close(response)
        return ModelList(
            response.status_code, content, response.headers.get("content-type", "application/json")
        )
