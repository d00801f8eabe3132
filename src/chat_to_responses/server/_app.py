"""The ASGI app: a Responses API in front of a Chat Completions upstream.

Routes (each also without the ``/v1`` prefix, for clients whose base URL has none):

- ``POST /v1/responses`` — streamed (SSE) or not; ``previous_response_id`` continues a stored response.
- ``POST /v1/responses/compact`` — the conversation summarised by the upstream (``_compact``).
- ``/v1/responses`` as a WebSocket — WebSocket mode, one ``response.create`` per turn (``_ws``).
- ``GET`` / ``DELETE /v1/responses/{id}`` — a stored response, or a 404 in the OpenAI error format.
- ``GET /v1/models`` — the upstream's, passed through (status and body).
- ``GET /health`` — liveness, no authentication; ``GET /health?upstream=1`` also asks the upstream
  (``GET {upstream}/models``, a few seconds at most) and answers 503 when it is unreachable or fails.

Theory of operation for ``POST /v1/responses``: the endpoint reads the body (bounded), validates it
(``parse_request``), loads the stored history when asked, builds the chat request, and returns an
:class:`_Exchange`. The exchange is an ASGI response that talks to the upstream itself, so that

- an upstream HTTP error before the stream can still become the HTTP status of the answer (same code,
  OpenAI-style body), since nothing has been sent yet when it happens;
- a client disconnect cancels the upstream request at once, whether the upstream is still thinking (no
  header yet) or streaming: a task watches ``receive()`` for ``http.disconnect`` and cancels the exchange,
  and the upstream response is closed on the way out. (Starlette's ``StreamingResponse`` notices a
  disconnect only at its next write under ASGI 2.4, and never while the upstream is silent.)

The stored response is written before the terminal event goes out, so a client may chain on it at once.
"""

from __future__ import annotations

import contextlib
import functools
import hmac
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import aclosing, asynccontextmanager
from typing import Any, NamedTuple

import anyio
import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from .._completion import completion_to_response_dict
from .._translator import StreamTranslator
from ._attempts import FailedAttempts
from ._compact import compact_request_body, compaction_resource, summary_request
from ._config import ServerConfig, default_store_path
from ._echo import completed
from ._errors import BridgeError, error_body, not_found, upstream_http_error
from ._include import include_in_response
from ._limits import (
    StreamSlots,
    check_image_urls,
    guarded_body,
    owner_of,
    parse_json_body,
    read_limited,
    redact_access_log,
    redact_ids,
    stream_body_kind,
)
from ._metrics import MetricsMiddleware, PrometheusMetrics, RequestLabels, open_metrics
from ._request import DROPPED_HEADER, ResponsesRequest, chat_payload, is_tools_item, parse_request
from ._routes import Router, UpstreamRoute
from ._stream import ResponseEvents, json_body_frames, sse_frames, write_coalesced
from ._upstream import missing_v1_hint
from ._ws import ResponsesWebSocket
from .store import ResponseStore, StoredResponse, StoreUnavailableError, open_store

Json = dict[str, Any]
Load = Callable[[ResponsesRequest, "str | None"], Awaitable[list[Any]]]


class Turn(NamedTuple):
    """One prepared turn (``_Bridge.prepare``)."""

    request: ResponsesRequest
    owner: str | None
    conversation: list[Any]
    payload: Json
    route: UpstreamRoute  # the upstream that serves the request's model


Work = Callable[[Send], Awaitable[None]]

logger = logging.getLogger("chat_to_responses.server")

_HEADER_LIMIT = 2000
_SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}
_SEEN_NOTES_LIMIT = 1000


# ---------------------------------------------------------------------------------------------- plumbing


def _json_bytes(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "backslashreplace")


def _raw_headers(headers: Mapping[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]


async def _send_json(send: Send, status: int, body: Any, headers: Mapping[str, str]) -> None:
    content = _json_bytes(body)
    all_headers = {"content-type": "application/json", "content-length": str(len(content)), **headers}
    await send({"type": "http.response.start", "status": status, "headers": _raw_headers(all_headers)})
    await send({"type": "http.response.body", "body": content, "more_body": False})


async def _send_body(send: Send, body: bytes) -> None:
    await send({"type": "http.response.body", "body": body, "more_body": True})


async def _cancel_on_disconnect(receive: Receive, scope: anyio.CancelScope) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    scope.cancel()


class _Exchange(Response):
    """An ASGI response that runs ``work(send)`` and cancels it as soon as the client disconnects;
    ``done`` (giving back its concurrency slot) runs when it ends, however it ends."""

    def __init__(self, work: Work, done: Callable[[], None]) -> None:
        self._work = work
        self._done = done
        self.background = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(_cancel_on_disconnect, receive, group.cancel_scope)
                try:
                    await self._work(send)
                except OSError:  # an ASGI 2.4 server's send() to a client that left: nothing more to do
                    logger.debug("client went away during the response")
                finally:
                    group.cancel_scope.cancel()
        finally:
            self._done()


@contextlib.contextmanager
def _store_errors() -> Iterator[None]:
    """A store that cannot be reached is a 503 for the request that needs it (others go on)."""
    try:
        yield
    except StoreUnavailableError as exc:
        raise BridgeError(
            503,
            "The response store is unavailable; try again later (requests that do not read a stored "
            "response are still served).",
            kind="server_error",
            code="store_unavailable",
        ) from exc


def _error_response(error: BridgeError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status)


def _dropped_header(notes: list[str]) -> dict[str, str]:
    if not notes:
        return {}
    text = "; ".join(dict.fromkeys(notes))
    return {DROPPED_HEADER: re.sub(r"[^\x20-\x7e]", "?", text)[:_HEADER_LIMIT]}


# ---------------------------------------------------------------------------------------------- the bridge


class _Bridge:
    """The endpoints, and what they share: config, upstream client, store."""

    def __init__(
        self,
        config: ServerConfig,
        store: ResponseStore | None,
        probe: bool = False,
        upstream_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.config = config
        self._probe_at_startup = probe
        self._upstream_transport = upstream_transport
        self._given_store = store
        self._store: ResponseStore | None = store
        self.router = Router(config)
        self._seen_notes: set[str] = set()
        self._slots = StreamSlots(config.max_streams, config.max_streams_per_client)
        self.attempts = FailedAttempts()  # what failed responses announced done, kept out of retries
        self.metrics = open_metrics(config.metrics)

    @property
    def store(self) -> ResponseStore:
        if self._store is None:
            raise RuntimeError("the server's lifespan has not started")
        return self._store

    @asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        config = self.config
        self.router.open(self._upstream_transport)
        if self._given_store is None:
            path = config.store_path or default_store_path()
            self._store = open_store(
                config.store,
                path,
                max_entries=config.store_max_entries,
                ttl=config.store_ttl,
                max_bytes=config.store_max_bytes,
                password=config.store_password,
            )
        unredact = redact_access_log()
        try:
            async with anyio.create_task_group() as group:
                # In the background: an unreachable upstream must not delay start-up.
                if self._probe_at_startup:
                    for route in self.router.routes:
                        named = "" if self.router.single else f" {route.name}"
                        logger.info("upstream%s: POST %s", named, route.config.chat_completions_url)
                        group.start_soon(self._startup_probe, route)
                yield
                group.cancel_scope.cancel()
        finally:
            unredact()
            self.metrics.close()
            await self.router.aclose()
            if self._given_store is None and self._store is not None:
                await self._store.aclose()

    async def _startup_probe(self, route: UpstreamRoute) -> None:
        try:
            probe = await route.client.probe()
        except Exception:  # a diagnosis must never stop the server
            logger.exception("could not probe the upstream %s", route.config.upstream)
            return
        logger.log(logging.INFO if probe.ok else logging.WARNING, "%s", probe.describe())

    def log_error(self, where: str, error: BridgeError, upstream: str | None = None) -> None:
        """One line per error answer, with its cause; a 502/504 names the upstream it could not use."""
        cause = f"{error.code}: {error.message}" if error.code else error.message
        if upstream is None and self.router.single:
            upstream = self.config.upstream
        if upstream and error.status == 404 and error.code not in ("response_not_found", "model_not_found"):
            hint = missing_v1_hint(upstream)  # the upstream's own 404
            cause += f" ({hint})" if hint else ""
        if upstream and error.status in (502, 504):
            cause += f" (upstream {upstream})"
        level = logging.WARNING if error.status >= 500 else logging.INFO
        logger.log(level, "%s: %d %s", redact_ids(where), error.status, redact_ids(cause))

    async def bridge_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, BridgeError)
        self.log_error(f"{request.method} {request.url.path}", exc)
        return _error_response(exc)

    # ------------------------------------------------------------------ request edges

    def check_key(self, request: HTTPConnection) -> None:
        expected = self.config.api_key
        if not expected:
            return
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise BridgeError(
                401, "Missing API key: send 'Authorization: Bearer <key>'.", code="invalid_api_key"
            )
        if not hmac.compare_digest(token.strip().encode(), expected.encode()):
            raise BridgeError(401, "Incorrect API key provided.", code="invalid_api_key")

    async def read_json(self, request: Request) -> Any:
        limit = self.config.max_body_bytes
        declared = request.headers.get("content-length", "")
        too_large = BridgeError(
            413, f"Request body too large: the limit is {limit} bytes.", code="body_too_large"
        )
        if declared.isdigit() and int(declared) > limit:
            raise too_large
        body = bytearray()
        try:
            async for piece in request.stream():
                body += piece
                if len(body) > limit:
                    raise too_large
        except ClientDisconnect:  # nobody is left to read the answer; this ends the request quietly
            raise BridgeError(400, "The client disconnected while sending the request.") from None
        return parse_json_body(bytes(body))

    def log_dropped(self, notes: list[str]) -> None:
        for note in dict.fromkeys(notes):
            if note in self._seen_notes:
                logger.debug("dropped: %s", note)
                continue
            if len(self._seen_notes) < _SEEN_NOTES_LIMIT:
                self._seen_notes.add(note)
            logger.info("dropped (not sent upstream): %s", note)

    # ------------------------------------------------------------------ endpoints

    async def prepare(self, body: Any, authorization: str | None, load: Load | None = None) -> Turn:
        """One turn, over HTTP or WebSocket: the validated request, its owner (``owner_of``), its whole
        conversation (``load`` finds the history ``previous_response_id`` names, among the owner's) and
        the upstream body. Image URLs are checked; without an owner nothing is stored unless allowed."""
        parsed, route = self.parse(body)
        check_image_urls(parsed.input_items, self.config.image_url_schemes)
        owner = owner_of(authorization)
        # A retry after a failed response adds nothing from the failed attempt (_attempts).
        parsed.input_items = self.attempts.strip(owner or "", parsed.input_items)
        conversation = await (load or self._conversation)(parsed, owner)
        history = conversation[: len(conversation) - len(parsed.input_items)]
        if any(is_tools_item(item) for item in history):  # tools given earlier in the conversation
            input_items = parsed.input_items
            parsed = parse_request(body, route.config, history)
            parsed.input_items = input_items
        if parsed.store and owner is None and not self.config.store_anonymous:
            parsed.store = parsed.template["store"] = False  # nobody to give it back to (store_anonymous)
            parsed.dropped.append("store (the request has no credential to own the stored response)")
        return Turn(parsed, owner, conversation, chat_payload(parsed, conversation, route.config), route)

    def parse(self, body: Any) -> tuple[ResponsesRequest, UpstreamRoute]:
        """The request, parsed with the options of the upstream that serves its model."""
        parsed = parse_request(body, self.config)
        route = self.router.route(parsed.model)
        if route.config is not self.config:  # its own max_tokens field, reasoning effort policy…
            parsed = parse_request(body, route.config)
        return parsed, route

    async def create_response(self, request: Request) -> Response:
        self.check_key(request)
        body = await self.read_json(request)
        parsed, owner, conversation, payload, route = await self.prepare(
            body, request.headers.get("authorization")
        )
        self.log_dropped(parsed.dropped)
        give_back = self.take_slot(owner, request)
        # No response id at INFO: an id is what reads a stored response (ids are at DEBUG).
        logger.debug("response %s: owner %s", parsed.response_id, owner)
        logger.info(
            "response: model=%s stream=%s tools=%d messages=%d",
            parsed.model,
            parsed.stream,
            len(parsed.tools.tools),
            len(payload["messages"]),
        )
        labels = self.metrics.labels(request.scope)
        labels.upstream = route.name
        exchange = _ResponseExchange(
            self, route, parsed, conversation, payload, request.headers.get("authorization"), owner, labels
        )
        return _Exchange(exchange.stream if parsed.stream else exchange.complete, give_back)

    def take_slot(self, owner: str | None, connection: HTTPConnection) -> Callable[[], None]:
        """A slot among the responses in progress (a 429 when none is free); returns its give-back."""
        peer = f"peer {connection.client.host}" if connection.client else "peer unknown"
        return self._slots.take(owner or peer)

    async def _owned(self, response_id: str, owner: str | None, param: str | None = None) -> StoredResponse:
        """The stored response, when ``owner`` owns it; else the 404 of an unknown id (nothing to probe)."""
        with _store_errors():
            stored = await self.store.get(response_id)
        found = stored is not None and hmac.compare_digest(stored.owner or "", owner or "")
        found = found and (owner is not None or self.config.store_anonymous)
        self.metrics.store_lookup(found)
        if stored is None or not found:
            raise not_found(response_id, param)
        return stored

    async def _conversation(self, parsed: ResponsesRequest, owner: str | None) -> list[Any]:
        if parsed.previous_response_id is None:
            return parsed.input_items
        stored = await self._owned(parsed.previous_response_id, owner, "previous_response_id")
        return [*stored.continued(), *parsed.input_items]

    async def get_response(self, request: Request) -> Response:
        self.check_key(request)
        owner = owner_of(request.headers.get("authorization"))
        stored = await self._owned(request.path_params["response_id"], owner)
        # _json_bytes, not JSONResponse: a lone surrogate from the upstream must not make it a 500.
        return Response(_json_bytes(stored.response), media_type="application/json")

    async def delete_response(self, request: Request) -> Response:
        self.check_key(request)
        response_id = request.path_params["response_id"]
        await self._owned(response_id, owner_of(request.headers.get("authorization")))
        with _store_errors():
            deleted = await self.store.delete(response_id)
        if not deleted:
            raise not_found(response_id)
        return JSONResponse({"id": response_id, "object": "response", "deleted": True})

    async def list_models(self, request: Request) -> Response:
        self.check_key(request)
        upstream = await self.router.models(request.headers.get("authorization"))
        if not upstream.is_success:
            cause = upstream_http_error(upstream.status_code, upstream.content[:_HEADER_LIMIT]).message
            self.log_error(
                f"GET {request.url.path}", BridgeError(upstream.status_code, cause, kind="upstream")
            )
        return Response(upstream.content, status_code=upstream.status_code, media_type=upstream.content_type)

    async def health(self, request: Request) -> Response:
        """``{"status": "ok"}`` at once; with ``?upstream=1``, also the upstream's answer to GET /models
        (503 when it gives none or an HTTP error)."""
        if request.query_params.get("upstream", "0").lower() in ("", "0", "false", "no"):
            return JSONResponse({"status": "ok"})
        probes = [await route.client.probe() for route in self.router.routes]
        ok = all(probe.ok for probe in probes)
        body: Json = {"status": "ok" if ok else "upstream_unavailable"}
        if self.router.single:
            body["upstream"] = probes[0].as_json()
        else:  # several upstreams: each one's answer, by name
            body["upstreams"] = {r.name: p.as_json() for r, p in zip(self.router.routes, probes, strict=True)}
        return JSONResponse(body, 200 if ok else 503)

    async def metrics_text(self, request: Request) -> Response:
        """``GET /metrics`` (``--metrics``): behind the inbound key when one is set, like the API."""
        self.check_key(request)
        body, content_type = self.metrics.render()
        return Response(body, media_type=content_type)

    async def compact(self, request: Request) -> Response:
        self.check_key(request)
        parsed, route = self.parse(compact_request_body(await self.read_json(request)))
        self.metrics.labels(request.scope).upstream = route.name
        check_image_urls(parsed.input_items, self.config.image_url_schemes)
        conversation = await self._conversation(parsed, owner_of(request.headers.get("authorization")))
        payload = chat_payload(parsed, summary_request(conversation), route.config)
        completion = await route.client.complete(payload, request.headers.get("authorization"))
        resource = compaction_resource(completion, route.config)
        logger.info("compaction %s: model=%s items=%d", resource["id"], parsed.model, len(conversation))
        return JSONResponse(resource)

    async def websocket(self, websocket: WebSocket) -> None:
        await ResponsesWebSocket(self, websocket).run()


class _ResponseExchange:
    """One ``POST /v1/responses`` against the upstream, streamed or not."""

    def __init__(
        self,
        bridge: _Bridge,
        route: UpstreamRoute,
        request: ResponsesRequest,
        conversation: list[Any],
        payload: Json,
        authorization: str | None,
        owner: str | None,
        labels: RequestLabels | None = None,
    ) -> None:
        self._owner = owner
        self.route = route
        self.config = route.config  # the server's, with this upstream's URL, key and options
        self._labels = labels or RequestLabels()  # WebSocket turns: no HTTP request to label
        self._bridge = bridge
        self._request = request
        self._conversation = conversation
        self._payload = payload
        self._authorization = authorization
        self._headers = _dropped_header(request.dropped)

    def _translator(self) -> StreamTranslator:
        config = self.config
        return StreamTranslator(
            response=self._request.template,
            reasoning=config.reasoning_output,
            think_tags=config.think_tags,
            require_finish_reason=config.require_finish_reason,
        )

    async def _on_terminal(self, response: Json) -> None:
        """Before the client sees the terminal event: note a failure's leftovers, then store."""
        if response.get("status") == "failed":
            self._bridge.attempts.remember(self._owner or "", response)
            self._labels.failed = True
        self._bridge.metrics.tokens(self._request.model, response)
        await self._store(response)

    async def _store(self, response: Json) -> None:
        """Keep the response for previous_response_id / GET; a failing store must not fail the response."""
        if not self._request.store:
            return
        try:
            await self._bridge.store.put(StoredResponse(response, self._conversation, self._owner))
        except Exception:
            logger.exception("could not store a response")

    async def stream(self, send: Send) -> None:
        started = time.monotonic()
        try:
            async with self.route.client.stream(self._payload, self._authorization) as upstream:
                is_json = stream_body_kind(upstream.headers.get("content-type", "")) == "json"
                start = {"content-type": "text/event-stream; charset=utf-8", **_SSE_HEADERS, **self._headers}
                await send({"type": "http.response.start", "status": 200, "headers": _raw_headers(start)})
                pipe = ResponseEvents(
                    self._translator(), self._request.tools.names, reasoning_text=self._request.reasoning_text
                )
                metrics = self._bridge.metrics
                pieces = metrics.first_chunk(self._labels.upstream, upstream.aiter_bytes(), started)
                body = guarded_body(pieces, self.config, lambda: pipe.finish_seen)
                if is_json:
                    read = functools.partial(read_limited, body, self.config.max_upstream_bytes)
                    frames = json_body_frames(read, pipe, self._on_terminal)
                else:
                    frames = sse_frames(body, pipe, self._on_terminal)
                async with aclosing(body), aclosing(frames):  # closed here, not whenever GC finds them
                    await write_coalesced(frames, functools.partial(_send_body, send))
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                _log_outcome(pipe.response or {})
        except BridgeError as error:
            # no id: it is what reads a stored response
            self._bridge.log_error("response", error, self.config.upstream)
            await _send_json(send, error.status, error.body(), self._headers)

    async def complete(self, send: Send) -> None:
        try:
            with anyio.fail_after(self.config.stream_timeout):
                response = await self._complete()
        except TimeoutError:
            error = BridgeError(
                504,
                f"upstream response took longer than {self.config.stream_timeout:g} s in all",
                kind="upstream_error",
                code="timeout",
            )
            await _send_json(send, error.status, error.body(), self._headers)
            return
        except BridgeError as error:
            self._bridge.log_error("response", error, self.config.upstream)
            await _send_json(send, error.status, error.body(), self._headers)
            return
        self._bridge.metrics.tokens(self._request.model, response)
        await self._store(response)
        _log_outcome(response)
        await _send_json(send, 200, response, self._headers)

    async def _complete(self) -> Json:
        started = time.monotonic()
        completion = await self.route.client.complete(self._payload, self._authorization)
        self._bridge.metrics.upstream_answered(self._labels.upstream, started)
        if not isinstance(completion, dict):
            raise BridgeError(502, "upstream returned JSON that is not an object", kind="upstream_error")
        config = self.config
        response = completion_to_response_dict(
            completion,
            response=self._request.template,
            reasoning=config.reasoning_output,
            think_tags=config.think_tags,
        )
        if response.get("status") == "failed":  # a non-streamed failure is an HTTP error, as on the real API
            error = response.get("error") or {}
            raise BridgeError(502, str(error.get("message")), kind="upstream_error", code=error.get("code"))
        response = completed(self._request.tools.names.restore_response(response))
        return include_in_response(response) if self._request.reasoning_text else response


def _log_outcome(response: Json) -> None:
    """The response's status, and why when it did not complete (no id: it is what reads a stored one)."""
    status = response.get("status")
    error, incomplete = response.get("error") or {}, response.get("incomplete_details") or {}
    why = error.get("message") or incomplete.get("reason")
    logger.log(
        logging.INFO if status in ("completed", "incomplete") else logging.WARNING,
        "response: %s%s",
        status,
        f" ({why})" if why else "",
    )


# ---------------------------------------------------------------------------------------------- the app


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    logger.info("%s %s: %d %s", request.method, redact_ids(request.url.path), exc.status_code, exc.detail)
    kind = "invalid_request_error" if exc.status_code < 500 else "server_error"
    message = f"{exc.detail}: {request.method} {request.url.path}"
    return JSONResponse(error_body(message, kind=kind), status_code=exc.status_code, headers=exc.headers)


async def _internal_error(request: Request, exc: Exception) -> Response:
    logger.error("internal error on %s %s", request.method, redact_ids(request.url.path), exc_info=exc)
    return JSONResponse(
        error_body("The server had an error processing your request.", kind="server_error"), 500
    )


def _routes(bridge: _Bridge) -> list[BaseRoute]:
    routes: list[BaseRoute] = [Route("/health", bridge.health, methods=["GET"])]
    if bridge.metrics.enabled:
        routes.append(Route("/metrics", bridge.metrics_text, methods=["GET"]))
    for prefix in ("/v1", ""):
        routes += [
            Route(f"{prefix}/responses", bridge.create_response, methods=["POST"]),
            Route(f"{prefix}/responses/compact", bridge.compact, methods=["POST"]),
            WebSocketRoute(f"{prefix}/responses", bridge.websocket),
            Route(f"{prefix}/responses/{{response_id}}", bridge.get_response, methods=["GET"]),
            Route(f"{prefix}/responses/{{response_id}}", bridge.delete_response, methods=["DELETE"]),
            Route(f"{prefix}/models", bridge.list_models, methods=["GET"]),
        ]
    return routes


def create_app(
    config: ServerConfig,
    *,
    store: ResponseStore | None = None,
    probe_upstream: bool = False,
    upstream_transport: httpx.AsyncBaseTransport | None = None,
) -> Starlette:
    """The ASGI app for ``config``; ``store`` replaces the configured one (the caller then closes it).

    ``probe_upstream``: at start-up, name the upstream and log what GET /models says (``serve`` does).
    ``upstream_transport`` replaces the network pool towards the upstream (the in-process client passes
    the transport of an existing openai client); it stays the caller's to close.
    """
    bridge = _Bridge(config, store, probe_upstream, upstream_transport)
    metrics = bridge.metrics
    counted = []
    if isinstance(metrics, PrometheusMetrics):
        counted.append(Middleware(MetricsMiddleware, metrics=metrics))
    return Starlette(
        routes=_routes(bridge),
        middleware=counted,
        lifespan=bridge.lifespan,
        exception_handlers={
            BridgeError: bridge.bridge_error,
            HTTPException: _http_error,
            Exception: _internal_error,
        },
    )
