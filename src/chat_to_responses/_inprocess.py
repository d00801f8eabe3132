"""The Responses API in-process: openai clients whose ``responses.*`` run the bridge app with no server.

:func:`responses_client` returns a real ``openai.AsyncOpenAI`` whose HTTP transport routes by path: anything
under ``/v1/responses`` is answered by the same ASGI app as ``chat-to-responses serve`` (request
conversion, core translator, store for ``previous_response_id``); every other route (``/v1/models``,
``/v1/chat/completions``, …) is forwarded to the Chat Completions upstream, through the transport the app
uses upstream. Any framework that takes an openai client (Agents SDK, pydantic-ai, LangChain…) gets the
Responses API over a Chat Completions backend this way.

Theory of operation (async). httpx's own ``ASGITransport`` reads the whole body before returning, which
would defeat streaming, so each request runs the app as an asyncio task of its own: ``receive`` gives the
body, then waits for a disconnect; ``send`` puts messages on a small bounded queue (back-pressure: the app
does not run ahead of the reader). The transport returns as soon as ``http.response.start`` arrives, with a
body stream that yields pieces as they come. Closing that stream early is a client disconnect: the app
cancels the upstream request, and the task is cancelled and awaited. No anyio task group is held open
across the response, since its cancel scope would span the caller's own awaits. An asyncio task, not an
anyio one: the async client needs asyncio (under trio it raises a clear error; run ``serve`` instead).

The app's lifespan (the upstream client and the store) is entered on first use, in a task of its own, and
left when the client is closed. The sync client runs the same async transport on one event loop thread per
client (an anyio blocking portal), started on first use and stopped on ``close()``: a sync transport cannot
keep an event loop's state between calls otherwise. The async client uses no thread.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterator, MutableMapping
from contextlib import AbstractContextManager
from dataclasses import fields
from typing import Any, cast

import httpx
import openai
from anyio.from_thread import BlockingPortal, start_blocking_portal

from .server._app import create_app
from .server._config import ServerConfig
from .server._errors import error_body
from .server._upstream import pooled_transport

logger = logging.getLogger("chat_to_responses.inprocess")

Message = MutableMapping[str, Any]
App = Callable[
    [Message, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]
]

VIRTUAL_BASE_URL = "http://in-process.invalid/v1"
_VIRTUAL = httpx.URL(VIRTUAL_BASE_URL)
_RESPONSES_PATH = "/v1/responses"
# The virtual client's key when none is given: it stands for "no key" and is never sent upstream.
_NO_KEY = "chat-to-responses-in-process-no-key"
_QUEUE_SIZE = 16  # body pieces the app may produce ahead of the reader
_GRACE = 2.0  # seconds an app has to return after a disconnect before it is cancelled
_NOT_OPTIONS = frozenset({"upstream", "upstream_api_key", "api_key"})
_END = object()


class InProcessClientError(openai.OpenAIError, RuntimeError):
    """A misuse of the in-process client (closed, another event loop, not asyncio).

    An ``OpenAIError``, so that both openai lines raise it as is from a request (openai 2 would otherwise
    wrap an error from the transport into ``APIConnectionError``).
    """


class _AppFailed:
    def __init__(self, error: Exception) -> None:
        self.error = error


def config_for(upstream: str, options: dict[str, Any]) -> ServerConfig:
    """The bridge config for ``options`` (``ServerConfig`` fields; the store is in memory by default)."""
    allowed = {f.name for f in fields(ServerConfig)} - _NOT_OPTIONS
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise TypeError(
            f"responses_client() got unknown option(s) {', '.join(unknown)}; "
            f"the options are ServerConfig fields: {', '.join(sorted(allowed))}"
        )
    return ServerConfig(upstream=upstream, **{"store": "memory", **options})


def _require_asyncio() -> asyncio.AbstractEventLoop:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        raise InProcessClientError(
            "the in-process Responses client needs asyncio (it runs the bridge app as asyncio tasks); "
            "under trio, run `chat-to-responses serve` and point a plain client at it"
        ) from None


def _headers(request: httpx.Request, *, drop: frozenset[bytes] = frozenset()) -> list[tuple[bytes, bytes]]:
    """The request's headers (names in lower case) but ``drop``; the placeholder key means no key."""
    placeholder = f"Bearer {_NO_KEY}".encode("latin-1")
    return [
        (name, value)
        for name, value in ((k.lower(), v) for k, v in request.headers.raw)
        if name not in drop and not (name == b"authorization" and value == placeholder)
    ]


def _scope(request: httpx.Request) -> Message:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": request.url.scheme,
        "path": request.url.path,
        "raw_path": request.url.raw_path.split(b"?", 1)[0],
        "query_string": request.url.query,
        "root_path": "",
        "headers": _headers(request),
        "client": ("127.0.0.1", 0),
        "server": (request.url.host, request.url.port or 80),
        "state": {},
    }


class _Exchange:
    """One request to the app, running as a task; ``next_piece`` reads its body, ``aclose`` ends it."""

    def __init__(self, app: App, scope: Message, body: bytes) -> None:
        self._body: bytes | None = body
        self._queue: asyncio.Queue[Any] = asyncio.Queue(_QUEUE_SIZE)
        self._disconnect = asyncio.Event()
        self._done = False
        self._task = asyncio.get_running_loop().create_task(self._run(app, scope))

    async def _receive(self) -> Message:
        if self._body is not None:
            body, self._body = self._body, None
            return {"type": "http.request", "body": body, "more_body": False}
        await self._disconnect.wait()
        return {"type": "http.disconnect"}

    async def _send(self, message: Message) -> None:
        await self._queue.put(message)

    async def _run(self, app: App, scope: Message) -> None:
        try:
            await app(scope, self._receive, self._send)
        except Exception as exc:  # reported to the reader (a 500, or a broken body)
            await self._queue.put(_AppFailed(exc))
        else:
            await self._queue.put(_END)

    async def start(self) -> httpx.Response:
        try:
            message = await self._queue.get()
        except BaseException:  # the caller gave up before the headers: the app must stop too
            await self.aclose()
            raise
        if isinstance(message, dict) and message.get("type") == "http.response.start":
            headers = [(bytes(k), bytes(v)) for k, v in message.get("headers", [])]
            return httpx.Response(message["status"], headers=headers, stream=_AsyncBody(self))
        await self.aclose()
        if isinstance(message, _AppFailed):
            logger.error("in-process app failed before its response", exc_info=message.error)
        else:
            logger.error("in-process app ended without a response")
        return httpx.Response(
            500, json=error_body("The server had an error processing your request.", kind="server_error")
        )

    async def next_piece(self) -> bytes | None:
        """The next body piece, or ``None`` at the end of the body."""
        while not self._done:
            message = await self._queue.get()
            if isinstance(message, _AppFailed):
                await self.aclose()
                logger.error("in-process app failed during its response", exc_info=message.error)
                # What a client of `serve` sees when the server fails mid-body: a connection cut short.
                raise httpx.RemoteProtocolError(
                    f"the in-process app failed during the response: {message.error!r}"
                )
            if message is _END or not message.get("more_body", False):
                await self.aclose()  # the body is complete: the app is only cleaning up
            if message is not _END and message.get("body"):
                return bytes(message["body"])
        return None

    async def aclose(self) -> None:
        """End the exchange: a disconnect for the app, which then cancels the upstream and returns.

        The app is given a moment to do so itself (its own cancel scopes shield the upstream's closing);
        one that does not is cancelled.
        """
        self._done = True
        self._disconnect.set()
        await asyncio.wait([self._task], timeout=_GRACE)
        if not self._task.done():
            self._task.cancel()
            await asyncio.wait([self._task])


class _Lifespan:
    """The app's ASGI lifespan, run as a task of its own for the life of the client."""

    def __init__(self, app: App) -> None:
        self._inbox: asyncio.Queue[Message] = asyncio.Queue()
        self._outbox: asyncio.Queue[Message] = asyncio.Queue()
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": {}}
        self._task = asyncio.get_running_loop().create_task(self._run(app, scope))

    async def _run(self, app: App, scope: Message) -> None:
        await app(scope, self._inbox.get, self._outbox.put)

    async def step(self, name: str) -> None:
        """Send ``lifespan.<name>`` and wait for the app's answer; a failure is a RuntimeError."""
        await self._inbox.put({"type": f"lifespan.{name}"})
        answer = asyncio.ensure_future(self._outbox.get())
        await asyncio.wait([answer, self._task], return_when=asyncio.FIRST_COMPLETED)
        if not answer.done():
            answer.cancel()
            raise InProcessClientError(
                f"the bridge app's lifespan ended before {name}"
            ) from self._task.exception()
        message = answer.result()
        if message["type"] != f"lifespan.{name}.complete":
            await asyncio.wait([self._task])
            cause = None if self._task.cancelled() else self._task.exception()
            raise InProcessClientError(
                f"the bridge app's {name} failed: {message.get('message', '')}"
            ) from cause
        if name == "shutdown":
            await asyncio.wait([self._task])


class _AsyncBody(httpx.AsyncByteStream):
    def __init__(self, exchange: _Exchange) -> None:
        self.exchange = exchange

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while (piece := await self.exchange.next_piece()) is not None:
            yield piece

    async def aclose(self) -> None:
        await self.exchange.aclose()


class InProcessTransport(httpx.AsyncBaseTransport):
    """Routes ``/v1/responses…`` to the bridge app in-process and everything else to the upstream."""

    def __init__(
        self, config: ServerConfig, upstream_transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self._upstream_base = config.upstream.rstrip("/")
        self._owns_upstream = upstream_transport is None  # a given transport stays the caller's
        self._upstream = upstream_transport or pooled_transport(config)
        self._app = cast(App, create_app(config, upstream_transport=self._upstream))
        self._loop: asyncio.AbstractEventLoop | None = None
        self._started: asyncio.Future[None] | None = None
        self._lifespan: _Lifespan | None = None
        self._closed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        loop = _require_asyncio()
        if self._closed:
            raise InProcessClientError("this in-process Responses client is closed")
        if self._loop is None:
            self._loop = loop  # the upstream pool's connections belong to it too
        elif self._loop is not loop:
            raise InProcessClientError(
                "the in-process Responses client is bound to the event loop it was first used on; "
                "create one client per event loop"
            )
        if not _is_virtual(request.url):
            return await self._upstream.handle_async_request(request)
        path = request.url.path
        if path != _RESPONSES_PATH and not path.startswith(_RESPONSES_PATH + "/"):
            return await self._forward(request)
        await self._start(loop)
        exchange = _Exchange(self._app, _scope(request), await request.aread())
        return await exchange.start()

    async def _forward(self, request: httpx.Request) -> httpx.Response:
        rest = request.url.raw_path[len(_VIRTUAL.raw_path) :].decode("ascii")
        forwarded = httpx.Request(
            request.method,
            self._upstream_base + rest,
            headers=_headers(request, drop=frozenset({b"host"})),
            content=await request.aread(),
            extensions=request.extensions,
        )
        return await self._upstream.handle_async_request(forwarded)

    async def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Run the app's lifespan (upstream client, store) once, on first use."""
        if self._started is None:
            self._started = loop.create_future()
            try:
                await self._enter_lifespan()
            except Exception as exc:  # every later request fails the same way
                self._started.set_exception(exc)
                self._started.exception()  # retrieved: the first request raises it
                raise
            except BaseException:
                self._started.cancel()
                raise
            self._started.set_result(None)
            return
        await asyncio.shield(self._started)

    async def _enter_lifespan(self) -> None:
        lifespan = _Lifespan(self._app)
        await lifespan.step("startup")
        self._lifespan = lifespan

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            if self._lifespan is not None:
                await self._lifespan.step("shutdown")
        finally:
            if self._owns_upstream:
                await self._upstream.aclose()


def _is_virtual(url: httpx.URL) -> bool:
    return url.host == _VIRTUAL.host and url.raw_path.startswith(_VIRTUAL.raw_path)


# ---------------------------------------------------------------------------------------------- sync


async def _next_piece(pieces: AsyncIterator[bytes]) -> bytes | None:
    try:
        return await pieces.__anext__()
    except StopAsyncIteration:
        return None


class _SyncBody(httpx.SyncByteStream):
    """An async response body read one piece at a time on the portal's event loop."""

    def __init__(self, portal: BlockingPortal, response: httpx.Response) -> None:
        self._portal = portal
        self._response = response
        self._pieces = cast(AsyncGenerator[bytes, None], response.aiter_raw())

    def __iter__(self) -> Iterator[bytes]:
        while (piece := self._portal.call(_next_piece, self._pieces)) is not None:
            yield piece

    def close(self) -> None:
        self._portal.call(self._pieces.aclose)
        self._portal.call(self._response.aclose)


class SyncInProcessTransport(httpx.BaseTransport):
    """The sync face of :class:`InProcessTransport`: each step runs on one event loop thread of its own."""

    def __init__(
        self, config: ServerConfig, upstream_transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self._inner = InProcessTransport(config, upstream_transport)
        self._lock = threading.Lock()
        self._portal_cm: AbstractContextManager[BlockingPortal] | None = None
        self._portal: BlockingPortal | None = None
        self._closed = False

    def _running_portal(self) -> BlockingPortal:
        with self._lock:
            if self._closed:
                raise InProcessClientError("this in-process Responses client is closed")
            if self._portal is None:
                self._portal_cm = start_blocking_portal("asyncio")
                self._portal = self._portal_cm.__enter__()
            return self._portal

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        portal = self._running_portal()
        as_async = httpx.Request(
            request.method,
            request.url,
            headers=request.headers.raw,
            content=request.read(),
            extensions=request.extensions,
        )
        response = portal.call(self._inner.handle_async_request, as_async)
        return httpx.Response(
            response.status_code,
            headers=response.headers.raw,
            stream=_SyncBody(portal, response),
            extensions=response.extensions,
        )

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            portal, portal_cm = self._portal, self._portal_cm
            self._portal = self._portal_cm = None
        if portal is None or portal_cm is None:
            return
        try:
            portal.call(self._inner.aclose)
        finally:
            portal_cm.__exit__(None, None, None)


# ---------------------------------------------------------------------------------------------- factories

UpstreamLike = str | openai.AsyncOpenAI | openai.OpenAI


def _resolve(
    upstream: UpstreamLike, api_key: str | None, options: dict[str, Any]
) -> tuple[ServerConfig, httpx.AsyncBaseTransport | None, str | None]:
    """The config, the borrowed upstream transport (if any) and the upstream key for ``upstream``."""
    if isinstance(upstream, str):
        return config_for(upstream, options), None, api_key
    if not isinstance(upstream, (openai.AsyncOpenAI, openai.OpenAI)):
        raise TypeError(
            "upstream must be a Chat Completions base URL (str) or an openai.AsyncOpenAI / openai.OpenAI "
            f"client, not {type(upstream).__name__}"
        )
    config = config_for(str(upstream.base_url), options)
    inner = getattr(getattr(upstream, "_client", None), "_transport", None)
    # An httpx client's transport (a ReplayTransport, a proxy…) is reused; openai 3's own httpx2 is not.
    borrowed = inner if isinstance(inner, httpx.AsyncBaseTransport) else None  # not closed here
    return config, borrowed, api_key if api_key is not None else upstream.api_key


def responses_client(
    upstream: UpstreamLike, *, api_key: str | None = None, **options: Any
) -> openai.AsyncOpenAI:
    """A real ``openai.AsyncOpenAI`` whose ``responses.*`` run in-process over a Chat Completions upstream.

    Args:
        upstream: the Chat Completions base URL (``http://127.0.0.1:8000/v1``), or an existing
            ``openai.AsyncOpenAI`` / ``openai.OpenAI`` client for it (its base URL and key are used, and its
            transport when it is an ``httpx`` client).
        api_key: the upstream's key (default: the given client's, else none is sent).
        **options: :class:`~chat_to_responses.server.ServerConfig` fields (``store="memory"`` by default,
            ``default_model``, ``reasoning_output``, ``max_tokens_field``, ``read_timeout``…).

    ``client.responses.*`` run the same code as ``chat-to-responses serve`` with no socket and no thread;
    every other route goes to the upstream. Needs asyncio (not trio) and one event loop per client; close
    the client (``await client.close()`` or ``async with``) to release the upstream connections.
    """
    config, transport, key = _resolve(upstream, api_key, options)
    http = httpx.AsyncClient(transport=InProcessTransport(config, transport))
    # openai 3 annotates `http_client` as its own httpx2 client, yet accepts httpx clients (runtime check).
    return openai.AsyncOpenAI(api_key=key or _NO_KEY, base_url=VIRTUAL_BASE_URL, http_client=cast(Any, http))


def responses_client_sync(
    upstream: UpstreamLike, *, api_key: str | None = None, **options: Any
) -> openai.OpenAI:
    """The sync ``openai.OpenAI`` counterpart of :func:`responses_client` (same arguments).

    The bridge runs on an event loop thread of the client's own, started on first use and stopped by
    ``client.close()``.
    """
    config, transport, key = _resolve(upstream, api_key, options)
    http = httpx.Client(transport=SyncInProcessTransport(config, transport))
    return openai.OpenAI(api_key=key or _NO_KEY, base_url=VIRTUAL_BASE_URL, http_client=cast(Any, http))
