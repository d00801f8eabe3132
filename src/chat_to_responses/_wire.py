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


def translate_sse(body: Iterable[bytes], **options: Any) -> Iterator[bytes]:
    """Translate a Chat Completions SSE body, piece by piece, into Responses SSE frames.

    ``body`` yields the upstream's bytes as they arrive (any split); each yielded value is the frames
    produced by one piece, ready to write. Options are those of ``ChatCmplStreamHandler``.
    """
    translator = StreamTranslator(**options)
    decoder = ChatSSEDecoder()
    try:
        for data in body:
            frames = _frames(translator, decoder.decode(data))
            if frames:
                yield frames
            if translator.done:
                return
    except Exception as exc:
        yield b"".join(map(encode_sse, translator.finish(error=exc)))
        return
    yield _frames(translator, decoder.flush()) + b"".join(map(encode_sse, translator.finish()))


async def atranslate_sse(body: AsyncIterable[bytes], **options: Any) -> AsyncIterator[bytes]:
    """The async twin of :func:`translate_sse` (e.g. over ``httpx.Response.aiter_raw()``)."""
    translator = StreamTranslator(**options)
    decoder = ChatSSEDecoder()
    try:
        async for data in body:
            frames = _frames(translator, decoder.decode(data))
            if frames:
                yield frames
            if translator.done:
                return
    except Exception as exc:
        yield b"".join(map(encode_sse, translator.finish(error=exc)))
        return
    yield _frames(translator, decoder.flush()) + b"".join(map(encode_sse, translator.finish()))


def _frames(translator: StreamTranslator, chunks: list[dict[str, Any]]) -> bytes:
    out: list[bytes] = []
    for chunk in chunks:
        out.extend(map(encode_sse, translator.feed(chunk)))
        if translator.done:
            break
    return b"".join(out)
