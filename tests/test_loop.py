"""The tool loop, through the real AsyncOpenAI client over a scripted multi-turn upstream.

Each test checks what the loop sends (the request bodies the replay transport captured) as well as
what it returns.
"""

from __future__ import annotations

import json
from contextlib import aclosing
from pathlib import Path
from typing import Any

import anyio
import openai
import pytest
from pydantic import BaseModel

from chat_to_responses import (
    ChatCompletionStreamHandler,
    ChunkStreamer,
    FunctionTool,
    MaxIterationsReached,
    RunCompleted,
    RunFailed,
    StreamEvent,
    ToolCall,
    ToolCallCompleted,
    ToolCallFailed,
    ToolCallStarted,
    ToolCallTimeout,
    ToolResult,
    UnknownToolError,
    UpstreamError,
    args_from_tool_call,
    default_tool_error_content,
    merge_tools_and_invokers,
    read_chunk_file,
    stream_until_user_input,
    stream_until_user_input_events,
)
from chat_to_responses.testing import ErrorTurn, ReplayTransport, StreamTurn
from helpers import CORPUS, chunk, replay_client

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _text_turn(text: str) -> list[dict[str, Any]]:
    usage = {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}
    return [chunk({"role": "assistant", "content": text}), chunk({}, "stop", usage=usage)]


def _calls_turn(*calls: tuple[str, str, str], trailing: int = 0) -> list[dict[str, Any]]:
    """Tool calls, each whole in its own chunk, then ``trailing`` chunks of nothing before the finish."""
    chunks = [
        chunk(
            {
                "tool_calls": [
                    {"index": i, "id": cid, "type": "function", "function": {"name": n, "arguments": a}}
                ]
            }
        )
        for i, (cid, n, a) in enumerate(calls)
    ]
    chunks += [chunk({}) for _ in range(trailing)]
    return [*chunks, chunk({}, "tool_calls")]


async def _echo(tool_call: ToolCall, context: Any) -> str:
    return f"echo {tool_call.function.arguments}"


TOOL = {"type": "function", "function": {"name": "echo", "parameters": {"type": "object", "properties": {}}}}


async def test_three_slow_tools_run_concurrently_while_the_model_streams() -> None:
    running, peak, frames_at_start = [0], [0], []

    async def slow(tool_call: ToolCall, context: Any) -> str:
        running[0] += 1
        peak[0] = max(peak[0], running[0])
        frames_at_start.append(transport.streams[0].frames_sent)
        await anyio.sleep(0.3)
        running[0] -= 1
        return "done"

    turn1 = StreamTurn(
        _calls_turn(("a", "slow", "{}"), ("b", "slow", "{}"), ("c", "slow", "{}"), trailing=5), delay=0.01
    )
    transport = ReplayTransport([turn1, _text_turn("all done")])
    tool = {**TOOL, "function": {**TOOL["function"], "name": "slow"}}
    async with replay_client(transport) as client:
        result = await stream_until_user_input(
            [{"role": "user", "content": "go"}], "m", client, tools=[tool], tool_invokers={"slow": slow}
        )
    assert peak[0] == 3  # all three ran at once (the seed ran them one after another)
    # The first tool started while the model was still streaming: 10 chunks + [DONE] were to come.
    assert frames_at_start[0] < 5
    tool_messages = [m for m in result.to_input_list() if m["role"] == "tool"]
    assert [m["tool_call_id"] for m in tool_messages] == ["a", "b", "c"]  # results in call order


async def test_openai_parallel_calls_replay_as_one_assistant_message() -> None:
    turn1 = read_chunk_file(CORPUS / "openai" / "parallel_tool_calls_two.jsonl")
    transport = ReplayTransport([turn1, _text_turn("Sunny, and AAPL is up.")])
    invokers = {"GetWeatherArgs": _echo, "get_stock_price": _echo}
    async with replay_client(transport) as client:
        result = await stream_until_user_input(
            [{"role": "user", "content": "weather and stock?"}], "gpt-4o", client, tool_invokers=invokers
        )
    second = transport.request_bodies[1]["messages"]
    assert [m["role"] for m in second] == ["user", "assistant", "tool", "tool"]
    assistant = second[1]
    assert [c["function"]["name"] for c in assistant["tool_calls"]] == ["GetWeatherArgs", "get_stock_price"]
    assert "reasoning_content" not in assistant  # nothing OpenAI did not send
    assert [m["tool_call_id"] for m in second[2:]] == [c["id"] for c in assistant["tool_calls"]]
    assert result.to_input_list()[-1] == {"role": "assistant", "content": "Sunny, and AAPL is up."}
    assert result.status == "completed"
    assert len(result.usages) == 2
    assert result.usages[1].prompt_tokens == 5  # chat usage objects, as the seed returned
    assert result.usages[1].total_tokens == 7
    kinds = [item["type"] for item in result.items]
    assert kinds == [
        "function_call",
        "function_call",
        "function_call_output",
        "function_call_output",
        "message",
    ]


async def test_deepseek_reasoning_content_is_passed_back_on_the_tool_turn() -> None:
    turn1 = read_chunk_file(CORPUS / "deepseek" / "reasoner_tool_call.jsonl")
    transport = ReplayTransport([turn1, _text_turn("It is 20°C.")])
    async with replay_client(transport) as client:
        await stream_until_user_input(
            [{"role": "user", "content": "weather?"}],
            "deepseek-reasoner",
            client,
            fallback_invoker=lambda n: _echo,
        )
    assistant = transport.request_bodies[1]["messages"][1]
    assert assistant["role"] == "assistant"
    assert assistant["tool_calls"]
    assert assistant["reasoning_content"]  # DeepSeek rejects the next turn without it


async def test_gemini_thought_signature_is_sent_back_on_its_call() -> None:
    turn1 = read_chunk_file(CORPUS / "google" / "gemini_compat_parallel_tools_no_index_SELF_AUTHORED.jsonl")
    transport = ReplayTransport([turn1, _text_turn("Paris 20, Tokyo 25.")])
    async with replay_client(transport) as client:
        await stream_until_user_input(
            [{"role": "user", "content": "weather?"}],
            "gemini-3",
            client,
            tool_invokers={"get_weather": _echo},
        )
    calls = transport.request_bodies[1]["messages"][1]["tool_calls"]
    assert calls[0]["extra_content"] == {"google": {"thought_signature": "<signature-placeholder>"}}
    assert "extra_content" not in calls[1]


async def test_anthropic_thinking_blocks_are_sent_back_with_their_signature() -> None:
    turn1 = [
        chunk(
            {
                "reasoning_content": "Let me check.",
                "thinking_blocks": [{"type": "thinking", "thinking": "Let me check."}],
            }
        ),
        chunk({"thinking_blocks": [{"type": "thinking", "thinking": "", "signature": "sig-abc"}]}),
        *_calls_turn(("toolu_1", "echo", '{"x":1}')),
    ]
    transport = ReplayTransport([turn1, _text_turn("ok")])
    async with replay_client(transport) as client:
        await stream_until_user_input(
            [{"role": "user", "content": "hi"}], "claude", client, tools=[TOOL], tool_invokers={"echo": _echo}
        )
    assistant = transport.request_bodies[1]["messages"][1]
    assert assistant["thinking_blocks"] == [
        {"type": "thinking", "thinking": "Let me check.", "signature": "sig-abc"}
    ]


async def test_unknown_tool_and_invalid_json_are_told_to_the_model() -> None:
    turn1 = _calls_turn(("a", "nope", "{}"), ("b", "echo", "{not json"))
    transport = ReplayTransport([turn1, _text_turn("sorry")])
    events = []
    async with (
        replay_client(transport) as client,
        aclosing(
            stream_until_user_input_events(
                [{"role": "user", "content": "hi"}], "m", client, tools=[TOOL], tool_invokers={"echo": _echo}
            )
        ) as stream,
    ):
        events = [e async for e in stream]
    failed = [e for e in events if isinstance(e, ToolCallFailed)]
    assert [type(e.exception).__name__ for e in failed] == ["UnknownToolError", "ToolInputError"]
    told = [m["content"] for m in transport.request_bodies[1]["messages"] if m["role"] == "tool"]
    assert "Unknown tool 'nope'" in told[0]
    assert "Available tools: echo" in told[0]
    assert "Invalid JSON arguments for tool 'echo'" in told[1]
    assert isinstance(events[-1], RunCompleted)


@pytest.mark.parametrize("mode", ["emit", "raise", "abort"])
async def test_tool_exception_modes(mode: str) -> None:
    async def boom(tool_call: ToolCall, context: Any) -> str:
        raise KeyError("missing-thing")

    transport = ReplayTransport([_calls_turn(("a", "echo", "{}")), _text_turn("recovered")])
    async with replay_client(transport) as client:
        call = stream_until_user_input(
            [{"role": "user", "content": "hi"}],
            "m",
            client,
            tools=[TOOL],
            tool_invokers={"echo": boom},
            on_tool_error=mode,  # type: ignore[arg-type]
        )
        if mode == "emit":
            result = await call
            told = next(m for m in transport.request_bodies[1]["messages"] if m["role"] == "tool")["content"]
            assert told == "Tool invocation failed."  # the seed's text: an exception's own text stays here
            assert result.to_input_list()[-1]["content"] == "recovered"
        else:
            with pytest.raises(KeyError) as info:
                await call
            assert len(transport.request_bodies) == 1  # nothing was sent after the failure
            if mode == "abort":
                assert info.value.result.messages[-1]["tool_calls"][0]["id"] == "a"  # type: ignore[attr-defined]


async def test_tool_timeout_is_reported() -> None:
    async def forever(tool_call: ToolCall, context: Any) -> str:
        await anyio.sleep(30)
        return "never"

    transport = ReplayTransport([_calls_turn(("a", "echo", "{}")), _text_turn("ok")])
    async with replay_client(transport) as client:
        with anyio.fail_after(5):
            await stream_until_user_input(
                [{"role": "user", "content": "hi"}],
                "m",
                client,
                tools=[TOOL],
                tool_invokers={"echo": forever},
                tool_timeout=0.1,
            )
    told = next(m for m in transport.request_bodies[1]["messages"] if m["role"] == "tool")["content"]
    assert told == "Tool 'echo' exceeded tool_timeout=0.1s and was cancelled."


async def test_structured_results_are_sent_as_json() -> None:
    class Weather(BaseModel):
        city: str
        temp: int

    results: dict[str, Any] = {
        "d": {"a": 1, "é": "ü"},
        "l": [1, 2],
        "m": Weather(city="Paris", temp=20),
        "r": ToolResult("plain", {"k": 1}),
    }

    async def structured(tool_call: ToolCall, context: Any) -> Any:
        return results[args_from_tool_call(tool_call)["k"]]

    turn1 = _calls_turn(*[(k, "echo", f'{{"k":"{k}"}}') for k in results])
    transport = ReplayTransport([turn1, _text_turn("ok")])
    async with replay_client(transport) as client:
        await stream_until_user_input(
            [{"role": "user", "content": "hi"}], "m", client, tools=[TOOL], tool_invokers={"echo": structured}
        )
    told = [m["content"] for m in transport.request_bodies[1]["messages"] if m["role"] == "tool"]
    assert told == ['{"a": 1, "é": "ü"}', "[1, 2]", '{"city":"Paris","temp":20}', "plain"]


async def test_max_iterations_carries_the_conversation() -> None:
    transport = ReplayTransport([_calls_turn(("a", "echo", "{}")), _calls_turn(("b", "echo", "{}"))])
    async with replay_client(transport) as client:
        with pytest.raises(MaxIterationsReached) as info:
            await stream_until_user_input(
                [{"role": "user", "content": "hi"}],
                "m",
                client,
                tools=[TOOL],
                tool_invokers={"echo": _echo},
                max_iterations=2,
            )
    messages = info.value.result.messages  # type: ignore[union-attr]
    assert [m["role"] for m in messages] == ["user", "assistant", "tool", "assistant", "tool"]


async def test_length_truncated_answer_ends_incomplete_with_its_text() -> None:
    turn = read_chunk_file(CORPUS / "deepseek" / "chat_finish_length.jsonl")
    transport = ReplayTransport([turn])
    async with replay_client(transport) as client:
        result = await stream_until_user_input(
            [{"role": "user", "content": "write"}], "deepseek-chat", client
        )
    assert result.status == "incomplete"
    assert result.incomplete_reason == "max_output_tokens"
    assert len(result.to_input_list()[-1]["content"]) > 100


async def test_upstream_failure_mid_stream_keeps_the_conversation() -> None:
    turn = read_chunk_file(CORPUS / "groq" / "gptoss_error_event_midstream.jsonl")
    transport = ReplayTransport([turn])
    async with replay_client(transport) as client:
        with pytest.raises(UpstreamError, match="Tool call validation failed") as info:
            await stream_until_user_input([{"role": "user", "content": "hi"}], "gpt-oss", client)
    assert info.value.result.messages == [{"role": "user", "content": "hi"}]  # type: ignore[attr-defined]


async def test_text_cut_by_a_failure_is_kept_in_the_items_but_not_replayed() -> None:
    turn = [chunk({"role": "assistant", "content": "The answer is"}), {"error": {"message": "overloaded"}}]
    transport = ReplayTransport([turn])
    events = await _run_events(transport)
    assert not any(
        isinstance(e, StreamEvent) and e.event.type == "response.output_item.done" for e in events
    )  # the cut message is never announced done
    failed = events[-1]
    assert isinstance(failed, RunFailed)
    assert failed.result is not None
    [item] = failed.result.items
    assert (item["type"], item["status"]) == ("message", "incomplete")
    assert item["content"][0]["text"] == "The answer is"
    assert failed.result.messages == [{"role": "user", "content": "hi"}]


async def test_a_call_cut_inside_its_arguments_is_never_run() -> None:
    ran: list[str] = []

    async def record(tool_call: ToolCall, context: Any) -> str:
        ran.append(tool_call.function.arguments)
        return "ran"

    call = {"index": 0, "id": "a", "type": "function", "function": {"name": "echo", "arguments": '{"q": "ha'}}
    transport = ReplayTransport([[chunk({"tool_calls": [call]}), chunk({}, "length")]])
    events = await _run_events(transport, tools=[TOOL], tool_invokers={"echo": record})
    assert ran == []
    assert not any(isinstance(e, (ToolCallStarted, ToolCallFailed)) for e in events)
    assert isinstance(events[-1], RunCompleted)
    assert events[-1].result.status == "incomplete"
    assert len(transport.request_bodies) == 1


async def test_http_error_before_the_stream_is_run_failed() -> None:
    transport = ReplayTransport(
        [ErrorTurn(400, {"error": {"message": "bad model", "type": "invalid_request_error"}})]
    )
    async with replay_client(transport) as client:
        events = [
            e async for e in stream_until_user_input_events([{"role": "user", "content": "hi"}], "m", client)
        ]
    assert isinstance(events[-1], RunFailed)
    assert isinstance(events[-1].exception, openai.BadRequestError)
    assert events[-1].result is not None


async def test_breaking_out_closes_the_upstream_stream_at_once() -> None:
    turn = StreamTurn(read_chunk_file(CORPUS / "openai" / "text_usage_service_tier_obfuscation.jsonl"))
    transport = ReplayTransport([turn])
    async with replay_client(transport) as client:
        async with aclosing(
            stream_until_user_input_events([{"role": "user", "content": "hi"}], "m", client)
        ) as events:
            async for event in events:
                if isinstance(event, StreamEvent) and event.event.type == "response.output_text.delta":
                    break
        assert transport.streams[0].closed_early


async def test_cancelling_the_consumer_closes_the_upstream_and_keeps_the_run() -> None:
    turn = StreamTurn(
        read_chunk_file(CORPUS / "openai" / "text_usage_service_tier_obfuscation.jsonl"), delay=0.01
    )
    transport = ReplayTransport([turn])
    caught: list[BaseException] = []
    async with replay_client(transport) as client:

        async def consume() -> None:
            try:
                await stream_until_user_input([{"role": "user", "content": "hi"}], "m", client)
            except anyio.get_cancelled_exc_class() as exc:
                caught.append(exc)
                raise

        with anyio.move_on_after(0.2):
            await consume()
    assert transport.streams[0].closed_early
    assert caught[0].result.messages == [{"role": "user", "content": "hi"}]  # type: ignore[attr-defined]


async def test_seed_style_handler_and_callback() -> None:
    class Collector(ChatCompletionStreamHandler):
        def __init__(self) -> None:
            self.deltas: list[str] = []
            self.args: list[str] = []

        async def on_content_delta(self, event: Any) -> None:
            self.deltas.append(event.delta)

        async def on_tool_calls_function_arguments_done(self, event: Any) -> None:
            self.args.append(event.arguments)

    outputs: list[tuple[str, str]] = []

    async def callback(tool_call: ToolCall, output: str) -> None:
        outputs.append((tool_call.id, output))

    transport = ReplayTransport([_calls_turn(("a", "echo", '{"q":1}')), _text_turn("Hello there")])
    handler = Collector()
    async with replay_client(transport) as client:
        await stream_until_user_input(
            [{"role": "user", "content": "hi"}],
            "m",
            client,
            stream_handler=handler,
            tools=[TOOL],
            tool_invokers={"echo": _echo},
            tool_call_output_callback=callback,
        )
    assert "".join(handler.deltas) == "Hello there"
    assert handler.args == ['{"q":1}']
    assert outputs == [("a", 'echo {"q":1}')]


async def test_the_handler_also_takes_the_sdks_chat_stream_events_as_the_seeds_did() -> None:
    class Collector(ChatCompletionStreamHandler[Any]):  # the seed's class was generic
        def __init__(self) -> None:
            self.calls: list[tuple[str, str]] = []

        async def on_chunk(self, event: Any) -> None:
            self.calls.append(("chunk", ""))

        async def on_content_delta(self, event: Any) -> None:
            self.calls.append(("delta", event.delta))

        async def on_content_done(self, event: Any) -> None:
            self.calls.append(("done", event.content))

    handler = Collector()
    transport = ReplayTransport([_text_turn("Hello there")])
    async with (
        replay_client(transport) as client,
        client.chat.completions.stream(model="m", messages=[{"role": "user", "content": "hi"}]) as s,
    ):
        async for event in s:
            await handler.handle(event)
    assert [c for c in handler.calls if c[0] != "chunk"] == [
        ("delta", "Hello there"),
        ("done", "Hello there"),
    ]
    assert ("chunk", "") in handler.calls


async def test_events_order_for_one_tool_turn() -> None:
    transport = ReplayTransport([_calls_turn(("a", "echo", "{}")), _text_turn("ok")])
    async with replay_client(transport) as client:
        events = [
            e
            async for e in stream_until_user_input_events(
                [{"role": "user", "content": "hi"}], "m", client, tools=[TOOL], tool_invokers={"echo": _echo}
            )
        ]
    names = [type(e).__name__ for e in events if not isinstance(e, StreamEvent)]
    assert names == [
        "IterationStarted",
        "IterationCompleted",
        "ToolCallStarted",
        "ToolCallCompleted",
        "IterationStarted",
        "IterationCompleted",
        "RunCompleted",
    ]
    completed = next(e for e in events if isinstance(e, ToolCallCompleted))
    assert completed.result.content == "echo {}"
    assert isinstance(next(e for e in events if isinstance(e, ToolCallStarted)).tool_call, ToolCall)


async def test_events_follow_the_seeds_sequence_call_by_call() -> None:
    async def fails_first(tool_call: ToolCall, context: Any) -> str:
        if tool_call.id == "a":
            raise RuntimeError("x")
        return "ok"

    transport = ReplayTransport([_calls_turn(("a", "echo", "{}"), ("b", "echo", "{}")), _text_turn("ok")])
    events = await _run_events(transport, tools=[TOOL], tool_invokers={"echo": fails_first})
    calls = [
        (type(e).__name__, e.tool_call.id)
        for e in events
        if isinstance(e, (ToolCallStarted, ToolCallFailed, ToolCallCompleted))
    ]
    assert calls == [
        ("ToolCallStarted", "a"),
        ("ToolCallFailed", "a"),
        ("ToolCallCompleted", "a"),
        ("ToolCallStarted", "b"),
        ("ToolCallCompleted", "b"),
    ]


async def test_pydantic_tool_with_title_field_and_default_through_the_loop() -> None:
    from chat_to_responses import PydanticToolConfig, build_pydantic_tools_and_invokers

    class CreateIssue(BaseModel):
        """Open an issue."""

        title: str
        priority: int = 3

    seen: list[CreateIssue] = []

    async def create(issue: CreateIssue, context: Any) -> dict[str, Any]:
        seen.append(issue)
        return {"created": issue.title, "priority": issue.priority}

    tools, invokers = build_pydantic_tools_and_invokers([PydanticToolConfig(CreateIssue, create)])
    turn1 = _calls_turn(
        ("a", "create_issue", '{"title": "Crash", "priority": null}'), ("b", "create_issue", "{}")
    )
    transport = ReplayTransport([turn1, _text_turn("done")])
    async with replay_client(transport) as client:
        await stream_until_user_input(
            [{"role": "user", "content": "file it"}], "m", client, tools=tools, tool_invokers=invokers
        )
    sent_schema = transport.request_bodies[0]["tools"][0]["function"]["parameters"]
    assert "title" in sent_schema["properties"]  # the seed deleted this field
    assert seen == [CreateIssue(title="Crash", priority=3)]  # null → the default
    told = [m["content"] for m in transport.request_bodies[1]["messages"] if m["role"] == "tool"]
    assert told[0] == '{"created": "Crash", "priority": 3}'
    assert "title" in told[1]  # the validation error names the missing field, for the model to retry


async def test_mcp_stdio_tool_through_the_loop() -> None:
    import sys

    from chat_to_responses import MCPServerConfig, MCPToolset

    server = Path(__file__).parent / "mcp_servers" / "demo_server.py"
    config = MCPServerConfig(command=sys.executable, args=[str(server), "stdio"], server_label="demo")
    turn1 = _calls_turn(("a", "demo__add", '{"a": 2, "b": 3}'), ("b", "demo__echo_meta", "{}"))
    transport = ReplayTransport([turn1, _text_turn("5")])
    async with MCPToolset([config]) as toolset, replay_client(transport) as client:
        await stream_until_user_input(
            [{"role": "user", "content": "add"}],
            "m",
            client,
            tools=toolset.tools,
            tool_invokers=toolset.invokers,
            context={"user": "u-1"},
        )
    names = [t["function"]["name"] for t in transport.request_bodies[0]["tools"]]
    assert "demo__add" in names
    told = [m["content"] for m in transport.request_bodies[1]["messages"] if m["role"] == "tool"]
    assert "5" in told[0]
    assert "u-1" in told[1]  # the run's context reached the MCP server in _meta


# ---------------------------------------------------------------------------------------------- seed parity


async def _run_events(transport: ReplayTransport, **options: Any) -> list[Any]:
    async with replay_client(transport) as client:
        stream = stream_until_user_input_events([{"role": "user", "content": "hi"}], "m", client, **options)
        async with aclosing(stream):
            return [e async for e in stream]


def _lifecycle(events: list[Any]) -> list[str]:
    return [type(e).__name__ for e in events if not isinstance(e, StreamEvent)]


def _told(transport: ReplayTransport, turn: int = 1) -> list[str]:
    return [m["content"] for m in transport.request_bodies[turn]["messages"] if m["role"] == "tool"]


async def test_emit_yields_failed_then_completed_and_never_sends_the_exception_text() -> None:
    async def leaky(tool_call: ToolCall, context: Any) -> str:
        raise ConnectionError("postgres://admin:hunter2@db.internal:5432/prod unreachable")

    outputs: list[str] = []

    async def callback(tool_call: ToolCall, output: str) -> None:
        outputs.append(output)

    transport = ReplayTransport([_calls_turn(("a", "echo", "{}")), _text_turn("ok")])
    events = await _run_events(transport, tools=[TOOL], tool_invokers={"echo": leaky})
    assert _lifecycle(events)[2:5] == ["ToolCallStarted", "ToolCallFailed", "ToolCallCompleted"]
    failed = next(e for e in events if isinstance(e, ToolCallFailed))
    completed = next(e for e in events if isinstance(e, ToolCallCompleted))
    assert isinstance(failed.exception, ConnectionError)  # your code still sees the exception
    assert completed.result.content == "Tool invocation failed."
    assert "ConnectionError" in completed.result.metadata["error"]
    assert _told(transport) == ["Tool invocation failed."]
    assert "hunter2" not in json.dumps(transport.request_bodies[1])
    assert isinstance(events[-1], RunCompleted)

    # the callback form reports the failed call once, with what the model was told
    transport = ReplayTransport([_calls_turn(("a", "echo", "{}")), _text_turn("ok")])
    async with replay_client(transport) as client:
        await stream_until_user_input(
            [{"role": "user", "content": "hi"}],
            "m",
            client,
            tools=[TOOL],
            tool_invokers={"echo": leaky},
            tool_call_output_callback=callback,
        )
    assert outputs == ["Tool invocation failed."]


async def test_tool_error_content_is_configurable() -> None:
    async def boom(tool_call: ToolCall, context: Any) -> str:
        raise KeyError("k")

    def content(tool_call: ToolCall, exc: BaseException) -> str:
        if isinstance(exc, KeyError):
            return f"{tool_call.function.name} failed: missing {exc}"
        return default_tool_error_content(tool_call, exc)

    transport = ReplayTransport([_calls_turn(("a", "echo", "{}"), ("b", "nope", "{}")), _text_turn("ok")])
    await _run_events(transport, tools=[TOOL], tool_invokers={"echo": boom}, tool_error_content=content)
    assert _told(transport) == ["echo failed: missing 'k'", "Unknown tool 'nope'. Available tools: echo."]


async def test_a_schema_without_an_invoker_is_a_value_error_before_any_request() -> None:
    transport = ReplayTransport([_text_turn("never")])
    orphan = {"type": "function", "function": {"name": "foo__bar", "parameters": {}}}
    for options in ({"tools": [orphan]}, {"stream_kwargs": {"tools": [orphan]}}):
        with pytest.raises(ValueError, match=r"^No invoker for tool\(s\): \['foo__bar'\]$"):
            await _run_events(transport, **options)
    assert transport.request_bodies == []
    # fallback_invoker is asked for the schemas nothing else covers, and only for those
    asked: list[str] = []

    def fallback(name: str) -> Any:
        asked.append(name)
        return _echo

    transport = ReplayTransport([_calls_turn(("a", "foo__bar", "{}")), _text_turn("ok")])
    events = await _run_events(
        transport, tools=[TOOL, orphan], tool_invokers={"echo": _echo}, fallback_invoker=fallback
    )
    assert asked == ["foo__bar"]
    assert next(e for e in events if isinstance(e, ToolCallCompleted)).result.content == "echo {}"


async def test_an_invoker_overriding_a_tools_own_invoke_warns(caplog: pytest.LogCaptureFixture) -> None:
    tool = FunctionTool(tool_param=TOOL, invoker=_echo)  # type: ignore[arg-type]

    async def other(tool_call: ToolCall, context: Any) -> str:
        return "other"

    with caplog.at_level("WARNING", logger="chat_to_responses"):
        _, invokers = merge_tools_and_invokers(tools=[tool], tool_invokers={"echo": other})
    assert invokers["echo"] is other
    assert [r.getMessage() for r in caplog.records] == [
        "tool_invokers['echo'] overrides Tool.invoke from `tools=`"
    ]
    caplog.clear()
    merge_tools_and_invokers(tools=[tool])
    assert caplog.records == []


@pytest.mark.parametrize("mode", ["emit", "raise", "abort"])
async def test_pydantic_arguments_that_do_not_validate_follow_on_tool_error(mode: str) -> None:
    from pydantic import ValidationError

    from chat_to_responses import PydanticToolConfig, build_pydantic_tools_and_invokers

    class GetWeather(BaseModel):
        city: str

    async def weather(args: GetWeather, context: Any) -> str:
        return f"sunny in {args.city}"

    tools, invokers = build_pydantic_tools_and_invokers([PydanticToolConfig(GetWeather, weather)])
    transport = ReplayTransport([_calls_turn(("a", "get_weather", '{"town": "Oslo"}')), _text_turn("ok")])
    if mode == "raise":
        with pytest.raises(ValidationError):
            await _run_events(transport, tools=tools, tool_invokers=invokers, on_tool_error=mode)
        assert len(transport.request_bodies) == 1
        return
    events = await _run_events(transport, tools=tools, tool_invokers=invokers, on_tool_error=mode)
    failed = next(e for e in events if isinstance(e, ToolCallFailed))
    assert isinstance(failed.exception, ValidationError)
    if mode == "abort":
        assert isinstance(events[-1], RunFailed)
        assert isinstance(events[-1].exception, ValidationError)
        return
    [told] = _told(transport)  # the model's own mistake: told in full, once, so it can retry
    assert told.splitlines() == [
        "Invalid arguments for tool 'get_weather'; fix them and call the tool again:",
        "- city: Field required",
    ]


async def test_model_mistakes_follow_on_tool_error_too() -> None:
    transport = ReplayTransport([_calls_turn(("a", "nope", "{}")), _text_turn("never")])
    with pytest.raises(UnknownToolError, match="Unknown tool 'nope'") as info:
        await _run_events(transport, tools=[TOOL], tool_invokers={"echo": _echo}, on_tool_error="raise")
    assert isinstance(info.value, ValueError)  # the seed raised ValueError for a tool with no invoker


async def test_stream_options_are_sent_only_when_asked() -> None:
    transport = ReplayTransport([_text_turn("a"), _text_turn("b")])
    await _run_events(transport)
    assert "stream_options" not in transport.request_bodies[0]
    await _run_events(transport, stream_kwargs={"stream_options": {"include_usage": True}, "temperature": 0})
    assert transport.request_bodies[1]["stream_options"] == {"include_usage": True}
    assert transport.request_bodies[1]["temperature"] == 0


async def test_a_tools_own_timeout_error_is_not_reported_as_the_loops_timeout() -> None:
    async def own_timeout(tool_call: ToolCall, context: Any) -> str:
        raise TimeoutError("upstream API at 10.0.0.7 timed out")

    transport = ReplayTransport([_calls_turn(("a", "echo", "{}")), _text_turn("ok")])
    events = await _run_events(transport, tools=[TOOL], tool_invokers={"echo": own_timeout}, tool_timeout=5)
    failed = next(e for e in events if isinstance(e, ToolCallFailed))
    assert not isinstance(failed.exception, ToolCallTimeout)
    assert _told(transport) == ["Tool invocation failed."]

    async def slow(tool_call: ToolCall, context: Any) -> str:
        await anyio.sleep(30)
        return "never"

    transport = ReplayTransport([_calls_turn(("a", "echo", "{}")), _text_turn("ok")])
    with anyio.fail_after(5):
        events = await _run_events(transport, tools=[TOOL], tool_invokers={"echo": slow}, tool_timeout=0.05)
    failed = next(e for e in events if isinstance(e, ToolCallFailed))
    assert isinstance(failed.exception, ToolCallTimeout)
    assert isinstance(failed.exception, TimeoutError)


async def test_a_chunk_streamer_can_stand_in_for_the_client() -> None:
    turns = [_calls_turn(("a", "echo", '{"x": 1}')), _text_turn("done")]
    seen: list[dict[str, Any]] = []

    class Scripted:
        async def stream(self, *, messages: list[dict[str, Any]], model: str, **kwargs: Any) -> Any:
            seen.append({"messages": messages, "model": model, **kwargs})
            for item in turns[len(seen) - 1]:
                yield item

    streamer = Scripted()
    assert isinstance(streamer, ChunkStreamer)
    result = await stream_until_user_input(
        [{"role": "user", "content": "hi"}],
        "m",
        streamer,
        tools=[TOOL],
        tool_invokers={"echo": _echo},
        stream_kwargs={"temperature": 0},
    )
    assert [m["role"] for m in result.to_input_list()] == ["user", "assistant", "tool", "assistant"]
    assert seen[1]["messages"][2] == {"role": "tool", "tool_call_id": "a", "content": 'echo {"x": 1}'}
    assert seen[0]["tools"] == [TOOL]
    assert seen[0]["temperature"] == 0
    assert "stream" not in seen[0]
    with pytest.raises(TypeError, match="Cannot stream from object"):
        await stream_until_user_input([{"role": "user", "content": "hi"}], "m", object())  # type: ignore[arg-type]


def test_to_input_list_raises_on_values_that_are_not_json() -> None:
    from chat_to_responses import StreamResult

    class Note(BaseModel):
        text: str

    result = StreamResult([{"role": "user", "content": "hi"}], "m", [])
    assert result.to_input_list() == [{"role": "user", "content": "hi"}]
    assert result.to_input_list() is not result.messages
    with pytest.raises(TypeError, match="Note"):
        StreamResult([{"role": "user", "content": Note(text="x")}], "m", []).to_input_list()


def test_seed_module_paths_and_names() -> None:
    import importlib

    import chat_to_responses
    import chat_to_responses.events as events
    import chat_to_responses.streamers as streamers
    from chat_to_responses._patch_stream_tool_call_index import apply
    from chat_to_responses.utils.camel_to_snake import camel_to_snake
    from chat_to_responses.utils.get_strict_json_schema import get_strict_json_schema
    from chat_to_responses.utils.pydantic_to_tool import PydanticToolConfig, pydantic_to_tool
    from chat_to_responses.utils.tool_call import ToolInvokerFn, args_from_tool_call

    with pytest.warns(DeprecationWarning, match="no-op"):
        apply()
    assert events.ToolCallFailed is ToolCallFailed
    assert events.ToolResult is ToolResult
    assert streamers.ChunkStreamer is ChunkStreamer
    assert args_from_tool_call is chat_to_responses.args_from_tool_call
    assert ToolInvokerFn is chat_to_responses.ToolInvokerFn
    assert get_strict_json_schema is chat_to_responses.get_strict_json_schema
    assert PydanticToolConfig is chat_to_responses.PydanticToolConfig
    assert pydantic_to_tool is chat_to_responses.pydantic_to_tool
    assert camel_to_snake("GetWeather") == "get_weather"
    assert chat_to_responses.OnToolError.__args__ == ("emit", "raise", "abort")  # type: ignore[attr-defined]
    mcp = importlib.import_module("chat_to_responses.utils.mcp")
    for name in ("list_mcp_tools", "call_mcp_tool", "build_mcp_tools_and_invokers", "MCPServerConfig"):
        assert getattr(mcp, name) is getattr(chat_to_responses, name)
    assert callable(mcp.clear_endpoint_cache)
