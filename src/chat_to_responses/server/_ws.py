"""WebSocket mode on ``/v1/responses``: one persistent connection, one ``response.create`` message per turn.

The protocol (OpenAI's Responses WebSocket mode, as Open Responses specifies it):

- Each client message is a ``response.create`` event: a ``POST /v1/responses`` body plus ``"type"``. The
  response is always streamed; ``stream`` and ``stream_options`` are ignored (Codex sends them),
  ``background`` is refused as over HTTP. The server answers with the same events as the SSE stream, one
  JSON text message each, ending with the terminal ``response.completed`` / ``incomplete`` / ``failed``.
- ``generate: false`` (a warmup) answers a completed response with no output without asking the upstream;
  the next turn can chain from it with ``previous_response_id``, its input included.
- Turns run one at a time, in the order they arrive; a message sent while a turn runs waits its turn.
- A request the bridge cannot run (malformed, unknown ``previous_response_id``, upstream HTTP error…) gets
  an error message ``{"type": "error", "status": <HTTP status>, "error": {type, code, message, param}}``
  and the connection stays open for the next turn.
- Continuation: the connection keeps its most recent response in memory (store or not), so
  ``previous_response_id`` naming it continues with only new input, even with ``store: false``. Other ids
  are looked up in the store as over HTTP; a ``store: false`` response of another (or a closed) connection
  is unknown: ``previous_response_not_found``. A turn that fails forgets the response it continued from,
  so a stale chain is never continued twice.
- Authentication is the HTTP one (``Authorization`` on the handshake); a bad key gets the error message,
  then the connection is closed (1008).
- A client that disconnects cancels the running turn and its upstream request at once.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import TYPE_CHECKING, Any

import anyio
from anyio.streams.memory import MemoryObjectSendStream
from starlette.websockets import WebSocket

from ._errors import BridgeError, invalid
from ._limits import guarded_body, parse_json_body, read_limited, redact_ids, stream_body_kind
from ._metrics import WEBSOCKET_ROUTE, RequestLabels
from ._request import ResponsesRequest
from ._routes import UpstreamRoute
from ._stream import ResponseEvents
from .store import StoredResponse

if TYPE_CHECKING:
    from ._app import _Bridge, _ResponseExchange

Json = dict[str, Any]

logger = logging.getLogger("chat_to_responses.server")

_IGNORED = ("type", "stream", "stream_options")
_QUEUED_LIMIT = 32  # messages waiting for the running turn; beyond that the client is not waiting for answers
_POLICY_VIOLATION = 1008
_CONTINUABLE = frozenset({"completed", "incomplete"})


def error_event(error: BridgeError) -> Json:
    """The WebSocket error message for ``error`` (a code is always present: the error's type otherwise)."""
    body = error.body()["error"]
    body["code"] = body.get("code") or error.kind
    return {"type": "error", "status": error.status, "error": body}


def _create_body(text: str) -> Json:
    event = parse_json_body(text)  # strict, as over HTTP: no NaN, bounded nesting
    if not isinstance(event, dict) or event.get("type") != "response.create":
        raise invalid("Expected a 'response.create' event.", "type", "invalid_event")
    if event.get("generate") not in (None, True, False):
        raise invalid("Invalid type for 'generate': expected a boolean.", "generate", "invalid_type")
    body = {key: value for key, value in event.items() if key not in _IGNORED}
    body["stream"] = True
    return body


class ResponsesWebSocket:
    """One WebSocket connection: its turns, run in order, and its most recent response."""

    def __init__(self, bridge: _Bridge, websocket: WebSocket) -> None:
        self._bridge = bridge
        self._ws = websocket
        self._authorization = websocket.headers.get("authorization")
        self._latest: StoredResponse | None = None
        self._started, self._first_pending, self._labels = 0.0, False, RequestLabels()  # the turn's metrics

    async def run(self) -> None:
        await self._ws.accept()
        try:
            self._bridge.check_key(self._ws)
        except BridgeError as error:
            await self._ws.send_json(error_event(error))
            await self._ws.close(_POLICY_VIOLATION)
            return
        inbox, outbox = anyio.create_memory_object_stream[str](_QUEUED_LIMIT)
        async with anyio.create_task_group() as group:
            group.start_soon(self._read, inbox, group.cancel_scope)
            async with outbox:
                async for text in outbox:
                    await self._turn(text)

    async def _read(self, inbox: MemoryObjectSendStream[str], scope: anyio.CancelScope) -> None:
        """Queue every client message; a disconnect cancels the running turn (and its upstream request)."""
        with inbox:
            while True:
                message = await self._ws.receive()
                if message["type"] == "websocket.disconnect":
                    scope.cancel()
                    return
                text = message.get("text")
                if text is None:
                    text = (message.get("bytes") or b"").decode("utf-8", "replace")
                try:
                    inbox.send_nowait(text)
                except anyio.WouldBlock:
                    logger.info("websocket: more than %d messages queued, closing", _QUEUED_LIMIT)
                    await self._ws.close(_POLICY_VIOLATION, "too many queued response.create messages")
                    scope.cancel()
                    return

    # ------------------------------------------------------------------ one turn

    async def _turn(self, text: str) -> None:
        """One turn, counted in the metrics like an HTTP request (route ``ws /v1/responses``)."""
        self._started, self._first_pending, self._labels = time.monotonic(), True, RequestLabels()
        status = await self._answer(text)
        self._bridge.metrics.count(WEBSOCKET_ROUTE, status, self._labels, time.monotonic() - self._started)

    async def _answer(self, text: str) -> int:
        """The turn; its status (200, or the status of the error event sent)."""
        previous: Any = None
        try:
            body = _create_body(text)
            previous = body.get("previous_response_id")
            # as over HTTP: owner, image URLs, a failed attempt's leftovers, the owned history
            parsed, owner, conversation, payload, route = await self._bridge.prepare(
                body, self._authorization, self._conversation
            )
        except BridgeError as error:
            self._forget(previous)
            logger.info("websocket response: error %d: %s", error.status, redact_ids(error.message))
            await self._ws.send_json(error_event(error))
            return error.status
        self._bridge.log_dropped(parsed.dropped)
        self._labels.upstream = route.name
        generate = body.get("generate") is not False
        self._bridge.metrics.streaming(+1)
        try:
            response, status = await (
                self._stream(route, parsed, conversation, payload, owner)
                if generate
                else self._warm(route, parsed, conversation, owner)
            )
        finally:
            self._bridge.metrics.streaming(-1)
        if response is not None and response.get("status") in _CONTINUABLE:
            self._latest = StoredResponse(response, conversation, owner)
        else:
            self._forget(previous)
        return status

    async def _conversation(self, parsed: ResponsesRequest, owner: str | None) -> list[Any]:
        """The connection's own latest response (kept in memory, stored or not), else the owner's stored."""
        latest = self._latest
        if latest is not None and parsed.previous_response_id == latest.id:
            return [*latest.continued(), *parsed.input_items]
        return await self._bridge._conversation(parsed, owner)

    def _forget(self, response_id: Any) -> None:
        if self._latest is not None and self._latest.id == response_id:
            self._latest = None

    async def _stream(
        self,
        route: UpstreamRoute,
        parsed: ResponsesRequest,
        conversation: list[Any],
        payload: Json,
        owner: str | None,
    ) -> tuple[Json | None, int]:
        """Run the turn against the upstream, sending each event; the terminal response (``None`` after an
        error event) and the status."""
        from ._app import _ResponseExchange  # the HTTP exchange's translator and store, shared

        exchange = _ResponseExchange(
            self._bridge, route, parsed, conversation, payload, self._authorization, owner, self._labels
        )
        pipe = ResponseEvents(
            exchange._translator(), parsed.tools.names, reasoning_text=parsed.reasoning_text
        )
        try:
            give_back = self._bridge.take_slot(owner, self._ws)
            try:
                await self._run(payload, pipe, exchange)
            finally:
                give_back()
        except BridgeError as error:
            logger.info("websocket response: error %d", error.status)  # no id at INFO (see the HTTP path)
            await self._ws.send_json(error_event(error))
            return None, error.status
        logger.info("websocket response: %s", (pipe.response or {}).get("status"))
        return pipe.response, 200

    async def _run(self, payload: Json, pipe: ResponseEvents, exchange: _ResponseExchange) -> None:
        """The upstream answer through the same guards as over HTTP (kind, size, deadline, finish grace)."""
        config = exchange.config
        async with exchange.route.client.stream(payload, self._authorization) as upstream:
            is_json = stream_body_kind(upstream.headers.get("content-type", "")) == "json"
            body = guarded_body(upstream.aiter_bytes(), config, lambda: pipe.finish_seen)
            async with aclosing(body):
                if not is_json:
                    await self._relay(body, pipe, exchange)
                    return
                try:
                    events = (
                        pipe.push_json_body(await read_limited(body, config.max_upstream_bytes)) + pipe.end()
                    )
                except Exception as exc:  # cut, too large, too long: response.failed, as over HTTP
                    events = pipe.end(exc)
                await self._send(pipe, exchange, events)

    async def _warm(
        self, route: UpstreamRoute, parsed: ResponsesRequest, conversation: list[Any], owner: str | None
    ) -> tuple[Json | None, int]:
        """``generate: false``: a response with no output and no upstream request, to chain from."""
        from ._app import _ResponseExchange

        exchange = _ResponseExchange(
            self._bridge, route, parsed, conversation, {}, self._authorization, owner
        )
        pipe = ResponseEvents(exchange._translator(), parsed.tools.names)
        await self._send(pipe, exchange, pipe.end())
        return pipe.response, 200

    async def _relay(
        self, body: AsyncIterator[bytes], pipe: ResponseEvents, exchange: _ResponseExchange
    ) -> None:
        error: Exception | None = None
        while True:
            try:
                data = await anext(body)
            except StopAsyncIteration:
                break
            except Exception as exc:  # the upstream broke off mid-stream: the client gets response.failed
                error = exc
                break
            await self._send(pipe, exchange, pipe.push(data))  # a send error is the client's, raised as is
            if pipe.done:
                return
        await self._send(pipe, exchange, pipe.end(error, empty_fails=True))

    async def _send(self, pipe: ResponseEvents, exchange: _ResponseExchange, events: list[Json]) -> None:
        if events and pipe.done and pipe.response is not None:
            await exchange._on_terminal(pipe.response)  # stored before the client sees the terminal event
        if events and self._first_pending:
            self._first_pending = False
            self._bridge.metrics.first_event(WEBSOCKET_ROUTE, time.monotonic() - self._started)
        for event in events:
            await self._ws.send_text(json.dumps(event, separators=(",", ":"), ensure_ascii=False))
