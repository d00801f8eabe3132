"""The wire path gives, byte for byte, the frames of the typed path, however the body is split."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chat_to_responses import SequentialIds, encode_sse, read_chunk_file, translate
from chat_to_responses._fixtures import StreamTurn
from chat_to_responses._sse import encode_chat_sse
from chat_to_responses._wire import atranslate_sse, translate_sse
from chat_to_responses.testing import check_stream

CORPUS = Path(__file__).parent.parent / "fixtures" / "chat-streams"
FILES = sorted(CORPUS.glob("*/*.jsonl"))


def _body(path: Path) -> bytes:
    chunks = read_chunk_file(path)
    return b"".join(encode_chat_sse(c) for c in chunks) + b"data: [DONE]\n\n"


def _frames_to_events(frames: bytes) -> list[dict[str, object]]:
    return [json.loads(f.split(b"\ndata: ", 1)[1]) for f in frames.split(b"\n\n") if f]


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_wire_path_equals_typed_path(path: Path) -> None:
    wire = b"".join(translate_sse([_body(path)], ids=SequentialIds()))
    typed = b"".join(encode_sse(e) for e in translate(read_chunk_file(path), ids=SequentialIds()))
    # Same events; a model dump orders keys by field and writes created_at as a float, so compare parsed.
    assert _frames_to_events(wire) == _frames_to_events(typed)
    assert check_stream(_frames_to_events(wire)) == []


@settings(max_examples=60)
@given(cuts=st.lists(st.integers(0, 20_000), max_size=30), index=st.integers(0, len(FILES) - 1))
def test_any_byte_split_gives_the_same_frames(cuts: list[int], index: int) -> None:
    body = _body(FILES[index])
    points = sorted({c % (len(body) + 1) for c in cuts} | {0, len(body)})
    pieces = [body[a:b] for a, b in itertools.pairwise(points)]
    whole = b"".join(translate_sse([body], ids=SequentialIds()))
    assert b"".join(translate_sse(pieces, ids=SequentialIds())) == whole


def test_a_body_that_breaks_off_ends_in_failed() -> None:
    turn = StreamTurn.from_file(CORPUS / "openai" / "text_usage_service_tier_obfuscation.jsonl")

    def body() -> Iterator[bytes]:
        for chunk in turn.chunks[:20]:
            yield encode_chat_sse(chunk)
        raise ConnectionResetError("upstream went away")

    events = _frames_to_events(b"".join(translate_sse(body(), ids=SequentialIds())))
    assert check_stream(events) == []
    assert events[-1]["type"] == "response.failed"
    assert "ConnectionResetError" in json.dumps(events[-1])


@pytest.mark.anyio
async def test_async_wire_path() -> None:
    path = CORPUS / "groq" / "kimi_parallel_tools.jsonl"
    body = _body(path)

    async def pieces() -> AsyncIterator[bytes]:
        for i in range(0, len(body), 97):
            yield body[i : i + 97]

    frames = b"".join([f async for f in atranslate_sse(pieces(), ids=SequentialIds())])
    assert frames == b"".join(translate_sse([body], ids=SequentialIds()))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
