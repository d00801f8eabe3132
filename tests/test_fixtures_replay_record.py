"""Replaying corpus streams to the real openai clients, and recording them back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from chat_to_responses._fixtures import (
    CompletionTurn,
    ErrorTurn,
    RecordingTransport,
    ReplayTransport,
    StreamTurn,
    recording_client,
)
from chat_to_responses._sse import read_chunk_file

CORPUS = Path(__file__).parent.parent / "fixtures" / "chat-streams"
PARALLEL_TOOLS = CORPUS / "openai" / "parallel_tool_calls_two.jsonl"
MISTRAL_NO_INDEX = CORPUS / "mistral" / "tool_call_missing_index.jsonl"
GROQ_ERROR_EVENT = CORPUS / "groq" / "gptoss_error_event_midstream.jsonl"
CEREBRAS_NO_DONE = CORPUS / "cerebras" / "qwen3coder_parallel_tools_one_chunk.jsonl"
MESSAGES: list[Any] = [{"role": "user", "content": "What's the weather?"}]

# A request that fails in the SDK must not be retried behind the test's back (retries sleep, too).
NO_RETRIES: dict[str, Any] = {"api_key": "test-key", "base_url": "http://replay.test/v1", "max_retries": 0}

# openai 3 wraps transport errors raised while reading a stream; openai 2 lets httpx's through.
CUT_ERRORS = (openai.APIConnectionError, httpx.RemoteProtocolError)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# openai 3 annotates `http_client` as its own httpx2 client; it accepts httpx clients at runtime.
def sync_client(transport: httpx.BaseTransport, **options: Any) -> openai.OpenAI:
    http_client: Any = httpx.Client(transport=transport)
    return openai.OpenAI(**{**NO_RETRIES, **options}, http_client=http_client)


def async_client(transport: httpx.AsyncBaseTransport, **options: Any) -> openai.AsyncOpenAI:
    http_client: Any = httpx.AsyncClient(transport=transport)
    return openai.AsyncOpenAI(**{**NO_RETRIES, **options}, http_client=http_client)


def as_wire(chunk: Any) -> dict[str, Any]:
    """A chunk as the SDK built it (without validation), back in wire form."""
    dumped: dict[str, Any] = chunk.model_dump(exclude_unset=True, warnings=False)
    return dumped


def sync_stream(client: openai.OpenAI, model: str = "gpt-4o") -> Iterator[Any]:
    return iter(client.chat.completions.create(model=model, messages=MESSAGES, stream=True))


# ---------------------------------------------------------------------------------------------- replay


@pytest.mark.anyio
@pytest.mark.parametrize("path", [PARALLEL_TOOLS, MISTRAL_NO_INDEX, CEREBRAS_NO_DONE], ids=lambda p: p.stem)
async def test_async_client_receives_the_fixture_chunks(path: Path) -> None:
    transport = ReplayTransport.from_files(path)
    async with async_client(transport) as client:
        stream = await client.chat.completions.create(
            model="gpt-4o", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
        )
        received = [as_wire(chunk) async for chunk in stream]
    assert received == read_chunk_file(path)
    assert transport.request_bodies == [
        {"model": "gpt-4o", "messages": MESSAGES, "stream": True, "stream_options": {"include_usage": True}}
    ]
    assert transport.requests[0].url == "http://replay.test/v1/chat/completions"
    assert transport.streams[0].completed
    assert transport.remaining == 0


@pytest.mark.parametrize("path", [PARALLEL_TOOLS, MISTRAL_NO_INDEX], ids=lambda p: p.stem)
def test_sync_client_receives_the_fixture_chunks(path: Path) -> None:
    transport = ReplayTransport([path])
    with sync_client(transport) as client:
        received = [as_wire(chunk) for chunk in sync_stream(client)]
    assert received == read_chunk_file(path)
    assert transport.request_bodies[0]["stream"] is True


def test_raw_body_is_sse_frames_then_done() -> None:
    chunks: list[dict[str, Any]] = [{"id": "a", "choices": []}, {"error": {"message": "late"}}]
    with httpx.Client(transport=ReplayTransport([chunks])) as http:
        response = http.post("http://replay.test/v1/chat/completions", json={"stream": True})
    assert response.headers["content-type"] == "text/event-stream"
    assert response.text == (
        'data: {"id":"a","choices":[]}\n\n'
        'event: error\ndata: {"error":{"message":"late"}}\n\n'
        "data: [DONE]\n\n"
    )


def test_two_turn_script_serves_two_requests() -> None:
    transport = ReplayTransport.from_files(PARALLEL_TOOLS, MISTRAL_NO_INDEX)
    with sync_client(transport) as client:
        first = [as_wire(chunk) for chunk in sync_stream(client, "first")]
        second = [as_wire(chunk) for chunk in sync_stream(client, "second")]
    assert first == read_chunk_file(PARALLEL_TOOLS)
    assert second == read_chunk_file(MISTRAL_NO_INDEX)
    assert [body["model"] for body in transport.request_bodies] == ["first", "second"]
    assert len(transport.streams) == 2


def test_running_out_of_turns_is_a_clear_500_without_retries() -> None:
    transport = ReplayTransport([])
    with (
        sync_client(transport, max_retries=2) as client,
        pytest.raises(openai.InternalServerError, match="replay script exhausted") as caught,
    ):
        client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
    assert caught.value.status_code == 500
    assert len(transport.requests) == 1  # x-should-retry: false beat the SDK's default 2 retries


@pytest.mark.anyio
async def test_error_turn_gives_api_status_error() -> None:
    body = {"error": {"message": "Rate limit reached", "type": "rate_limit_error", "code": "rate_limit"}}
    transport = ReplayTransport([ErrorTurn(429, body), PARALLEL_TOOLS])
    async with async_client(transport) as client:
        with pytest.raises(openai.APIStatusError, match="Rate limit reached") as caught:
            await client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
        assert caught.value.status_code == 429
        assert caught.value.body == body["error"]
        # The error consumed its turn: the next request gets the next one.
        stream = await client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
        assert [as_wire(chunk) async for chunk in stream] == read_chunk_file(PARALLEL_TOOLS)


def test_sdk_retry_consumes_the_next_turn() -> None:
    transport = ReplayTransport([ErrorTurn(503, headers={"retry-after-ms": "1"}), PARALLEL_TOOLS])
    with sync_client(transport, max_retries=1) as client:
        assert len(list(sync_stream(client))) == len(read_chunk_file(PARALLEL_TOOLS))
    assert len(transport.requests) == 2


def test_groq_error_event_raises_after_the_chunks_before_it() -> None:
    chunks = read_chunk_file(GROQ_ERROR_EVENT)
    received: list[dict[str, Any]] = []
    with (
        sync_client(ReplayTransport([StreamTurn(chunks, send_done=False)])) as client,
        pytest.raises(openai.APIError, match="Tool call validation failed"),
    ):
        received.extend(as_wire(chunk) for chunk in sync_stream(client))
    assert received == chunks[:-1]


def test_non_stream_request_gets_a_400_unless_the_turn_is_a_completion() -> None:
    completion = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [
            {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "Sunny."}}
        ],
    }
    transport = ReplayTransport([PARALLEL_TOOLS, CompletionTurn(completion)])
    with sync_client(transport) as client:
        with pytest.raises(openai.BadRequestError, match="only stream=true requests are replayed"):
            client.chat.completions.create(model="m", messages=MESSAGES)
        answer = client.chat.completions.create(model="m", messages=MESSAGES)
    assert answer.choices[0].message.content == "Sunny."


def test_stream_request_for_a_completion_turn_gets_a_400() -> None:
    with (
        sync_client(ReplayTransport([CompletionTurn({})])) as client,
        pytest.raises(openai.BadRequestError, match="is a JSON completion but stream=true was asked"),
    ):
        client.chat.completions.create(model="m", messages=MESSAGES, stream=True)


def test_other_endpoints_get_404() -> None:
    transport = ReplayTransport([PARALLEL_TOOLS])
    with sync_client(transport) as client, pytest.raises(openai.NotFoundError):
        client.models.list()
    assert transport.remaining == 1
    assert transport.request_bodies == [{}]


@pytest.mark.anyio
async def test_cut_stream_raises_in_the_async_client() -> None:
    transport = ReplayTransport([StreamTurn.from_file(PARALLEL_TOOLS, cut_after=3)])
    received: list[dict[str, Any]] = []

    async def read_all(stream: openai.AsyncStream[Any]) -> None:
        async for chunk in stream:
            received.append(as_wire(chunk))

    async with async_client(transport) as client:
        stream = await client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
        with pytest.raises(CUT_ERRORS):
            await read_all(stream)
    assert received == read_chunk_file(PARALLEL_TOOLS)[:3]
    assert transport.streams[0].chunks_sent == 3
    assert transport.streams[0].closed_early


def test_cut_after_all_chunks_drops_the_done() -> None:
    chunks = read_chunk_file(PARALLEL_TOOLS)
    transport = ReplayTransport([StreamTurn(chunks, cut_after=len(chunks) + 5)])
    with sync_client(transport) as client, pytest.raises(CUT_ERRORS):
        list(sync_stream(client))


@pytest.mark.anyio
async def test_early_break_and_close_marks_the_stream_closed_early() -> None:
    transport = ReplayTransport.from_files(PARALLEL_TOOLS, PARALLEL_TOOLS)
    async with async_client(transport) as client:
        stream = await client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
        async for _ in stream:
            break
        assert not transport.streams[0].closed
        await stream.close()
        async with await client.chat.completions.create(model="m", messages=MESSAGES, stream=True) as stream:
            chunks = [as_wire(chunk) async for chunk in stream]
    assert transport.streams[0].closed_early
    assert transport.streams[0].chunks_sent == 1
    assert len(chunks) == len(read_chunk_file(PARALLEL_TOOLS))
    assert transport.streams[1].completed
    assert not transport.streams[1].closed_early


def test_early_break_sync() -> None:
    transport = ReplayTransport.from_files(PARALLEL_TOOLS)
    with sync_client(transport) as client:
        with client.chat.completions.create(model="m", messages=MESSAGES, stream=True) as stream:
            next(iter(stream))
        assert transport.streams[0].closed_early


@pytest.mark.anyio
async def test_delay_between_chunks() -> None:
    chunks = read_chunk_file(PARALLEL_TOOLS)[:3]
    transport = ReplayTransport([StreamTurn(chunks, delay=0.001)])
    async with async_client(transport) as client:
        stream = await client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
        assert [as_wire(chunk) async for chunk in stream] == chunks


# ------------------------------------------------------------------------------------------- recording


def recorded(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.anyio
async def test_async_recording_client_records_the_replayed_fixture(tmp_path: Path) -> None:
    base = openai.AsyncOpenAI(**NO_RETRIES)
    replay = ReplayTransport.from_files(PARALLEL_TOOLS)
    async with recording_client(base, tmp_path, transport=replay) as client:
        stream = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
        received = [as_wire(chunk) async for chunk in stream]
    await base.close()
    assert received == read_chunk_file(PARALLEL_TOOLS)
    assert [p.name for p in tmp_path.iterdir()] == ["0001-gpt-4o.jsonl"]
    assert recorded(tmp_path / "0001-gpt-4o.jsonl") == read_chunk_file(PARALLEL_TOOLS)


@pytest.mark.parametrize("path", [MISTRAL_NO_INDEX, GROQ_ERROR_EVENT, CEREBRAS_NO_DONE], ids=lambda p: p.stem)
def test_sync_recording_keeps_the_exact_objects(tmp_path: Path, path: Path) -> None:
    recorder = RecordingTransport(ReplayTransport([StreamTurn.from_file(path, send_done=False)]), tmp_path)
    with sync_client(recorder) as client:
        try:
            list(sync_stream(client, "meta-llama/Llama 3.3:70b"))
        except openai.APIError:
            assert path == GROQ_ERROR_EVENT
    assert recorder.paths == [tmp_path / "0001-meta-llama_Llama_3.3_70b.jsonl"]
    assert recorded(recorder.paths[0]) == read_chunk_file(path)


def test_recording_streams_through_to_a_private_file(tmp_path: Path) -> None:
    replay = ReplayTransport.from_files(PARALLEL_TOOLS)
    recorder = RecordingTransport(replay, tmp_path)
    with sync_client(recorder) as client:
        with client.chat.completions.create(model="m", messages=MESSAGES, stream=True) as stream:
            first = next(iter(stream))
            # The client got a chunk while the upstream still holds the rest: nothing was buffered.
            assert replay.streams[0].chunks_sent < len(read_chunk_file(PARALLEL_TOOLS))
            assert recorder.paths[0].stat().st_mode & 0o777 == 0o600  # conversations are the user's data
        lines = recorded(recorder.paths[0])
    assert lines[0] == as_wire(first)
    assert lines == read_chunk_file(PARALLEL_TOOLS)[: len(lines)]


def test_recording_writes_a_long_stream_as_it_goes(tmp_path: Path) -> None:
    """#17: every chunk was held in memory until the end (611 MB for 300k chunks)."""
    chunks = read_chunk_file(PARALLEL_TOOLS)
    long = [chunks[0], *([chunks[1]] * 5000), chunks[-1]]
    replay = ReplayTransport([StreamTurn(long)])
    recorder = RecordingTransport(replay, tmp_path)
    with (
        sync_client(recorder) as client,
        client.chat.completions.create(model="m", messages=MESSAGES, stream=True) as stream,
    ):
        pieces = iter(stream)
        for _ in range(4000):
            next(pieces)
        assert recorder.paths[0].stat().st_size > 100_000  # on disk while the stream goes on
        list(pieces)
    assert len(recorded(recorder.paths[0])) == len(long)


def test_two_recorders_sharing_a_folder_never_overwrite(tmp_path: Path) -> None:
    """#17: two servers recording into one folder overwrote each other's files."""
    first = RecordingTransport(ReplayTransport.from_files(PARALLEL_TOOLS), tmp_path)
    second = RecordingTransport(ReplayTransport.from_files(MISTRAL_NO_INDEX), tmp_path)  # same numbers
    for recorder in (first, second):
        with sync_client(recorder) as client:
            list(sync_stream(client, "m"))
    assert [first.paths, second.paths] == [[tmp_path / "0001-m.jsonl"], [tmp_path / "0002-m.jsonl"]]
    assert recorded(first.paths[0]) == read_chunk_file(PARALLEL_TOOLS)
    assert recorded(second.paths[0]) == read_chunk_file(MISTRAL_NO_INDEX)


def test_recording_numbers_files_after_existing_ones_and_skips_errors(tmp_path: Path) -> None:
    (tmp_path / "0007-old.jsonl").write_text("{}\n")
    replay = ReplayTransport([ErrorTurn(400), MISTRAL_NO_INDEX, PARALLEL_TOOLS])
    with sync_client(RecordingTransport(replay, tmp_path)) as client:
        with pytest.raises(openai.BadRequestError):
            list(sync_stream(client, "a"))
        list(sync_stream(client, "b"))
        list(sync_stream(client, "c"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["0007-old.jsonl", "0008-b.jsonl", "0009-c.jsonl"]


def test_recording_asks_for_an_uncompressed_body(tmp_path: Path) -> None:
    replay = ReplayTransport.from_files(PARALLEL_TOOLS)
    with sync_client(RecordingTransport(replay, tmp_path)) as client:
        list(sync_stream(client))
    assert replay.requests[0].headers["accept-encoding"] == "identity"


def test_recording_client_keeps_the_client_options(tmp_path: Path) -> None:
    with openai.OpenAI(api_key="k", base_url="http://upstream.test/v1", max_retries=5) as base:
        copy = recording_client(base, tmp_path)
        with copy:
            assert isinstance(copy, openai.OpenAI)
            assert (copy.api_key, copy.base_url, copy.max_retries) == ("k", base.base_url, 5)
            assert copy.timeout == base.timeout
        assert copy.is_closed()
        assert not base.is_closed()
