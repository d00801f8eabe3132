"""One streamed response: upstream body bytes in, Responses SSE frames out, the final response kept.

The same three pieces as the library's wire path (``_wire._Pipe``) — ``ChatSSEDecoder``, the core
``StreamTranslator``, ``encode_sse`` — composed here with two additions the server needs: function calls of
a flattened namespace get their name and namespace back in every event (``ToolNames.restore_event``), and
the terminal response is kept so it can be stored before the client sees the terminal event (a client that
chains ``previous_response_id`` right after ``response.completed`` must find it).

Every event is its own SSE frame. The frames go out through :func:`write_coalesced`: all the frames made
between two waits for the upstream go out in one write (they exist at the same moment, so no event
waits for another; the bridge rows of ``benchmarks/`` show what a write per event cost). A body that
breaks off (an exception from the byte iterator: the upstream dropped the connection, a read timeout)
ends in ``response.failed``, as do error objects inside the stream and vLLM's ``abort`` (the core's
rules): never a ``response.completed``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import Any

import anyio
import anyio.abc
import anyio.lowlevel

from .._completion import completion_to_chunk
from .._sse import ChatSSEDecoder, encode_sse
from .._translator import StreamTranslator
from ._echo import completed
from ._include import include_in_event
from ._tools import ToolNames

Json = dict[str, Any]
OnTerminal = Callable[[Json], Awaitable[None]]

_TERMINAL = frozenset({"response.completed", "response.incomplete", "response.failed"})
# Pieces of frames waiting for a slow client before the upstream is read no further (write_coalesced).
MAX_PENDING_WRITES = 64


class ResponseEvents:
    """Decoder + translator + name restoring, for one response (sans-IO)."""

    def __init__(
        self, translator: StreamTranslator, names: ToolNames, *, reasoning_text: bool = False
    ) -> None:
        self._translator = translator
        self._decoder = ChatSSEDecoder()
        self._names = names
        self._reasoning_text = reasoning_text  # include reasoning.encrypted_content (``_include``)
        self.response: Json | None = None  # the terminal event's response, once emitted
        self.finish_seen = False  # a choice's finish_reason came: only the usage chunk may still follow
        self._chunks_seen = False
        self._sequence = 0

    @property
    def done(self) -> bool:
        return self._translator.done

    def push(self, data: bytes) -> list[Json]:
        """Events for one piece of the upstream SSE body."""
        events: list[Json] = []
        for chunk in self._decoder.decode(data):
            self._chunks_seen = True
            if not self.finish_seen:
                self.finish_seen = _has_finish(chunk)
            events.extend(self._translator.feed(chunk))
            if self._translator.done:
                break
        return self._restored(events)

    def push_json_body(self, content: bytes) -> list[Json]:
        """A whole JSON body where a stream was asked for (some servers ignore ``stream``, or answer an error
        with status 200): a completion is translated as one chunk, anything else becomes the chunk that
        carries it, which the translator reports as failed when it is an error."""
        try:
            body = json.loads(content)
        except ValueError:
            body = {
                "error": {"message": f"upstream sent a body that is neither SSE nor JSON: {content[:200]!r}"}
            }
        chunk = completion_to_chunk(body) if isinstance(body, dict) and "choices" in body else body
        self._chunks_seen = True
        return self._restored(self._translator.feed(chunk))

    def end(self, error: BaseException | None = None, *, empty_fails: bool = False) -> list[Json]:
        """Events at the end of the upstream body (``error`` when it broke off). ``empty_fails``: a body
        that brought not a single chunk (nor ``[DONE]``) fails; it is no model that said nothing."""
        events: list[Json] = []
        if error is None and not self.done:
            for chunk in self._decoder.flush():
                self._chunks_seen = True
                events.extend(self._translator.feed(chunk))
        if empty_fails and error is None and not self._chunks_seen and not self._decoder.done:
            error = ValueError("upstream sent no event stream: not a single chunk came")
        events.extend(self._translator.finish(error=error))
        return self._restored(events)

    def _restored(self, events: list[Json]) -> list[Json]:
        if self._names.has_custom:  # a custom tool's call has other events: numbered again, in order
            out = [e for event in events for e in self._names.restore_events(event)]
            for event in out:
                event["sequence_number"], self._sequence = self._sequence, self._sequence + 1
        else:
            out = [self._names.restore_event(event) for event in events] if self._names else events
        if self._reasoning_text:
            out = [include_in_event(event) for event in out]
        if out and out[-1]["type"] in _TERMINAL:
            out[-1] = {**out[-1], "response": completed(out[-1]["response"])}
            self.response = out[-1]["response"]
        return out


def _has_finish(chunk: Any) -> bool:
    choices = chunk.get("choices") if isinstance(chunk, dict) else None
    return isinstance(choices, list) and any(isinstance(c, dict) and c.get("finish_reason") for c in choices)


async def _frames(events: list[Json], pipe: ResponseEvents, on_terminal: OnTerminal) -> bytes:
    """The SSE frames of ``events``, as one write; ``on_terminal`` runs first when they end the response."""
    if events and events[-1]["type"] in _TERMINAL and pipe.response is not None:
        await on_terminal(pipe.response)
    return b"".join(map(encode_sse, events))


async def sse_frames(
    body: AsyncIterator[bytes], pipe: ResponseEvents, on_terminal: OnTerminal
) -> AsyncGenerator[bytes, None]:
    """Responses SSE frames for an upstream SSE body, those of one upstream read together;
    ``on_terminal`` runs before the last frame is yielded.

    ``on_terminal`` must not raise: an exception here is taken for the upstream breaking off.
    """
    error: Exception | None = None
    try:
        async for data in body:
            events = pipe.push(data)
            if events:
                yield await _frames(events, pipe, on_terminal)
            if pipe.done:
                return
    except Exception as exc:  # the upstream broke off mid-stream: the client gets response.failed
        error = exc
    events = pipe.end(error, empty_fails=True)
    if events:
        yield await _frames(events, pipe, on_terminal)


async def json_body_frames(
    read: Callable[[], Awaitable[bytes]], pipe: ResponseEvents, on_terminal: OnTerminal
) -> AsyncGenerator[bytes, None]:
    """The frames for a whole JSON body answered to a stream request (``push_json_body``), as one write."""
    try:
        events = pipe.push_json_body(await read()) + pipe.end()
    except Exception as exc:  # the body broke off while being read
        events = pipe.end(exc)
    yield await _frames(events, pipe, on_terminal)


async def write_coalesced(
    frames: AsyncIterator[bytes],
    write: Callable[[bytes], Awaitable[None]],
    *,
    max_pending: int = MAX_PENDING_WRITES,
) -> None:
    """``write`` every piece of ``frames`` in order, the pieces made in one go joined into one write.

    httpx hands over the upstream body one HTTP chunk at a time, and a provider sends one chunk per SSE
    event, so one network read of a fast upstream yields hundreds of pieces with no wait in between: a
    write (a syscall, and the ASGI server's bookkeeping) for each is work the bridge need not do. Here a
    writer task writes everything made since its last write, and it runs whenever the reading side
    waits for the network: a frame waits for no later upstream data, only for the rest of the read that
    brought it. The first piece (``response.created``…) goes out at once. A client that reads slowly
    holds the upstream back once ``max_pending`` pieces wait, as a direct write would. An exception from
    ``write`` (the client went away) stops the reading, one from ``frames`` stops the writing; either is
    raised here as itself.
    """
    sender, receiver = anyio.create_memory_object_stream[bytes](max_pending)
    failure: list[Exception] = []

    async def writer(scope: anyio.CancelScope, *, task_status: anyio.abc.TaskStatus[None]) -> None:
        task_status.started()
        with receiver:
            try:
                async for first in receiver:
                    pieces = [first]
                    while True:
                        try:
                            pieces.append(receiver.receive_nowait())
                        except (anyio.WouldBlock, anyio.EndOfStream):
                            break
                    await write(b"".join(pieces))
            except Exception as exc:
                failure.append(exc)
                scope.cancel()

    async def read() -> None:
        with sender:
            first = True
            async for piece in frames:
                try:
                    sender.send_nowait(piece)  # no checkpoint: the writer runs when the reader waits
                except anyio.WouldBlock:
                    await sender.send(piece)
                if first:
                    first = False
                    await anyio.lowlevel.checkpoint()  # let the writer send the first piece now

    async with anyio.create_task_group() as group:
        await group.start(writer, group.cancel_scope)
        try:
            await read()
        except Exception as exc:  # raised as itself, as a plain loop would, not in an ExceptionGroup
            failure.append(exc)
            group.cancel_scope.cancel()
    if failure:
        raise failure[0]
