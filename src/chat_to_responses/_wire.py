"""The wire path: Chat Completions SSE body bytes in, Responses SSE frames out.

This is what the HTTP bridge does for every request, so it builds no pydantic model: the chunk JSON is
parsed once by ``ChatSSEDecoder``, the translator works on the dicts, and ``encode_sse`` serialises its
dict events. The mapping code is the same as the typed path's (``StreamTranslator``); only the edges
differ. A body that breaks off (an exception from the byte iterable) ends in ``response.failed``.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from typing import Any

from ._sse import ChatSSEDecoder, encode_sse
from ._translator import StreamTranslator


class _Pipe:
    """Decoder + translator + framing: bytes of the upstream body in, bytes of Responses frames out."""

    def __init__(self, options: dict[str, Any]) -> None:
        self._translator = StreamTranslator(**options)
        self._decoder = ChatSSEDecoder()

    @property
    def done(self) -> bool:
        return self._translator.done

    def push(self, data: bytes) -> bytes:
        out: list[bytes] = []
        for chunk in self._decoder.decode(data):
            out.extend(map(encode_sse, self._translator.feed(chunk)))
            if self._translator.done:
                break
        return b"".join(out)

    def end(self, error: BaseException | None = None) -> bytes:
        frames = b"" if error is not None or self.done else self._drain_decoder()
        return frames + b"".join(map(encode_sse, self._translator.finish(error=error)))

    def _drain_decoder(self) -> bytes:
        out: list[bytes] = []
        for chunk in self._decoder.flush():
            out.extend(map(encode_sse, self._translator.feed(chunk)))
        return b"".join(out)


def translate_sse(body: Iterable[bytes], **options: Any) -> Iterator[bytes]:
    """Translate a Chat Completions SSE body, piece by piece, into Responses SSE frames.

    ``body`` yields the upstream's bytes as they arrive (any split); each yielded value is the frames
    produced by one piece, ready to write. Options are those of ``ChatCmplStreamHandler``.
    """
    pipe = _Pipe(options)
    try:
        for data in body:
            frames = pipe.push(data)
            if frames:
                yield frames
            if pipe.done:
                return
    except Exception as exc:
        yield pipe.end(exc)
        return
    yield pipe.end()


async def atranslate_sse(body: AsyncIterable[bytes], **options: Any) -> AsyncIterator[bytes]:
    """The async twin of :func:`translate_sse` (e.g. over ``httpx.Response.aiter_raw()``)."""
    pipe = _Pipe(options)
    try:
        async for data in body:
            frames = pipe.push(data)
            if frames:
                yield frames
            if pipe.done:
                return
    except Exception as exc:
        yield pipe.end(exc)
        return
    yield pipe.end()
