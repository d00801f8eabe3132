"""Drop-in compatibility with openai-agents (#12): what agents' own models and users' code expect.

Two substitutions, both through the real Runner and the real AsyncOpenAI client over a replayed upstream:
our ``ChatCmplStreamHandler`` inside agents' ``OpenAIChatCompletionsModel`` (a class swap, as a user
would patch it), and our ``ChatCmplModel`` wherever ``OpenAIChatCompletionsModel`` is used (its
constructor options, its ``_fetch_response`` hook, ``isinstance`` checks). Plus ``handle_stream``'s
keywords and ``buffer_tool_call_stream`` called directly, as agents calls them.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

pytest.importorskip("agents")  # openai-agents needs openai 3: absent from the openai 2.x test run

import agents.models.openai_chatcompletions as occm_module
from agents import (
    Agent,
    ModelBehaviorError,
    ModelSettings,
    ModelTracing,
    OpenAIChatCompletionsModel,
    Runner,
    UserError,
    function_tool,
    set_tracing_disabled,
)
from agents.models.reasoning_content_replay import ReasoningContentReplayContext
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from openai.types.responses import Response

from chat_to_responses import ChatCmplStreamHandler, SequentialIds, items_to_messages
from chat_to_responses.agents import ChatCmplModel
from chat_to_responses.testing import CompletionTurn, ReplayTransport, StreamTurn
from helpers import chunk, replay_client

pytestmark = pytest.mark.anyio
set_tracing_disabled(True)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@function_tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


def _usage(prompt: int, completion: int) -> dict[str, Any]:
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _text_turn(text: str, finish: str | None = "stop", usage: dict[str, Any] | None = None) -> StreamTurn:
    chunks = [chunk({"role": "assistant"}), chunk({"content": text}), chunk({}, finish)]
    if usage is not None:
        chunks.append({**chunk({}), "choices": [], "usage": usage})
    return StreamTurn(chunks)


def _models(chunks: list[dict[str, Any]]) -> list[ChatCompletionChunk]:
    return [ChatCompletionChunk.model_validate({"created": 1, **c}) for c in chunks]


async def _aiter(items: list[Any]) -> AsyncIterator[Any]:
    for item in items:
        yield item


async def _drain(stream: AsyncIterator[Any], into: list[Any]) -> None:
    """Every item of ``stream`` into ``into`` (what came before an exception stays there)."""
    async for item in stream:
        into.append(item)


def _placeholder() -> Response:
    """What agents' models hand ``handle_stream``."""
    return Response(
        id="__fake_id__",
        created_at=0,
        model="m",
        object="response",
        output=[],
        tool_choice="auto",
        tools=[],
        parallel_tool_calls=False,
    )


async def _events(chunks: list[Any], response: Any = None, **options: Any) -> list[Any]:
    stream = ChatCmplStreamHandler.handle_stream(
        _placeholder() if response is None else response, _aiter(chunks), **options
    )
    return [event async for event in stream]


# ------------------------------------------------------------------------- our handler in agents' model


@pytest.fixture
def handler_swap(monkeypatch: pytest.MonkeyPatch) -> None:
    """Our handler class where agents' OpenAIChatCompletionsModel looks it up (what a user would patch)."""
    monkeypatch.setattr(occm_module, "ChatCmplStreamHandler", ChatCmplStreamHandler)


@pytest.mark.usefixtures("handler_swap")
async def test_agents_model_with_our_handler_runs_a_tool_turn() -> None:
    turns = [
        StreamTurn(
            [
                chunk({"role": "assistant"}),
                chunk({"tool_calls": [{"index": 0, "id": "c1", "function": {"name": "get_weather"}}]}),
                chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"city": "Bern"}'}}]}),
                chunk({}, "tool_calls"),
            ]
        ),
        _text_turn("Sunny in Bern.", usage=_usage(7, 3)),
    ]
    transport = ReplayTransport(turns)
    async with replay_client(transport) as client:
        model = OpenAIChatCompletionsModel("m", openai_client=client)
        agent = Agent(name="A", model=model, tools=[get_weather])
        result = Runner.run_streamed(agent, "Weather in Bern?")
        async for _ in result.stream_events():
            pass
    assert result.final_output == "Sunny in Bern."
    tool_message = transport.request_bodies[1]["messages"][-1]
    assert tool_message == {"role": "tool", "tool_call_id": "c1", "content": "sunny in Bern"}
    # The first stream sent no usage: still one request (agents' mark on the terminal response).
    assert result.context_wrapper.usage.requests == 2


@pytest.mark.usefixtures("handler_swap")
async def test_agents_model_with_our_handler_returns_a_truncated_answer() -> None:
    transport = ReplayTransport([_text_turn("Once upon a", finish="length")])
    async with replay_client(transport) as client:
        agent = Agent(name="A", model=OpenAIChatCompletionsModel("m", openai_client=client))
        result = Runner.run_streamed(agent, "A long story?")
        async for _ in result.stream_events():
            pass
    assert result.final_output == "Once upon a"


@pytest.mark.usefixtures("handler_swap")
async def test_agents_converter_replays_signatures_from_our_items() -> None:
    # agents' own converter reads provider_data: a Gemini signature must reach the next request.
    signed_call = {
        "index": 0,
        "id": "c1",
        "function": {"name": "get_weather", "arguments": '{"city": "Rome"}'},
        "extra_content": {"google": {"thought_signature": "SIG-G"}},
    }
    turns = [StreamTurn([chunk({"tool_calls": [signed_call]}), chunk({}, "tool_calls")]), _text_turn("Warm.")]
    transport = ReplayTransport(turns)
    async with replay_client(transport) as client:
        model = OpenAIChatCompletionsModel("gemini-3-pro", openai_client=client)
        result = Runner.run_streamed(Agent(name="A", model=model, tools=[get_weather]), "Rome?")
        async for _ in result.stream_events():
            pass
    replayed = transport.request_bodies[1]["messages"][1]["tool_calls"][0]
    assert replayed["extra_content"] == {"google": {"thought_signature": "SIG-G"}}


async def test_signed_thinking_blocks_are_in_provider_data() -> None:
    block = {"type": "thinking", "thinking": "Let me think.", "signature": "SIG-A"}
    events = await _events(
        [chunk({"thinking_blocks": [block]}), chunk({"content": "Done."}), chunk({}, "stop")], model="claude"
    )
    reasoning = events[-1].response.output[0]
    assert reasoning.provider_data["thinking_blocks"] == [block]
    assert reasoning.provider_data["model"] == "claude"
    assert reasoning.encrypted_content.startswith("c2r1.")  # our carrier too: either replay works


async def test_streamed_thinking_blocks_keep_each_signature_with_its_text() -> None:
    # Anthropic via LiteLLM: text pieces, then the signature that ends the block; redacted blocks whole.
    redacted = {"type": "redacted_thinking", "data": "BLOB", "extra": {"opaque": True}}
    pieces = [
        {"type": "thinking", "thinking": "step ", "signature": "", "cache_control": {"type": "ephemeral"}},
        {"type": "thinking", "thinking": "one", "signature": ""},
        {"type": "thinking", "thinking": "", "signature": "SIG-1"},
        redacted,
        {"type": "thinking", "thinking": "step two", "signature": ""},
        {"type": "thinking", "thinking": "", "signature": "SIG-2"},
    ]
    chunks = [chunk({"thinking_blocks": [piece]}) for piece in pieces]
    events = await _events([*chunks, chunk({"content": "Done."}), chunk({}, "stop")])
    reasoning = [item for item in events[-1].response.output if item.type == "reasoning"]
    # agents' converter replays the last reasoning item's blocks: it has every block of the answer.
    blocks = reasoning[-1].provider_data["thinking_blocks"]
    assert blocks == [
        {
            "type": "thinking",
            "thinking": "step one",
            "signature": "SIG-1",
            "cache_control": {"type": "ephemeral"},
        },
        redacted,
        {"type": "thinking", "thinking": "step two", "signature": "SIG-2"},
    ]


async def test_thinking_blocks_without_a_type_are_thinking_blocks() -> None:
    blocks = [{"thinking": "one ", "signature": "sig-1"}, {"thinking": "two", "signature": "sig-2"}]
    events = await _events(
        [chunk({"reasoning_content": "one two", "thinking_blocks": blocks}), chunk({}, "stop")]
    )
    reasoning = [item for item in events[-1].response.output if item.type == "reasoning"]
    assert reasoning  # nothing of the delta is lost
    assert reasoning[-1].provider_data["thinking_blocks"] == [{"type": "thinking", **b} for b in blocks]


# ------------------------------------------------------------------------- handle_stream's keywords


async def test_a_dict_template_keeps_the_responses_contract() -> None:
    events = await _events([chunk({"content": "cut"}), chunk({}, "length")], response={"model": "m"})
    assert events[-1].type == "response.incomplete"  # the stream rules: a cut is not completed


async def test_agents_placeholder_gets_agents_endings() -> None:
    events = await _events([chunk({"content": "cut"}), chunk({}, "length")])
    assert events[-1].type == "response.completed"
    assert events[-1].response.output[0].content[0].text == "cut"
    assert events[-1].response.id.startswith("resp_")  # never the placeholder's __fake_id__


async def test_raise_on_length_truncation_raises_only_without_visible_output() -> None:
    placeholder = _placeholder()
    cut = [chunk({"reasoning_content": "hmm"}), {**chunk({}, "length"), "usage": _usage(3, 8)}]
    with pytest.raises(ModelBehaviorError, match="finish_reason='length'"):
        await _events(cut, placeholder, raise_on_length_truncation=True)
    assert placeholder.usage is not None
    assert placeholder.usage.output_tokens == 8  # kept for the caller
    events = await _events(cut, raise_on_length_truncation=False)
    assert events[-1].type == "response.completed"


async def test_content_filter_without_output_becomes_agents_refusal() -> None:
    events = await _events([chunk({}, "content_filter")])
    message = events[-1].response.output[0]
    assert message.content[0].refusal == "Response withheld by the provider's content filter."


async def test_require_finish_reason() -> None:
    # In agents' models the handler raises, as agents' does (they record the usage from the placeholder)…
    placeholder = _placeholder()
    with pytest.raises(ModelBehaviorError, match="before receiving a finish_reason"):
        await _events([chunk({"content": "half"})], placeholder, require_finish_reason=True)
    assert placeholder.usage is None  # none was sent: the request still counts
    from agents.usage import _requests_for_response_without_usage

    assert _requests_for_response_without_usage(placeholder) == 1
    # …ChatCmplModel ends response.failed, what came kept, and the Runner raises the same error.
    transport = ReplayTransport([StreamTurn([chunk({"content": "half"})])])
    seen: list[Any] = []
    async with replay_client(transport) as client:
        model = ChatCmplModel("m", openai_client=client, require_finish_reason=True)
        result = Runner.run_streamed(Agent(name="A", model=model), "hi")
        with pytest.raises(ModelBehaviorError, match="before receiving a finish_reason"):
            await _drain(result.stream_events(), seen)
    terminal = [e.data for e in seen if e.type == "raw_response_event"][-1]
    assert terminal.type == "response.failed"
    assert terminal.response.output[0].content[0].text == "half"
    events = await _events([chunk({"content": "half"})], require_finish_reason=False)
    assert events[-1].type == "response.completed"


async def test_strict_feature_validation_rejects_other_choices(caplog: pytest.LogCaptureFixture) -> None:
    two = {
        **chunk({"content": "a"}),
        "choices": [{"index": 0, "delta": {"content": "a"}}, {"index": 1, "delta": {}}],
    }
    with pytest.raises(UserError, match="multiple choices"):
        await _events([two], strict_feature_validation=True)
    with caplog.at_level(logging.WARNING, logger="chat_to_responses.agents"):
        events = await _events([two, chunk({}, "stop")], strict_feature_validation=False)
    assert events[-1].response.output[0].content[0].text == "a"
    assert "multiple choices" in caplog.text


async def test_audio_output_raises() -> None:
    from agents.exceptions import AgentsException

    with pytest.raises(AgentsException, match="Audio is not currently supported"):
        await _events([chunk({"audio": {"id": "a", "data": "AAA="}})], raise_on_length_truncation=False)


async def test_request_id_raw_usage_and_no_usage_reach_the_terminal_response() -> None:
    from agents.usage import _extract_raw_usage_snapshot, _requests_for_response_without_usage

    placeholder = _placeholder()
    placeholder._request_id = "req_123"
    usage = {**_usage(2, 1), "prompt_tokens_details": {"cached_tokens": 1}}
    with_usage = await _events(
        [chunk({"content": "x"}), {**chunk({}, "stop"), "usage": usage}], placeholder, preserve_raw_usage=True
    )
    terminal = with_usage[-1].response
    assert terminal._request_id == "req_123"
    assert _extract_raw_usage_snapshot(terminal) == usage
    without = (await _events([chunk({"content": "x"}), chunk({}, "stop")]))[-1].response
    assert without.usage is None  # no invented zeros…
    assert _requests_for_response_without_usage(without) == 1  # …but the request counts


async def test_custom_tool_calls_are_ignored_or_rejected_when_strict() -> None:
    custom = chunk({"tool_calls": [{"index": 0, "id": "x", "type": "custom", "custom": {"name": "sh"}}]})
    more = chunk({"tool_calls": [{"index": 0, "function": {"name": "sh", "arguments": "ls"}}]})  # same call
    chunks = [chunk({"content": "ok"}), custom, more, chunk({}, "stop")]
    events = await _events(chunks, strict_feature_validation=False)
    assert [item.type for item in events[-1].response.output] == ["message"]
    with pytest.raises(UserError, match="Custom tool calls"):
        await _events([custom], strict_feature_validation=True)


# ------------------------------------------------------------------------- buffer_tool_call_stream


async def test_buffer_tool_call_stream_gives_whole_calls_after_the_stream() -> None:
    chunks = _models(
        [
            chunk({"content": "Let me check."}),
            chunk(
                {"tool_calls": [{"index": 0, "id": "c1", "function": {"name": "f", "arguments": '{"a":'}}]}
            ),
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": " 1}"}}]}),
            chunk({}, "tool_calls"),
        ]
    )
    out = [c async for c in ChatCmplStreamHandler.buffer_tool_call_stream(_aiter(chunks))]
    assert [c.choices[0].delta.content for c in out[:1]] == ["Let me check."]
    finish = out[1].choices[0]
    assert (finish.finish_reason, finish.delta.tool_calls) == ("tool_calls", None)
    call = out[-1].choices[0].delta.tool_calls[0]
    assert (call.id, call.function.name, call.function.arguments) == ("c1", "f", '{"a": 1}')
    assert out[-1].choices[0].finish_reason is None


async def test_buffer_tool_call_stream_rejects_a_tool_calls_finish_without_calls() -> None:
    chunks = _models([chunk({}, "tool_calls")])
    with pytest.raises(ModelBehaviorError, match="did not include any streamed tool call"):
        _ = [c async for c in ChatCmplStreamHandler.buffer_tool_call_stream(_aiter(chunks))]


# ------------------------------------------------------------------------- ChatCmplModel as agents' model


def test_chat_cmpl_model_is_an_openai_chat_completions_model() -> None:
    model = ChatCmplModel("m", openai_client=replay_client(ReplayTransport([])))
    assert isinstance(model, OpenAIChatCompletionsModel)


async def test_buffer_streamed_tool_calls_option_runs_the_tool() -> None:
    turns = [
        StreamTurn(
            [
                chunk({"tool_calls": [{"index": 0, "id": "c1", "function": {"name": "get_weather"}}]}),
                chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"city": "Oslo"}'}}]}),
                chunk({}, "tool_calls"),
            ]
        ),
        _text_turn("Sunny."),
    ]
    transport = ReplayTransport(turns)
    async with replay_client(transport) as client:
        model = ChatCmplModel("m", openai_client=client, buffer_streamed_tool_calls=True, ids=SequentialIds())
        result = Runner.run_streamed(Agent(name="A", model=model, tools=[get_weather]), "Oslo?")
        deltas = [
            e.data.delta
            async for e in result.stream_events()
            if e.type == "raw_response_event" and e.data.type == "response.function_call_arguments.delta"
        ]
    assert deltas == ['{"city": "Oslo"}']  # one delta: the call came whole
    assert result.final_output == "Sunny."


async def test_strict_feature_validation_option_rejects_server_state() -> None:
    transport = ReplayTransport([_text_turn("hi")])
    async with replay_client(transport) as client:
        model = ChatCmplModel("m", openai_client=client, strict_feature_validation=True)
        with pytest.raises(UserError, match="server-managed conversation state"):
            await model.get_response(
                None,
                "hi",
                ModelSettings(),
                [],
                None,
                [],
                ModelTracing.DISABLED,
                previous_response_id="resp_1",
            )
    assert transport.request_bodies == []


async def test_should_replay_reasoning_content_hook_decides_per_item() -> None:
    seen: list[ReasoningContentReplayContext] = []

    def hook(context: ReasoningContentReplayContext) -> bool:
        seen.append(context)
        return "keep" in str(context.reasoning.item)

    history: list[Any] = [
        {"role": "user", "content": "q1"},
        {
            "type": "reasoning",
            "id": "rs_1",
            "summary": [{"type": "summary_text", "text": "keep this"}],
            "provider_data": {"model": "origin-model"},
        },
        {"role": "assistant", "content": "a1"},
        {"role": "user", "content": "q2"},
        {"type": "reasoning", "id": "rs_2", "summary": [{"type": "summary_text", "text": "drop this"}]},
        {"role": "assistant", "content": "a2"},
        {"role": "user", "content": "q3"},
    ]
    transport = ReplayTransport([CompletionTurn(_completion("ok"))])
    async with replay_client(transport) as client:
        model = ChatCmplModel("m", openai_client=client, should_replay_reasoning_content=hook)
        await Runner.run(Agent(name="A", model=model), history)
    assistants = [m for m in transport.request_bodies[0]["messages"] if m["role"] == "assistant"]
    assert [m.get("reasoning_content") for m in assistants] == ["keep this", None]
    assert (seen[0].model, seen[0].base_url) == ("m", "http://upstream.test/v1")
    assert seen[0].reasoning.origin_model == "origin-model"


def _completion(text: str) -> dict[str, Any]:
    return {
        "id": "c",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
    }


async def test_patched_fetch_response_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    # Users' tests patch agents' hook to replay canned answers: ChatCmplModel calls it too.
    async def fetch(self: Any, *args: Any, **kwargs: Any) -> ChatCompletion:
        assert kwargs["stream"] is False
        return ChatCompletion.model_validate(_completion("canned"))

    monkeypatch.setattr(ChatCmplModel, "_fetch_response", fetch)
    model = ChatCmplModel("m", openai_client=replay_client(ReplayTransport([])))
    result = await Runner.run(Agent(name="A", model=model), "hi")
    assert result.final_output == "canned"


async def test_unpaired_tool_output_is_rejected_before_any_request() -> None:
    transport = ReplayTransport([_text_turn("never")])
    unpaired = [{"type": "function_call_output", "output": "orphan"}]
    async with replay_client(transport) as client:
        model = ChatCmplModel("m", openai_client=client)
        with pytest.raises(UserError, match=r"Unpaired function outputs.*Chat Completions"):
            await model.get_response(None, unpaired, ModelSettings(), [], None, [], ModelTracing.DISABLED)
    assert transport.request_bodies == []


async def test_duck_typed_client_and_stream_without_close() -> None:
    # A client with no with_options and a plain async generator as the stream (no close()).
    class Completions:
        async def create(self, **kwargs: Any) -> Any:
            return _aiter(_models([chunk({"content": "duck"}), chunk({}, "stop")]))

    class Client:
        base_url = "http://duck.test/v1"
        chat = type("Chat", (), {"completions": Completions()})()

    model = ChatCmplModel("m", openai_client=Client())  # type: ignore[arg-type]
    result = Runner.run_streamed(Agent(name="A", model=model), "hi")
    async for _ in result.stream_events():
        pass
    assert result.final_output == "duck"


# ------------------------------------------------------------------------- shared history


def test_items_to_messages_reasoning_predicate_and_unpaired_outputs() -> None:
    from chat_to_responses._history import UnpairedOutputError

    items = [
        {"role": "user", "content": "q"},
        {"type": "reasoning", "summary": [{"type": "summary_text", "text": "why"}]},
        {"role": "assistant", "content": "a"},
    ]
    kept = items_to_messages(items, reasoning_content=lambda item: True)
    assert kept[1] == {"role": "assistant", "content": "a", "reasoning_content": "why"}
    assert "reasoning_content" not in items_to_messages(items, reasoning_content=lambda item: False)[1]
    orphan = [{"type": "function_call_output", "output": "x"}]
    assert items_to_messages(orphan) == []  # default: dropped (and reported through `dropped`)
    with pytest.raises(UnpairedOutputError, match="without call_id"):
        items_to_messages(orphan, unpaired_outputs="raise")


async def test_raw_chat_image_part_is_sent_as_it_came() -> None:
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA", "detail": "high"}}
    transport = ReplayTransport([CompletionTurn(_completion("a cat"))])
    async with replay_client(transport) as client:
        model = ChatCmplModel("m", openai_client=client)
        user = {"role": "user", "content": [{"type": "input_text", "text": "What is it?"}, image]}
        result = await Runner.run(Agent(name="A", model=model), [user])
    assert result.final_output == "a cat"
    assert transport.request_bodies[0]["messages"][0]["content"] == [
        {"type": "text", "text": "What is it?"},
        image,
    ]


async def test_non_text_tool_output_is_described_with_a_warning_or_rejected_when_strict(
    caplog: pytest.LogCaptureFixture,
) -> None:
    history: list[Any] = [
        {"role": "user", "content": "Show me"},
        {"type": "function_call", "call_id": "c1", "name": "snap", "arguments": "{}"},
        {
            "type": "function_call_output",
            "call_id": "c1",
            "output": [{"type": "input_image", "image_url": "https://x/i.png"}],
        },
    ]
    transport = ReplayTransport([CompletionTurn(_completion("ok"))])
    async with replay_client(transport) as client:
        lenient = ChatCmplModel("m", openai_client=client)
        with caplog.at_level(logging.WARNING, logger="chat_to_responses.agents"):
            await lenient.get_response(None, history, ModelSettings(), [], None, [], ModelTracing.DISABLED)
        strict = ChatCmplModel("m", openai_client=client, strict_feature_validation=True)
        with pytest.raises(UserError, match="text only"):
            await strict.get_response(None, history, ModelSettings(), [], None, [], ModelTracing.DISABLED)
    assert transport.request_bodies[0]["messages"][-1] == {
        "role": "tool",
        "tool_call_id": "c1",
        "content": "[image]",
    }
    assert "'input_image' sent as '[image]'" in caplog.text
    assert len(transport.request_bodies) == 1  # the strict model sent nothing


async def test_provider_passes_agents_options_to_its_models() -> None:
    from chat_to_responses.agents import ChatCmplProvider

    transport = ReplayTransport([])
    async with replay_client(transport) as client:
        provider = ChatCmplProvider(openai_client=client, strict_feature_validation=True)
        model = provider.get_model("m")
        with pytest.raises(UserError, match="Reusable prompts"):
            await model.get_response(
                None, "hi", ModelSettings(), [], None, [], ModelTracing.DISABLED, prompt={"id": "pmpt_1"}
            )
    assert transport.request_bodies == []
