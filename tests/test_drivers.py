"""The drivers around the core, fed by the real openai client over a replayed upstream."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import httpx
import openai
import pytest
from openai.types.responses import Response

from chat_to_responses import ChatCmplStreamHandler, SequentialIds, atranslate, translate
from chat_to_responses._fixtures import ReplayTransport, StreamTurn
from chat_to_responses._sse import read_chunk_file
from chat_to_responses.testing import check_stream

CORPUS = Path(__file__).parent.parent / "fixtures" / "chat-streams"
TOOLS = CORPUS / "openai" / "parallel_tool_calls_two.jsonl"
TEXT = CORPUS / "openai" / "text_usage_service_tier_obfuscation.jsonl"


def _async_client(transport: ReplayTransport) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(
        api_key="test", base_url="http://upstream.test/v1", http_client=httpx.AsyncClient(transport=transport)
    )


async def _chat_stream(client: openai.AsyncOpenAI) -> Any:
    return await client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "hi"}], stream=True
    )


def test_translate_over_the_sync_client() -> None:
    transport = ReplayTransport.from_files(TOOLS)
    with (
        httpx.Client(transport=transport) as http,
        openai.OpenAI(api_key="t", base_url="http://upstream.test/v1", http_client=http) as client,
    ):
        stream = client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        events = list(translate(stream, ids=SequentialIds(), response={"model": "gpt-4o", "tools": []}))
    assert check_stream(events) == []
    final = events[-1]
    assert final.type == "response.completed"
    calls = [item for item in final.response.output if item.type == "function_call"]
    assert [c.name for c in calls] == ["GetWeatherArgs", "get_stock_price"]
    assert final.response.usage is not None
    assert final.response.usage.total_tokens > 0


def test_typed_events_equal_the_wire_form() -> None:
    chunks = read_chunk_file(TOOLS)
    typed = list(translate(chunks, ids=SequentialIds()))
    handler = ChatCmplStreamHandler(ids=SequentialIds())
    wire = [e for chunk in chunks for e in handler.feed_dicts(chunk)] + handler.finish_dicts()
    assert [e.model_dump(mode="json", exclude_unset=True) for e in typed] == wire


@pytest.mark.anyio
async def test_atranslate_over_the_async_client() -> None:
    transport = ReplayTransport.from_files(TEXT)
    async with _async_client(transport) as client:
        events = [e async for e in atranslate(await _chat_stream(client), ids=SequentialIds())]
    assert check_stream(events) == []
    assert events[-1].type == "response.completed"
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text
    assert text == events[-1].response.output[0].content[0].text  # type: ignore[union-attr]


@pytest.mark.anyio
async def test_a_dropped_connection_ends_in_failed_keeping_what_arrived() -> None:
    turn = StreamTurn(read_chunk_file(TEXT), cut_after=40)
    async with _async_client(ReplayTransport([turn])) as client:
        events = [e async for e in atranslate(await _chat_stream(client), ids=SequentialIds())]
    assert check_stream(events) == []
    failed = events[-1]
    assert failed.type == "response.failed"
    assert failed.response.error is not None
    assert failed.response.error.code == "server_error"
    assert "RemoteProtocolError" in failed.response.error.message
    message = failed.response.output[0]
    assert message.status == "incomplete"  # type: ignore[union-attr]
    streamed = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert streamed
    assert message.content[0].text == streamed  # type: ignore[union-attr]


@pytest.mark.anyio
async def test_handle_stream_drops_in_for_openai_agents() -> None:
    # openai-agents calls handle_stream(response, stream) with a placeholder Response like this one.
    placeholder = Response(
        id="__fake_id__",
        created_at=0,
        model="get-model",
        object="response",
        output=[],
        tool_choice="auto",
        top_p=None,
        temperature=None,
        tools=[],
        parallel_tool_calls=False,
        reasoning=None,
    )
    async with _async_client(ReplayTransport.from_files(TOOLS)) as client:
        stream = await _chat_stream(client)
        events = [
            e async for e in ChatCmplStreamHandler.handle_stream(placeholder, stream, ids=SequentialIds())
        ]
    assert check_stream(events) == []
    assert events[0].response.id == "resp_1"  # a real id, not the placeholder's
    assert events[-1].response.parallel_tool_calls is False  # the template is echoed
    assert events[-1].type == "response.completed"


def test_an_exception_from_the_chunk_iterable_becomes_failed() -> None:
    def chunks() -> Any:
        yield {"id": "c", "choices": [{"index": 0, "delta": {"content": "partial"}}]}
        raise ConnectionResetError("peer reset")

    events = list(translate(chunks(), ids=SequentialIds()))
    assert check_stream(events) == []
    assert events[-1].type == "response.failed"
    assert "ConnectionResetError: peer reset" in events[-1].response.error.message  # type: ignore[union-attr]
    assert events[-1].response.output[0].content[0].text == "partial"  # type: ignore[union-attr]


@pytest.mark.anyio
async def test_rate_limit_error_maps_to_rate_limit_code() -> None:
    request = httpx.Request("POST", "http://upstream.test/v1/chat/completions")
    error = openai.RateLimitError("slow down", response=httpx.Response(429, request=request), body=None)

    async def chunks() -> Any:
        yield {"id": "c", "choices": [{"index": 0, "delta": {"content": "x"}}]}
        await anyio.lowlevel.checkpoint()
        raise error

    events = [e async for e in atranslate(chunks(), ids=SequentialIds())]
    assert events[-1].response.error.code == "rate_limit_exceeded"  # type: ignore[union-attr]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
