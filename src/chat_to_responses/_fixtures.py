"""Replay recorded Chat Completions streams to a real openai client, and record live ones.

Both are httpx transports, so the real ``openai.OpenAI`` / ``openai.AsyncOpenAI`` clients (their SSE
parsing, retries, errors and stream closing included) run unchanged on top of them::

    replay = ReplayTransport.from_files("fixtures/chat-streams/openai/parallel_tool_calls_two.jsonl")
    client = openai.AsyncOpenAI(api_key="x", http_client=httpx.AsyncClient(transport=replay))

`ReplayTransport` serves a script of turns, one per ``POST .../chat/completions``: a `StreamTurn` (chunk
dicts sent as SSE, optionally slowed down or cut off), an `ErrorTurn` (an HTTP error status with a JSON
body) or a `CompletionTurn` (a non-streamed JSON completion). It keeps every request, and one
`ReplayStream` per streamed response telling whether the consumer read it to the end or closed it early.

`RecordingTransport` wraps any transport and tees each streamed chat completion body through
`ChatSSEDecoder` while the client reads it, writing the chunks in the corpus format (one compact JSON
object per line) once the body is exhausted or closed. Nothing is buffered on the way to the client.

These transports use the ``httpx`` package (openai 2 runs on it; openai 3 accepts ``httpx`` clients
beside its own ``httpx2``). ``httpx`` is a test dependency: import this module from tests and tools only.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import time
from collections import deque
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias, cast, overload

import anyio
import anyio.lowlevel
import httpx
import openai

from ._sse import ChatSSEDecoder, encode_chat_sse, encode_sse_done, read_chunk_file

__all__ = [
    "CompletionTurn",
    "ErrorTurn",
    "RecordingTransport",
    "ReplayStream",
    "ReplayTransport",
    "StreamTurn",
    "Turn",
    "TurnLike",
    "recording_client",
]

_CHAT_PATH_SUFFIX = "/chat/completions"


@dataclass(frozen=True)
class StreamTurn:
    """A streamed answer: each chunk as a ``data:`` frame, then ``data: [DONE]`` unless ``send_done`` is off.

    ``delay`` sleeps that many seconds before each chunk. ``cut_after`` drops the connection after that
    many chunks (before ``[DONE]``): reading on raises ``httpx.RemoteProtocolError``.
    """

    chunks: Sequence[Mapping[str, Any]]
    send_done: bool = True
    delay: float = 0.0
    cut_after: int | None = None

    @classmethod
    def from_file(
        cls,
        path: str | os.PathLike[str],
        *,
        send_done: bool = True,
        delay: float = 0.0,
        cut_after: int | None = None,
    ) -> StreamTurn:
        return cls(read_chunk_file(path), send_done=send_done, delay=delay, cut_after=cut_after)


@dataclass(frozen=True)
class ErrorTurn:
    """An HTTP error answer. The openai SDK retries 408/409/429/5xx unless ``x-should-retry: false``."""

    status_code: int
    body: Mapping[str, Any] = field(
        default_factory=lambda: {"error": {"message": "replayed error", "type": "replay_error", "code": None}}
    )
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CompletionTurn:
    """A non-streamed answer: the JSON ``chat.completion`` object for a ``stream: false`` request."""

    completion: Mapping[str, Any]


Turn: TypeAlias = StreamTurn | ErrorTurn | CompletionTurn
# A fixture path or a list of chunk dicts is shorthand for a StreamTurn of it.
TurnLike: TypeAlias = Turn | str | os.PathLike[str] | Sequence[Mapping[str, Any]]


def _as_turn(turn: TurnLike) -> Turn:
    if isinstance(turn, (StreamTurn, ErrorTurn, CompletionTurn)):
        return turn
    if isinstance(turn, (str, os.PathLike)):
        return StreamTurn.from_file(turn)
    return StreamTurn(list(turn))


class ReplayStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """The body of one replayed stream, frame by frame, and what the consumer did with it.

    ``frames_sent`` counts the frames handed out (chunks, then ``[DONE]``); ``completed`` is True once
    the last one was (the openai SDK stops reading at ``[DONE]``, so the end of the iteration is never
    reached); ``closed`` once the consumer closed the body. ``closed_early`` is what a consumer that
    ``break``s out must cause: the upstream stream closed before its end.
    """

    def __init__(self, turn: StreamTurn) -> None:
        self.turn = turn
        self.frames_sent = 0
        self.closed = False
        cut = turn.cut_after
        self._chunk_limit = len(turn.chunks) if cut is None else min(cut, len(turn.chunks))
        self._frames_total = self._chunk_limit + (1 if turn.send_done and cut is None else 0)
        # One pass, like a socket: the openai SDK iterates the body again to drain it after [DONE], and
        # that second iteration must go on where the first one stopped.
        self._body = self._frames()

    @property
    def chunks_sent(self) -> int:
        return min(self.frames_sent, self._chunk_limit)

    @property
    def completed(self) -> bool:
        return self.turn.cut_after is None and self.frames_sent == self._frames_total

    @property
    def closed_early(self) -> bool:
        return self.closed and not self.completed

    def _frames(self) -> Iterator[bytes]:
        yield from map(encode_chat_sse, itertools.islice(self.turn.chunks, self._chunk_limit))
        if self.turn.cut_after is not None:
            raise httpx.RemoteProtocolError(f"replay: connection cut after {self._chunk_limit} chunks")
        if self.turn.send_done:
            yield encode_sse_done()

    def __iter__(self) -> Iterator[bytes]:
        for frame in self._body:
            if self.turn.delay:
                time.sleep(self.turn.delay)
            self.frames_sent += 1
            yield frame

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for frame in self._body:
            if self.turn.delay:
                await anyio.sleep(self.turn.delay)
            else:
                await anyio.lowlevel.checkpoint()  # let cancellation in between chunks, as a socket would
            self.frames_sent += 1
            yield frame

    def close(self) -> None:
        self.closed = True

    async def aclose(self) -> None:
        self.closed = True


def _json_response(
    status_code: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None
) -> httpx.Response:
    return httpx.Response(status_code, json=body, headers=headers)


def _replay_error(status_code: int, message: str) -> httpx.Response:
    """An error of the replay itself: the SDK must fail at once, not retry it."""
    body = {"error": {"message": message, "type": "replay_error", "code": "replay_error"}}
    return _json_response(status_code, body, {"x-should-retry": "false"})


def _request_json(request: httpx.Request) -> dict[str, Any]:
    """The parsed JSON body, or {} for a request without one (it keeps `request_bodies` aligned)."""
    try:
        body = json.loads(request.content) if request.content else {}
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _is_chat_completions(request: httpx.Request) -> bool:
    return request.method == "POST" and request.url.path.rstrip("/").endswith(_CHAT_PATH_SUFFIX)


class ReplayTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """An httpx transport (sync and async) answering chat completion requests from a script of turns."""

    def __init__(self, turns: Iterable[TurnLike]) -> None:
        self._turns: deque[Turn] = deque(_as_turn(turn) for turn in turns)
        self._served = 0
        self.requests: list[httpx.Request] = []
        self.request_bodies: list[dict[str, Any]] = []
        self.streams: list[ReplayStream] = []

    @classmethod
    def from_files(cls, *paths: str | os.PathLike[str]) -> ReplayTransport:
        return cls(StreamTurn.from_file(path) for path in paths)

    @property
    def remaining(self) -> int:
        """How many turns are left to serve."""
        return len(self._turns)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        return self._respond(request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        return self._respond(request)

    def _respond(self, request: httpx.Request) -> httpx.Response:
        body = _request_json(request)
        self.requests.append(request)
        self.request_bodies.append(body)
        if not _is_chat_completions(request):
            return _replay_error(
                404, f"replay serves POST .../chat/completions only, not {request.method} {request.url}"
            )
        if not self._turns:
            return _replay_error(
                500, f"replay script exhausted: all {self._served} turns were already served"
            )
        self._served += 1
        return self._serve(self._turns.popleft(), streaming=body.get("stream") is True)

    def _serve(self, turn: Turn, *, streaming: bool) -> httpx.Response:
        if isinstance(turn, ErrorTurn):
            return _json_response(turn.status_code, turn.body, turn.headers)
        if isinstance(turn, CompletionTurn):
            if streaming:
                return _replay_error(
                    400, f"turn {self._served} is a JSON completion but stream=true was asked"
                )
            return _json_response(200, turn.completion)
        if not streaming:
            return _replay_error(
                400, f"turn {self._served} is a stream: only stream=true requests are replayed"
            )
        stream = ReplayStream(turn)
        self.streams.append(stream)
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=stream)


# ---------------------------------------------------------------------------------------------- recording

_UNSAFE_FILENAME_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


def _model_slug(request_body: Mapping[str, Any]) -> str:
    """The request's model as a file name part: `meta-llama/Llama-3.3-70B` -> `meta-llama_Llama-3.3-70B`."""
    model = request_body.get("model")
    slug = _UNSAFE_FILENAME_CHARS.sub("_", model).strip("._")[:80] if isinstance(model, str) else ""
    return slug or "unknown-model"


def _next_free_number(directory: Path) -> int:
    """One past the highest ``<n>-`` prefix already there, so a new session never overwrites one."""
    numbers = [int(m.group(1)) for p in directory.glob("*.jsonl") if (m := re.match(r"(\d+)-", p.name))]
    return max(numbers, default=0) + 1


class _RecordingStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """Passes the body through piece by piece, decoding a copy and writing its chunks as they come (a
    long stream is never held in memory); the file is closed when the body ends."""

    def __init__(self, inner: httpx.SyncByteStream | httpx.AsyncByteStream, file: Any) -> None:
        self._inner = inner
        self._file = file
        self._decoder = ChatSSEDecoder()
        self._written = False

    def __iter__(self) -> Iterator[bytes]:
        if not isinstance(self._inner, httpx.SyncByteStream):
            raise RuntimeError("recording: sync read of an async-only response stream")
        for piece in self._inner:
            self._record(self._decoder.decode(piece))
            yield piece
        self._write()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if not isinstance(self._inner, httpx.AsyncByteStream):
            raise RuntimeError("recording: async read of a sync-only response stream")
        async for piece in self._inner:
            self._record(self._decoder.decode(piece))
            yield piece
        self._write()

    def _record(self, chunks: list[dict[str, Any]]) -> None:
        # Small buffered writes (the file object's buffer): no thread hop per piece, no pause for others.
        if chunks and not self._written:
            lines = [json.dumps(c, separators=(",", ":"), ensure_ascii=False) + "\n" for c in chunks]
            self._file.write("".join(lines))

    def close(self) -> None:
        try:
            if isinstance(self._inner, httpx.SyncByteStream):
                self._inner.close()
        finally:
            self._write()

    async def aclose(self) -> None:
        try:
            if isinstance(self._inner, httpx.AsyncByteStream):
                await self._inner.aclose()
        finally:
            self._write()

    def _write(self) -> None:
        # Synchronous on purpose: the last few KB, and it must also happen in an aclose() run under
        # cancellation, where awaiting a worker thread would be cancelled first.
        if self._written:
            return
        self._record(self._decoder.flush())
        self._written = True
        self._file.close()


class RecordingTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Wraps a transport; writes every streamed chat completion to ``directory/<n>-<model>.jsonl``."""

    def __init__(
        self, inner: httpx.BaseTransport | httpx.AsyncBaseTransport, directory: str | os.PathLike[str]
    ) -> None:
        self.inner = inner
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._numbers = itertools.count(_next_free_number(self.directory))
        self.paths: list[Path] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not isinstance(self.inner, httpx.BaseTransport):
            raise TypeError(f"recording: {type(self.inner).__name__} is not a sync transport")
        self._prepare(request)
        return self._tee(request, self.inner.handle_request(request))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not isinstance(self.inner, httpx.AsyncBaseTransport):
            raise TypeError(f"recording: {type(self.inner).__name__} is not an async transport")
        self._prepare(request)
        return self._tee(request, await self.inner.handle_async_request(request))

    def close(self) -> None:
        if isinstance(self.inner, httpx.BaseTransport):
            self.inner.close()

    async def aclose(self) -> None:
        if isinstance(self.inner, httpx.AsyncBaseTransport):
            await self.inner.aclose()

    @staticmethod
    def _prepare(request: httpx.Request) -> None:
        # The tee sees the raw bytes off the wire: ask for them uncompressed (a gzipped body is passed
        # through unrecorded if the server compresses anyway).
        if _is_chat_completions(request):
            request.headers["accept-encoding"] = "identity"

    def _tee(self, request: httpx.Request, response: httpx.Response) -> httpx.Response:
        content_type = response.headers.get("content-type", "")
        encoding = response.headers.get("content-encoding", "identity")
        if not _is_chat_completions(request) or not content_type.startswith("text/event-stream"):
            return response
        if encoding != "identity":
            return response
        path, file = self._create(_model_slug(_request_json(request)))
        self.paths.append(path)
        response.stream = _RecordingStream(response.stream, file)
        return response

    def _create(self, slug: str) -> tuple[Path, Any]:
        """A new private (0600) file, never one that exists: another recorder may share the folder."""
        while True:
            path = self.directory / f"{next(self._numbers):04d}-{slug}.jsonl"
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # taken by another recorder since the scan: look again
                self._numbers = itertools.count(_next_free_number(self.directory))
                continue
            return path, os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace")


@overload
def recording_client(
    client: openai.OpenAI, directory: str | os.PathLike[str], *, transport: httpx.BaseTransport | None = None
) -> openai.OpenAI: ...
@overload
def recording_client(
    client: openai.AsyncOpenAI,
    directory: str | os.PathLike[str],
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> openai.AsyncOpenAI: ...
def recording_client(
    client: openai.OpenAI | openai.AsyncOpenAI,
    directory: str | os.PathLike[str],
    *,
    transport: httpx.BaseTransport | httpx.AsyncBaseTransport | None = None,
) -> openai.OpenAI | openai.AsyncOpenAI:
    """A copy of ``client`` (same base_url, key, options) that records its chat streams into ``directory``.

    The copy owns a new httpx client around a `RecordingTransport` of ``transport`` (default: a plain
    httpx transport, i.e. the network); closing the copy closes it. The original client is untouched.
    """
    # openai 3 annotates `http_client` as its own httpx2 client, yet accepts httpx clients (runtime check).
    if isinstance(client, openai.AsyncOpenAI):
        async_inner = transport if transport is not None else httpx.AsyncHTTPTransport()
        async_http = httpx.AsyncClient(
            transport=RecordingTransport(async_inner, directory), follow_redirects=True
        )
        return client.with_options(http_client=cast(Any, async_http))
    sync_inner = transport if transport is not None else httpx.HTTPTransport()
    sync_http = httpx.Client(transport=RecordingTransport(sync_inner, directory), follow_redirects=True)
    return client.with_options(http_client=cast(Any, sync_http))
