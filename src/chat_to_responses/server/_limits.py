"""The Responses server's guards: who owns a stored response, what a client may send and hold, and how
long and how much an upstream answer may be.

- Ownership: a stored response belongs to the credential that created it (:func:`owner_of`, a hash of
  the ``Authorization`` header's token: the token itself is never kept). Reading, deleting and
  continuing check it; a mismatch is the same 404 as an unknown id, so ids of others cannot be probed.
- Request bodies: strict JSON (:func:`parse_json_body`): no ``NaN`` / ``Infinity`` (nothing downstream
  can send them on) and at most :data:`MAX_JSON_DEPTH` levels of nesting (deeper is a recursion error in
  every later step).
- Images: an ``input_image`` URL must use one of the operator's schemes (``https``, ``http``, ``data``
  by default): ``file://`` and the like would have the upstream read its own disk.
- Concurrency: :class:`StreamSlots` counts responses in progress, in all and per client (the credential's
  owner hash, else the peer address); above either limit a 429.
- Upstream bodies: :func:`guarded_body` bounds their size and total duration (keep-alive comments do not
  extend it) and ends a stream a short grace after its ``finish_reason`` when neither ``[DONE]`` nor the
  end of the body follows.
- Connections: :func:`uvicorn_options` (and ``_http``) (a head must arrive within
  ``header_timeout``, idle keep-alive connections close after ``idle_timeout``, a head is at most
  ``max_header_bytes``, at most ``max_inbound_connections`` at once, fewer if the process may not open
  twice as many files; one over the limit is answered 503 and closed as soon as it is accepted).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from typing import Any

import anyio

from ._config import ServerConfig
from ._errors import BridgeError, invalid

MAX_JSON_DEPTH = 128

logger = logging.getLogger("chat_to_responses.server")


# ---------------------------------------------------------------------------------------------- owners


def credential(authorization: str | None) -> str | None:
    """The token of an ``Authorization`` header (the whole value for a scheme other than Bearer)."""
    if not authorization or not authorization.strip():
        return None
    scheme, _, token = authorization.strip().partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else authorization.strip()


def owner_of(authorization: str | None) -> str | None:
    """Who a stored response belongs to: a hash of the client's credential, or None without one."""
    token = credential(authorization)
    if token is None:
        return None
    digest = hashlib.sha256(b"chat-to-responses owner\0" + token.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:32]


# ---------------------------------------------------------------------------------------------- requests


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _depth_ok(value: Any, limit: int) -> bool:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            node = node.values()
        elif not isinstance(node, list):
            continue
        if depth > limit:
            return False
        stack.extend((child, depth + 1) for child in node if isinstance(child, (dict, list)))
    return True


def parse_json_body(body: bytes | str) -> Any:
    """A request body as strict JSON; a 400 ``invalid_json`` for anything else, never a 500."""
    try:
        value = json.loads(body, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        detail = str(exc) if "is not valid JSON" in str(exc) else "it is not valid JSON"
        raise BridgeError(
            400, f"We could not parse the JSON body of your request: {detail}.", code="invalid_json"
        ) from None
    if not _depth_ok(value, MAX_JSON_DEPTH):
        raise BridgeError(
            400,
            f"The JSON body of your request is nested more than {MAX_JSON_DEPTH} levels deep.",
            code="invalid_json",
        )
    return value


def _image_urls(items: list[Any]) -> Iterator[tuple[str, Any]]:
    """(param, URL) of every ``input_image`` in messages' content and in tool outputs given as parts."""
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        for field in ("content", "output"):
            parts = item.get(field)
            for j, part in enumerate(parts if isinstance(parts, list) else []):
                if isinstance(part, dict) and part.get("type") == "input_image":
                    yield f"input[{i}].{field}[{j}].image_url", part.get("image_url")


def check_image_urls(items: list[Any], schemes: tuple[str, ...]) -> None:
    """A 400 naming the part when an ``input_image`` URL uses a scheme the operator does not allow."""
    for param, url in _image_urls(items):
        if not isinstance(url, str):
            continue
        scheme = url.partition(":")[0].lower() if ":" in url else ""
        if scheme not in schemes:
            raise invalid(
                f"Invalid image URL scheme {scheme or '(none)'!r}: this server allows {', '.join(schemes)}.",
                param,
                "invalid_image_url",
            )


# ---------------------------------------------------------------------------------------------- slots


class StreamSlots:
    """Responses in progress, in all and per client; over a limit, :meth:`take` is a 429."""

    def __init__(self, total: int, per_client: int) -> None:
        self._total, self._per_client = total, per_client
        self._in_use = 0
        self._by_client: dict[str, int] = {}

    def take(self, client: str) -> Callable[[], None]:
        """Take a slot for ``client``; returns the function that gives it back (once)."""
        if self._in_use >= self._total:
            raise _busy(f"the server has {self._total} responses in progress, its limit")
        if self._by_client.get(client, 0) >= self._per_client:
            raise _busy(f"you have {self._per_client} responses in progress, the limit per client")
        self._in_use += 1
        self._by_client[client] = self._by_client.get(client, 0) + 1
        given_back = False

        def give_back() -> None:
            nonlocal given_back
            if given_back:
                return
            given_back = True
            self._in_use -= 1
            left = self._by_client[client] - 1
            if left:
                self._by_client[client] = left
            else:
                del self._by_client[client]

        return give_back


def _busy(why: str) -> BridgeError:
    return BridgeError(429, f"Too many requests: {why}; retry later.", code="rate_limit_exceeded")


# ---------------------------------------------------------------------------------------------- upstream


class UpstreamLimitError(Exception):
    """An upstream body went over a limit: too large, or too long in all."""


async def guarded_body(
    body: AsyncIterator[bytes], config: ServerConfig, finished: Callable[[], bool]
) -> AsyncGenerator[bytes, None]:
    """``body``, bounded in size and total duration; ends quietly ``finish_grace`` seconds after
    ``finished()`` turns true (the ``finish_reason`` came; ``[DONE]`` or the end of the body did not)."""
    deadline = time.monotonic() + config.stream_timeout
    size = 0
    pieces = aiter(body)
    while True:
        wait = deadline - time.monotonic()
        grace = finished()
        if grace:
            wait = min(wait, config.finish_grace)
        piece: bytes | None = None
        if not grace and wait > config.read_timeout:
            # The upstream read timeout ends any silence first: no timer of our own for this read. A
            # cancel scope and timer per read cost a third of the bridge's streams per second
            # (benchmarks/bridge.py: one per upstream read, a few hundred per stream).
            try:
                piece = await anext(pieces)
            except StopAsyncIteration:
                return
        else:
            with anyio.move_on_after(max(wait, 0)):
                try:
                    piece = await anext(pieces)
                except StopAsyncIteration:
                    return
        if piece is None:  # the wait ran out (yielding happens outside the cancel scope, on purpose)
            if grace or finished():
                return
            raise UpstreamLimitError(f"upstream response took longer than {config.stream_timeout:g} s in all")
        size += len(piece)
        if size > config.max_upstream_bytes:
            raise UpstreamLimitError(
                f"upstream body larger than {config.max_upstream_bytes} bytes, the server's limit"
            )
        yield piece


def stream_body_kind(content_type: str) -> str:
    """``sse`` or ``json`` for a stream request's upstream answer; a 502 for anything else (an HTML
    page from a misconfigured proxy is not a model that said nothing)."""
    media = content_type.partition(";")[0].strip().lower()
    # No type, or text/plain: small servers send working SSE so; a body that is not SSE then ends in
    # response.failed (no chunk), never in an empty response.completed.
    if media in ("text/event-stream", "", "text/plain"):
        return "sse"
    if media == "application/json":
        return "json"
    raise BridgeError(
        502,
        f"upstream answered a stream request with {media!r}, not an event stream",
        kind="upstream_error",
        code="upstream_error",
    )


async def read_limited(body: AsyncIterator[bytes], limit: int) -> bytes:
    """A whole body, or a 502 once it is larger than ``limit`` bytes (nothing more is read)."""
    pieces: list[bytes] = []
    size = 0
    async for piece in body:
        size += len(piece)
        if size > limit:
            raise BridgeError(
                502,
                f"upstream body larger than {limit} bytes, the server's limit",
                kind="upstream_error",
                code="upstream_error",
            )
        pieces.append(piece)
    return b"".join(pieces)


# ---------------------------------------------------------------------------------------------- uvicorn

_RESPONSE_PATH = re.compile(r"(/responses/)[^/?#\s\"]+|(with id ')[^']*(?=')")


class RedactResponseIds(logging.Filter):
    """Hides the id in ``/responses/{id}`` paths of log records (uvicorn's access log is at INFO, and an id
    is what reads a stored response)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_redact(arg) for arg in record.args)
        record.msg = _redact(record.msg)
        return True


def _redact(value: Any) -> Any:
    return redact_ids(value) if isinstance(value, str) else value


def redact_ids(text: str) -> str:
    """``text`` with the id of every ``/responses/{id}`` path (and of a not-found message) as ``…``."""
    return _RESPONSE_PATH.sub(lambda m: f"{m.group(1) or m.group(2)}…", text)


def redact_access_log() -> Callable[[], None]:
    """Put :class:`RedactResponseIds` on uvicorn's access log; returns the function that takes it off."""
    access = logging.getLogger("uvicorn.access")
    redact = RedactResponseIds()
    access.addFilter(redact)
    return lambda: access.removeFilter(redact)


def uvicorn_options(config: ServerConfig) -> dict[str, Any]:
    """The uvicorn settings for the connection limits of ``config``."""
    from ._http import head_limits_protocol  # needs uvicorn, which only `serve` runs

    connections = inbound_connection_limit(config.max_inbound_connections)
    return {
        "http": head_limits_protocol(config.header_timeout, config.max_header_bytes, connections),
        "timeout_keep_alive": config.idle_timeout,
        "h11_max_incomplete_event_size": config.max_header_bytes,
        "limit_concurrency": connections,
    }


def inbound_connection_limit(wanted: int) -> int:
    """``wanted``, or less when the process may open fewer files: half the descriptors stay for the
    upstream connections, the store and the log (past the limit, accept() fails and the server hangs)."""
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (ImportError, OSError):  # not on Windows: nothing to fit
        return wanted
    if soft == resource.RLIM_INFINITY or wanted <= soft // 2:
        return wanted
    fitted = max(8, soft // 2)
    logger.warning(
        "serving at most %d connections at once, not %d: the process may open %d files", fitted, wanted, soft
    )
    return fitted
