"""Test helpers for the Responses server: a fake Chat Completions upstream and a server-in-a-thread runner.

`FakeUpstream` is a plain ASGI app served over real HTTP on 127.0.0.1 (by `ServerThread`, uvicorn in a
thread on a port the OS picks). It answers ``POST /v1/chat/completions`` from a script of turns — the
library's own `StreamTurn` (recorded chunks from ``fixtures/chat-streams``, optionally slowed down or cut
off; a ``stream: false`` request gets the completion they add up to), `ErrorTurn` and `CompletionTurn`, plus
`Hang` (the upstream goes silent) — or from a `responder`
function of the request body. ``GET /v1/models`` returns a fixed list. Every request is kept as a `Served`
record: its body and headers, how many chunks went out, and whether the client closed the connection
before the end (`closed_early`, a threading.Event a test can wait on).

The chunk helpers (`retext`, `retarget_tool_call`, `completion_from_chunks`) rewrite a *recorded* stream
so a test can choose the words or the tool call while keeping the provider's real chunk shape.
"""

from __future__ import annotations

import copy
import itertools
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import uvicorn

from chat_to_responses import read_chunk_file
from chat_to_responses._sse import encode_chat_sse, encode_sse_done
from chat_to_responses.testing import CompletionTurn, ErrorTurn, StreamTurn

Json = dict[str, Any]
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "chat-streams"


def fixture(name: str) -> list[Json]:
    """The chunks of ``fixtures/chat-streams/<name>.jsonl``."""
    return read_chunk_file(FIXTURES / f"{name}.jsonl")


@dataclass(frozen=True)
class Hang:
    """The upstream goes silent after the headers (``headers_first``) or before them."""

    headers_first: bool = True


@dataclass(frozen=True)
class RawTurn:
    """Any answer at all: a status, headers and body pieces as given; then the end of the body, silence
    (``hang``), or ``forever`` sent again and again every ``interval`` seconds (SSE keep-alive comments)."""

    status: int = 200
    headers: tuple[tuple[str, str], ...] = (("content-type", "text/event-stream"),)
    pieces: tuple[bytes, ...] = ()
    hang: bool = False
    forever: bytes | None = None
    interval: float = 0.02


Turn = StreamTurn | ErrorTurn | CompletionTurn | Hang | RawTurn


@dataclass
class Served:
    """One request the fake upstream answered."""

    method: str
    path: str
    headers: dict[str, str]
    body: Json
    chunks_sent: int = 0
    finished: bool = False
    turn: Turn | None = None  # what it was answered with
    closed_early: threading.Event = field(default_factory=threading.Event)


class FakeUpstream:
    """An ASGI Chat Completions server answering from a script of turns (or a responder function)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.script: deque[Turn] = deque()
        self.responder: Callable[[Json], Turn] | None = None
        self.served: list[Served] = []
        self.models_turn: RawTurn | None = None  # GET /v1/models answers this instead of the fixed list

    def reset(self, *turns: Turn, responder: Callable[[Json], Turn] | None = None) -> FakeUpstream:
        with self._lock:
            self.script = deque(turns)
            self.responder = responder
            self.served = []
            self.models_turn = None
        return self

    @property
    def bodies(self) -> list[Json]:
        return [s.body for s in self.served if s.path.endswith("/chat/completions")]

    def _next_turn(self, body: Json) -> Turn:
        with self._lock:
            if self.responder is not None:
                return self.responder(body)
            if self.script:
                return self.script.popleft()
        return ErrorTurn(500, {"error": {"message": "fake upstream: script exhausted", "type": "fake"}})

    async def __call__(self, scope: Json, receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        served = Served(
            method=scope["method"],
            path=scope["path"],
            headers={k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]},
            body=json.loads(body) if body else {},
        )
        with self._lock:
            self.served.append(served)
        if scope["method"] == "GET" and scope["path"] == "/v1/models" and self.models_turn is not None:
            await _raw(self.models_turn, send)
            return
        if scope["method"] == "GET" and scope["path"] == "/v1/models":
            models = {"object": "list", "data": [{"id": "fake-model", "object": "model", "owned_by": "fake"}]}
            await _send_json(send, 200, models)
            return
        if scope["method"] != "POST" or scope["path"] != "/v1/chat/completions":
            await _send_json(send, 404, {"error": {"message": f"no route {scope['path']}", "type": "fake"}})
            return
        turn = self._next_turn(served.body)
        served.turn = turn
        if isinstance(turn, StreamTurn) and served.body.get("stream") is not True:
            turn = CompletionTurn(
                completion_from_chunks(turn.chunks)
            )  # what a real server does for stream=false
        async with anyio.create_task_group() as group:
            group.start_soon(_watch_disconnect, receive, served, group.cancel_scope)
            await _answer(turn, served, send)
            group.cancel_scope.cancel()


async def _lifespan(receive: Callable[..., Any], send: Callable[..., Any]) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _watch_disconnect(receive: Callable[..., Any], served: Served, scope: anyio.CancelScope) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    if not served.finished:
        served.closed_early.set()
    scope.cancel()


async def _send_json(
    send: Callable[..., Any], status: int, body: Any, headers: Mapping[str, str] | None = None
) -> None:
    content = json.dumps(body).encode()
    extra = ((k.encode(), v.encode()) for k, v in (headers or {}).items())
    raw = [(b"content-type", b"application/json"), *extra]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": content})


async def _answer(turn: Turn, served: Served, send: Callable[..., Any]) -> None:
    if isinstance(turn, ErrorTurn):
        served.finished = (
            True  # before the last write: the disconnect watcher must not take the end for a cut
        )
        await _send_json(send, turn.status_code, turn.body, turn.headers)
    elif isinstance(turn, CompletionTurn):
        served.finished = True
        await _send_json(send, 200, turn.completion)
    elif isinstance(turn, RawTurn):
        await _raw(turn, send)
    elif isinstance(turn, Hang):
        if turn.headers_first:
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"text/event-stream")],
                }
            )
        await anyio.sleep_forever()
    else:
        await _stream(turn, served, send)


async def _raw(turn: RawTurn, send: Callable[..., Any]) -> None:
    headers = [(k.encode(), v.encode()) for k, v in turn.headers]
    await send({"type": "http.response.start", "status": turn.status, "headers": headers})
    for piece in turn.pieces:
        await send({"type": "http.response.body", "body": piece, "more_body": True})
    while turn.forever is not None:
        await send({"type": "http.response.body", "body": turn.forever, "more_body": True})
        await anyio.sleep(turn.interval)
    if turn.hang:
        await anyio.sleep_forever()
    await send({"type": "http.response.body", "body": b""})


async def _stream(turn: StreamTurn, served: Served, send: Callable[..., Any]) -> None:
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]}
    )
    limit = len(turn.chunks) if turn.cut_after is None else turn.cut_after
    for chunk in turn.chunks[:limit]:
        await anyio.sleep(turn.delay)
        await send({"type": "http.response.body", "body": encode_chat_sse(chunk), "more_body": True})
        served.chunks_sent += 1
    if turn.cut_after is not None:
        return  # returning mid-body: uvicorn drops the connection, the client sees an incomplete body
    if turn.send_done:
        await send({"type": "http.response.body", "body": encode_sse_done(), "more_body": True})
    served.finished = True
    await send({"type": "http.response.body", "body": b""})


# ---------------------------------------------------------------------------------------------- servers


class ServerThread:
    """uvicorn serving an ASGI app on 127.0.0.1 (an OS-chosen port) in a background thread."""

    def __init__(self, app: Any, **options: Any) -> None:
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=0,
            log_level="warning",
            lifespan="on",
            timeout_graceful_shutdown=2,
            **options,
        )
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __enter__(self) -> ServerThread:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=10)


@contextmanager
def serving(app: Any, **options: Any) -> Iterator[str]:
    """The base URL (``http://127.0.0.1:<port>``) of ``app`` served for the duration of the block
    (``options``: more uvicorn settings)."""
    with ServerThread(app, **options) as thread:
        yield thread.url


@contextmanager
def running_bridge(upstream_url: str, **options: Any) -> Iterator[str]:
    """The Responses server in front of ``upstream_url`` (memory store unless told), with the connection
    limits ``serve`` sets; yields its /v1 URL."""
    from chat_to_responses.server import ServerConfig, create_app
    from chat_to_responses.server._limits import uvicorn_options

    config = ServerConfig(upstream=f"{upstream_url}/v1", **{"store": "memory", **options})
    with serving(create_app(config), **uvicorn_options(config)) as url:
        yield f"{url}/v1"


@contextmanager
def running_upstream() -> Iterator[tuple[FakeUpstream, str]]:
    """A fake upstream served on 127.0.0.1, and its base URL (without ``/v1``)."""
    upstream = FakeUpstream()
    with serving(upstream) as url:
        yield upstream, url


@contextmanager
def raw_upstream(answer: bytes) -> Iterator[str]:
    """An upstream on 127.0.0.1 answering every request with ``answer``, bytes as given (an HTTP status no
    ASGI server would send, say), then closing; yields its base URL (without ``/v1``)."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(5)
                _read_request(conn)
                conn.sendall(answer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


def _read_request(conn: socket.socket) -> None:
    data = b""
    while b"\r\n\r\n" not in data:
        piece = conn.recv(65536)
        if not piece:
            return
        data += piece
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.lower().split(b"\r\n")
    length = next((int(line[15:]) for line in lines if line.startswith(b"content-length:")), 0)
    while len(body) < length:
        piece = conn.recv(65536)
        if not piece:
            return
        body += piece


# ---------------------------------------------------------------------------------------------- chunks


def _delta(chunk: Json) -> Json:
    choices = chunk.get("choices") or [{}]
    delta: Json = choices[0].get("delta") or {}
    return delta


def _split(text: str, pieces: int) -> list[str]:
    size = max(1, -(-len(text) // pieces))
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def retext(chunks: Sequence[Json], text: str, pieces: int = 4) -> list[Json]:
    """A recorded text stream saying ``text`` instead (same envelope, reasoning and usage chunks)."""
    content = [
        i for i, c in enumerate(chunks) if isinstance(_delta(c).get("content"), str) and _delta(c)["content"]
    ]
    first, last = content[0], content[-1]
    said = []
    for piece in _split(text, pieces):
        chunk = copy.deepcopy(chunks[first])
        _delta(chunk)["content"] = piece
        said.append(chunk)
    return [*chunks[:first], *said, *chunks[last + 1 :]]


def retarget_tool_call(
    chunks: Sequence[Json], name: str, arguments: str, call_id: str = "call_fake_1"
) -> list[Json]:
    """A recorded one-call stream calling ``name(arguments)`` instead (same envelope, reasoning and usage)."""
    return retarget_tool_calls(chunks, [(call_id, name, arguments)])


def retarget_tool_calls(chunks: Sequence[Json], calls: Sequence[tuple[str, str, str]]) -> list[Json]:
    """A recorded stream of N calls (by ``index``) making ``calls`` instead: (call id, name, arguments)."""
    positions: dict[int, list[int]] = {}
    for i, chunk in enumerate(chunks):
        for fragment in _delta(chunk).get("tool_calls") or []:
            positions.setdefault(fragment.get("index", 0), []).append(i)
    if len(positions) != len(calls):
        raise ValueError(f"the recording makes {len(positions)} calls, not {len(calls)}")
    replaced: dict[int, list[Json]] = {}
    for (index, at), (call_id, name, arguments) in zip(sorted(positions.items()), calls, strict=True):
        opening = copy.deepcopy(chunks[at[0]])
        _delta(opening)["tool_calls"] = [
            {**_delta(opening)["tool_calls"][0], "id": call_id, "function": {"name": name, "arguments": ""}}
        ]
        pieces = []
        for piece in _split(arguments, 3):
            chunk = copy.deepcopy(chunks[at[-1]])
            _delta(chunk)["tool_calls"] = [{"index": index, "function": {"arguments": piece}}]
            pieces.append(chunk)
        replaced[at[0]] = [opening, *pieces]
        replaced.update((i, []) for i in at[1:])
    return [c for i, chunk in enumerate(chunks) for c in replaced.get(i, [chunk])]


def completion_from_chunks(chunks: Sequence[Json]) -> Json:
    """The non-streamed ``chat.completion`` a recorded stream adds up to (text, reasoning, calls, usage)."""
    content: list[str] = []
    reasoning: list[str] = []
    calls: dict[int, Json] = {}
    finish, usage = "stop", None
    for chunk in chunks:
        usage = chunk.get("usage") or usage
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            content.append(delta.get("content") or "")
            reasoning.append(delta.get("reasoning_content") or "")
            for fragment in delta.get("tool_calls") or []:
                call = calls.setdefault(
                    fragment.get("index", 0), {"type": "function", "function": {"name": "", "arguments": ""}}
                )
                call["id"] = fragment.get("id") or call.get("id")
                call.update(
                    {k: v for k, v in fragment.items() if k not in ("index", "id", "type", "function")}
                )
                function = fragment.get("function") or {}
                call["function"]["name"] += function.get("name") or ""
                call["function"]["arguments"] += function.get("arguments") or ""
            finish = choice.get("finish_reason") or finish
    message: Json = {"role": "assistant", "content": "".join(content) or None}
    if "".join(reasoning):
        message["reasoning_content"] = "".join(reasoning)
    if calls:
        message["tool_calls"] = [calls[i] for i in sorted(calls)]
    first = chunks[0]
    return {
        "id": first.get("id", "chatcmpl-fake"),
        "object": "chat.completion",
        "created": first.get("created", 0),
        "model": first.get("model", "fake-model"),
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": usage,
    }


# ---------------------------------------------------------------------------------------------- history


def _failed(served: Served) -> bool:
    """Whether the upstream's answer to ``served`` was a failure: cut, error object, or not a stream."""
    turn = served.turn
    if not isinstance(turn, StreamTurn):
        return True
    return turn.cut_after is not None or any("error" in chunk for chunk in turn.chunks)


def produced_message(turn: StreamTurn) -> Json:
    """The one assistant message a chat upstream expects back for a turn it streamed (as the bridge replays
    it by default: reasoning only on a tool-call turn)."""
    message = completion_from_chunks(turn.chunks)["choices"][0]["message"]
    produced: Json = {"role": "assistant", "content": message["content"]}
    if message.get("tool_calls"):
        produced["tool_calls"] = [
            {"id": c["id"], "name": c["function"]["name"], "arguments": c["function"]["arguments"]}
            for c in message["tool_calls"]
        ]
        if message.get("reasoning_content"):
            produced["reasoning_content"] = message["reasoning_content"]
    return produced


def _replayed(message: Json) -> Json:
    """An upstream request's assistant message in the form of `produced_message` (unknown keys kept)."""
    replayed = dict(message)
    if "tool_calls" in replayed:
        replayed["tool_calls"] = [
            {"id": c.get("id"), **{k: c.get("function", {}).get(k) for k in ("name", "arguments")}}
            for c in replayed["tool_calls"]
        ]
    return replayed


def _diff(before: list[Json], after: list[Json]) -> str:
    """Where two message lists part, briefly (for a failure message)."""
    at = next(
        (i for i, (b, a) in enumerate(zip(before, after, strict=False)) if b != a),
        min(len(before), len(after)),
    )
    return f"from message {at}, {_brief(before[at:])} became {_brief(after[at:])}"


def _brief(messages: list[Json]) -> str:
    parts = []
    for m in messages:
        calls = [c.get("id") for c in m.get("tool_calls") or []]
        text = str(m.get("content"))[:40]
        parts.append(f"{m.get('role')}({text!r}{f', calls={calls}' if calls else ''})")
    return "[" + ", ".join(parts) + "]"


def append_only_violations(served: Sequence[Served]) -> list[str]:
    """How the upstream requests break append-only history (none: an empty list).

    Each request's ``messages`` must be the previous request's, plus the ONE assistant message the
    upstream produced for it (same text, reasoning and tool calls), plus at least one new tool result or
    user message. After a failed answer (cut, error object, HTTP error) the retry must be the previous
    request's messages exactly: nothing of the failed attempt comes back.
    """
    requests = [s for s in served if s.path.endswith("/chat/completions")]
    problems: list[str] = []
    for number, (previous, current) in enumerate(itertools.pairwise(requests), start=2):
        before, after = previous.body["messages"], current.body["messages"]
        if _failed(previous):
            if after != before:
                changed = _diff(before, after)
                problems.append(
                    f"request {number} is a retry after a failure but its messages changed: {changed}"
                )
            continue
        assert isinstance(previous.turn, StreamTurn)
        if after[: len(before)] != before:
            problems.append(
                f"request {number} rewrites the messages of request {number - 1}: {_diff(before, after)}"
            )
            continue
        added = after[len(before) :]
        expected = produced_message(previous.turn)
        if not added or _replayed(added[0]) != expected:
            got = _replayed(added[0]) if added else None
            problems.append(f"request {number}: assistant message {got!r}, expected {expected!r}")
        if len(added) < 2 or any(m.get("role") not in ("tool", "user") for m in added[1:]):
            roles = [m.get("role") for m in added]
            problems.append(f"request {number} adds {roles} after request {number - 1}")
    return problems
