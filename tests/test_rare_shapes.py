"""The shapes real streams still bring (issue #14), each fed to the core and checked end to end.

Legacy ``delta.function_call``, a parameterless tool streamed with ``arguments: ""``, a thought signature on
a text part, several signed thinking blocks (and a delta carrying both ``reasoning_content`` and signed
``thinking_blocks``), custom tool calls, audio output, and a stream that ends without any
``finish_reason``. Each test runs the fixture of its shape (``fixtures/chat-streams/*_SELF_AUTHORED``) or a
hand-made variant, checks every stream rule with ``check_stream``, and asserts what the shape must become
(and, where it matters, what the history conversion sends back upstream).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from typing import Any

import pytest
from openai.types.responses import ResponseCustomToolCall, ResponseCustomToolCallInputDeltaEvent

from chat_to_responses import (
    ChatCmplStreamHandler,
    SequentialIds,
    atranslate,
    decode_carriers,
    items_to_messages,
    messages_to_items,
    output_items_to_message,
    translate,
    translate_sse,
)
from chat_to_responses._chunks import read_chunk, read_plain_part
from chat_to_responses._sse import encode_chat_sse, read_chunk_file
from chat_to_responses.testing import check_stream
from helpers import CORPUS, chunk

Event = dict[str, Any]


def run(chunks: Iterable[Any], **options: Any) -> list[Event]:
    handler = ChatCmplStreamHandler(ids=SequentialIds(), **options)
    events: list[Event] = []
    for item in chunks:
        events += handler.feed_dicts(item)
    events += handler.finish_dicts()
    violations = check_stream(events)
    assert violations == [], "\n".join(map(str, violations))
    return events


def fixture(name: str) -> list[dict[str, Any]]:
    return read_chunk_file(CORPUS / f"{name}.jsonl")


def terminal(events: list[Event]) -> dict[str, Any]:
    response: dict[str, Any] = events[-1]["response"]
    return response


def output(events: list[Event]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = terminal(events)["output"]
    return items


def types(events: list[Event]) -> list[str]:
    return [e["type"] for e in events]


# ------------------------------------------------------------------------------ legacy functions API


def test_legacy_function_call_becomes_a_function_call_item() -> None:
    events = run(fixture("openai/legacy_function_call_SELF_AUTHORED"))
    assert events[-1]["type"] == "response.completed"
    (call,) = output(events)
    assert call["type"] == "function_call"
    assert call["name"] == "get_current_weather"
    assert call["arguments"] == '{\n  "location": "Boston, MA"\n}'
    assert call["call_id"].startswith("call_")
    assert call["status"] == "completed"


def test_legacy_function_call_after_text_keeps_both() -> None:
    events = run(
        [
            chunk({"role": "assistant", "content": "Let me look."}),
            chunk({"function_call": {"name": "lookup", "arguments": '{"q":'}}),
            chunk({"function_call": {"arguments": '"x"}'}}),
            chunk({}, "function_call"),
        ]
    )
    assert [(i["type"], i.get("name")) for i in output(events)] == [
        ("message", None),
        ("function_call", "lookup"),
    ]
    assert output(events)[1]["arguments"] == '{"q":"x"}'


def test_legacy_function_call_delta_is_never_taken_by_the_fast_path() -> None:
    continuation = chunk({"function_call": {"arguments": "{}"}})
    assert read_plain_part(continuation, 0) is None
    (part,) = read_chunk(continuation, 0).parts
    assert part[0] == "tool"
    assert part[1].arguments == "{}"
    assert part[1].index is None


# ------------------------------------------------------------------------------ empty arguments


def test_parameterless_tool_with_empty_arguments_gets_an_empty_json_object() -> None:
    events = run(fixture("vllm/parameterless_tool_empty_arguments_SELF_AUTHORED"))
    (call,) = output(events)
    assert call["arguments"] == "{}"
    deltas = [e["delta"] for e in events if e["type"] == "response.function_call_arguments.delta"]
    assert deltas == ["{}"]  # the deltas build what .done says (rule 13)
    (done,) = [e for e in events if e["type"] == "response.function_call_arguments.done"]
    assert done["arguments"] == "{}"


def test_empty_arguments_of_a_parallel_call_become_json_too() -> None:
    events = run(
        [
            chunk(
                {
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": "a",
                            "type": "function",
                            "function": {"name": "now", "arguments": ""},
                        },
                        {
                            "index": 1,
                            "id": "b",
                            "type": "function",
                            "function": {"name": "add", "arguments": ""},
                        },
                    ]
                }
            ),
            chunk({"tool_calls": [{"index": 1, "function": {"arguments": '{"x":1}'}}]}),
            chunk({}, "tool_calls"),
        ]
    )
    assert [c["arguments"] for c in output(events)] == ["{}", '{"x":1}']


def test_a_length_cut_call_with_no_arguments_is_not_given_invented_ones() -> None:
    events = run(
        [
            chunk({"tool_calls": [{"index": 0, "id": "a", "type": "function", "function": {"name": "f"}}]}),
            chunk({}, "length"),
        ]
    )
    assert events[-1]["type"] == "response.incomplete"
    assert all(item.get("arguments") != "{}" for item in output(events))


# ------------------------------------------------------------------------------ thought signature on text


SIGNED_TEXT = "google/gemini3_text_thought_signature_SELF_AUTHORED"


def test_thought_signature_on_text_is_carried_after_the_message() -> None:
    events = run(fixture(SIGNED_TEXT))
    message, reasoning = output(events)
    assert message["content"][0]["text"] == "The capital of France is Paris."
    assert reasoning["type"] == "reasoning"
    assert reasoning["summary"] == []
    assert decode_carriers(reasoning["encrypted_content"]) == [
        {
            "kind": "thought_signature",
            "source": "extra_content",
            "signature": "CiQBVKhc7placeholderSignatureForTheTextPart==",
        }
    ]


def test_thought_signature_on_text_is_sent_back_on_the_assistant_message() -> None:
    items = [{"role": "user", "content": "Capital of France?"}, *output(run(fixture(SIGNED_TEXT)))]
    messages = items_to_messages([*items, {"role": "user", "content": "And Spain?"}])
    assistant = messages[1]
    assert assistant["content"] == "The capital of France is Paris."
    assert assistant["extra_content"] == {
        "google": {"thought_signature": "CiQBVKhc7placeholderSignatureForTheTextPart=="}
    }
    assert "tool_calls" not in assistant
    assert items_to_messages(messages_to_items(messages)) == messages


def test_a_text_delta_with_a_signature_is_never_taken_by_the_fast_path() -> None:
    signed = chunk({"content": "x", "extra_content": {"google": {"thought_signature": "s"}}})
    assert read_plain_part(signed, 0) is None
    litellm = chunk({"content": "x", "provider_specific_fields": {"thought_signature": "s"}})
    assert [kind for kind, _ in read_chunk(litellm, 0).parts] == ["text", "carrier"]


# ------------------------------------------------------------------------------ signed thinking blocks


TWO_BLOCKS = "litellm/anthropic_two_signed_thinking_blocks_SELF_AUTHORED"
ONE_DELTA = "litellm/reasoning_content_with_signed_blocks_one_delta_SELF_AUTHORED"


def _blocks(events: list[Event]) -> list[tuple[str, list[dict[str, Any]]]]:
    return [
        ("".join(p["text"] for p in item["summary"]), decode_carriers(item.get("encrypted_content")))
        for item in output(events)
        if item["type"] == "reasoning"
    ]


def test_each_signed_thinking_block_keeps_its_own_text_and_signature() -> None:
    events = run(fixture(TWO_BLOCKS))
    assert _blocks(events) == [
        (
            "The user asks for 17 * 24. 17 * 24 = 17 * 20 + 17 * 4 = 340 + 68 = 408.",
            [{"kind": "thinking_signature", "signature": "EqQBCkYIBxgCKkBfirstBlockSignaturePlaceholder=="}],
        ),
        (
            "Let me double-check: 24 * 17 = 24 * 10 + 24 * 7 = 240 + 168 = 408.",
            [{"kind": "thinking_signature", "signature": "EqQBCkYIBxgCKkBsecondBlockSignaturePlaceholder=="}],
        ),
    ]
    assert output(events)[-1]["type"] == "message"


def test_signed_blocks_go_back_as_they_came() -> None:
    events = run(fixture(TWO_BLOCKS))
    message = output_items_to_message(output(events))
    assert message["thinking_blocks"] == [
        {
            "type": "thinking",
            "thinking": "The user asks for 17 * 24. 17 * 24 = 17 * 20 + 17 * 4 = 340 + 68 = 408.",
            "signature": "EqQBCkYIBxgCKkBfirstBlockSignaturePlaceholder==",
        },
        {
            "type": "thinking",
            "thinking": "Let me double-check: 24 * 17 = 24 * 10 + 24 * 7 = 240 + 168 = 408.",
            "signature": "EqQBCkYIBxgCKkBsecondBlockSignaturePlaceholder==",
        },
    ]
    messages = [{"role": "user", "content": "17*24?"}, message]
    assert items_to_messages(messages_to_items(messages)) == messages


def test_reasoning_content_and_signed_blocks_in_one_delta_split_by_block() -> None:
    events = run(fixture(ONE_DELTA))
    assert _blocks(events) == [
        (
            "I need the weather in Paris.",
            [{"kind": "thinking_signature", "signature": "ErcBCkgIBhABGAIiQblockOneSig=="}],
        ),
        ("", [{"kind": "redacted_thinking", "data": "EmwKAhgBEgy3redactedBlockData=="}]),
        (
            "I should call get_weather.",
            [{"kind": "thinking_signature", "signature": "ErcBCkgIBhABGAIiQblockTwoSig=="}],
        ),
    ]
    message = output_items_to_message(output(events))
    assert [b.get("thinking", b.get("data")) for b in message["thinking_blocks"]] == [
        "I need the weather in Paris.",
        "EmwKAhgBEgy3redactedBlockData==",
        "I should call get_weather.",
    ]
    assert message["reasoning_content"] == "I need the weather in Paris.\n\nI should call get_weather."
    assert message["tool_calls"][0]["function"]["name"] == "get_weather"


def test_unsigned_blocks_with_reasoning_content_are_not_duplicated() -> None:
    delta = {"reasoning_content": "abc", "thinking_blocks": [{"type": "thinking", "thinking": "abc"}]}
    assert read_chunk(chunk(delta), 0).parts == [("reasoning", "abc")]


def test_two_signed_openrouter_reasoning_text_details_stay_two_blocks() -> None:
    def detail(text: str, signature: str | None = None) -> dict[str, Any]:
        entry = {"type": "reasoning.text", "text": text, "format": "anthropic-claude-v1", "index": 0}
        return {**entry, "signature": signature} if signature else entry

    events = run(
        [
            chunk({"reasoning": "A", "reasoning_details": [detail("A")]}),
            chunk({"reasoning": "", "reasoning_details": [detail("", "S1")]}),
            chunk({"reasoning": "B", "reasoning_details": [detail("B")]}),
            chunk({"reasoning": "", "reasoning_details": [detail("", "S2")]}),
            chunk({"content": "done"}, "stop"),
        ]
    )
    blocks = _blocks(events)
    assert [text for text, _ in blocks] == ["A", "B"]
    assert [carriers[0]["detail"]["signature"] for _, carriers in blocks] == ["S1", "S2"]
    details = output_items_to_message(output(events))["reasoning_details"]
    assert [(d["text"], d["signature"]) for d in details] == [("A", "S1"), ("B", "S2")]


# ------------------------------------------------------------------------------ custom tool calls


CUSTOM = "openai/custom_tool_call_SELF_AUTHORED"
PATCH = '*** Begin Patch\n*** Update File: hello.py\n@@\n-print("hi")\n+print("hello")\n*** End Patch'


def test_custom_tool_call_becomes_a_custom_tool_call_item() -> None:
    events = run(fixture(CUSTOM))
    assert events[-1]["type"] == "response.completed"
    (call,) = output(events)
    assert call == {
        "type": "custom_tool_call",
        "id": "ctc_1",
        "call_id": "call_Zq3pW8dXk1N2b5m7",
        "name": "apply_patch",
        "input": PATCH,
        "status": "completed",
    }
    deltas = [e["delta"] for e in events if e["type"] == "response.custom_tool_call_input.delta"]
    assert "".join(deltas) == PATCH
    assert not any(e["type"].startswith("response.function_call") for e in events)


def test_custom_tool_call_events_are_typed_openai_models() -> None:
    handler = ChatCmplStreamHandler(ids=SequentialIds())
    events = [e for c in fixture(CUSTOM) for e in handler.feed(c)] + handler.finish()
    assert any(isinstance(e, ResponseCustomToolCallInputDeltaEvent) for e in events)
    final = events[-1]
    assert final.type == "response.completed"
    assert isinstance(final.response.output[0], ResponseCustomToolCall)
    assert final.response.output[0].input == PATCH


def test_custom_and_function_calls_in_parallel() -> None:
    events = run(
        [
            chunk(
                {
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": "c1",
                            "type": "custom",
                            "custom": {"name": "shell", "input": "ls"},
                        },
                        {
                            "index": 1,
                            "id": "c2",
                            "type": "function",
                            "function": {"name": "f", "arguments": "{}"},
                        },
                    ]
                }
            ),
            chunk({"tool_calls": [{"index": 0, "custom": {"input": " -la"}}]}),
            chunk({}, "tool_calls"),
        ]
    )
    assert [(i["type"], i.get("input", i.get("arguments"))) for i in output(events)] == [
        ("custom_tool_call", "ls -la"),
        ("function_call", "{}"),
    ]


def test_a_length_cut_custom_call_is_never_announced_done() -> None:
    opening = {
        "index": 0,
        "id": "c1",
        "type": "custom",
        "custom": {"name": "apply_patch", "input": "*** Begin"},
    }
    events = run([chunk({"tool_calls": [opening]}), chunk({}, "length")])
    assert events[-1]["type"] == "response.incomplete"
    assert not any(e["type"] == "response.custom_tool_call_input.done" for e in events)
    (call,) = output(events)
    assert call["type"] == "custom_tool_call"
    assert call["status"] == "incomplete"
    assert call["id"].startswith("ctc_")


def test_a_custom_call_without_finish_reason_completes_unless_required() -> None:
    opening = {"index": 0, "id": "c1", "type": "custom", "custom": {"name": "shell", "input": "ls"}}
    # Free-form input gives no sign of being cut: only a finish_reason (or its absence, when required) can.
    assert run([chunk({"tool_calls": [opening]})])[-1]["type"] == "response.completed"
    required = run([chunk({"tool_calls": [opening]})], require_finish_reason=True)
    assert required[-1]["type"] == "response.failed"


def test_custom_tool_calls_go_back_as_custom_tool_calls() -> None:
    items = [
        {"role": "user", "content": "fix it"},
        *output(run(fixture(CUSTOM))),
        {"type": "custom_tool_call_output", "call_id": "call_Zq3pW8dXk1N2b5m7", "output": "Done!"},
    ]
    messages = items_to_messages(items)
    assert messages[1]["tool_calls"] == [
        {"id": "call_Zq3pW8dXk1N2b5m7", "type": "custom", "custom": {"name": "apply_patch", "input": PATCH}}
    ]
    assert messages[2] == {"role": "tool", "tool_call_id": "call_Zq3pW8dXk1N2b5m7", "content": "Done!"}
    back = messages_to_items(messages)
    assert back[1] == {
        "type": "custom_tool_call",
        "call_id": "call_Zq3pW8dXk1N2b5m7",
        "name": "apply_patch",
        "input": PATCH,
    }
    assert items_to_messages(back) == messages


def test_check_stream_holds_custom_tool_calls_to_rule_13() -> None:
    events = run(fixture(CUSTOM))
    done = next(e for e in events if e["type"] == "response.custom_tool_call_input.done")
    done["input"] = "tampered"
    assert {v.rule for v in check_stream(events)} == {13}


# ------------------------------------------------------------------------------ audio output


def test_audio_output_fails_clearly_naming_audio() -> None:
    events = run(fixture("openai/audio_output_SELF_AUTHORED"))
    assert events[-1]["type"] == "response.failed"
    message = terminal(events)["error"]["message"]
    assert "audio" in message
    assert "not supported" in message


def test_audio_after_text_keeps_the_text() -> None:
    events = run([chunk({"content": "Hi"}), chunk({"audio": {"id": "a", "transcript": "Hi"}})])
    assert events[-1]["type"] == "response.failed"
    (message,) = output(events)
    assert message["content"][0]["text"] == "Hi"
    assert message["status"] == "incomplete"


def test_a_null_or_empty_audio_field_is_no_audio() -> None:
    events = run([chunk({"content": "Hi", "audio": None}), chunk({"audio": {}}, "stop")])
    assert events[-1]["type"] == "response.completed"


# ------------------------------------------------------------------------------ no finish_reason


CUT = "openai/cut_without_finish_reason_SELF_AUTHORED"


def test_a_stream_without_finish_reason_completes_by_default() -> None:
    assert run(fixture(CUT))[-1]["type"] == "response.completed"


def test_require_finish_reason_fails_a_cut_stream_and_keeps_its_text() -> None:
    events = run(fixture(CUT), require_finish_reason=True)
    assert events[-1]["type"] == "response.failed"
    assert "finish_reason" in terminal(events)["error"]["message"]
    (message,) = output(events)
    assert message["content"][0]["text"] == "Step 1: open the file. Step 2:"
    assert message["status"] == "incomplete"


def test_require_finish_reason_still_completes_a_finished_stream() -> None:
    chunks = [chunk({"content": "ok"}), chunk({}, "stop"), chunk({}, usage={"prompt_tokens": 1})]
    assert run(chunks, require_finish_reason=True)[-1]["type"] == "response.completed"


def test_require_finish_reason_on_the_vllm_recording_that_omits_it() -> None:
    chunks = fixture("vllm/evroc_kimi_k26_eof_without_finish_reason")
    assert run(chunks)[-1]["type"] == "response.completed"
    assert run(chunks, require_finish_reason=True)[-1]["type"] == "response.failed"


def test_require_finish_reason_reaches_every_driver() -> None:
    chunks = fixture(CUT)
    assert list(translate(chunks, require_finish_reason=True))[-1].type == "response.failed"

    async def collect() -> str:
        async def source() -> Any:
            for item in chunks:
                yield item

        events = [e async for e in atranslate(source(), require_finish_reason=True)]
        return events[-1].type

    assert asyncio.run(collect()) == "response.failed"
    body = [encode_chat_sse(c) for c in chunks]
    frames = b"".join(translate_sse(body, require_finish_reason=True))
    assert b"event: response.failed" in frames
    assert b"event: response.completed" not in frames


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [("https://api.openai.com/v1", "response.failed"), ("http://127.0.0.1:8000/v1", "response.completed")],
)
def test_agents_model_requires_finish_reason_where_openai_agents_does(base_url: str, expected: str) -> None:
    pytest.importorskip("agents")
    from chat_to_responses._agents_model import ChatCmplModel

    async def stream_types() -> list[str]:
        import httpx
        import openai
        from agents import ModelSettings, ModelTracing

        from chat_to_responses.testing import ReplayTransport, StreamTurn

        transport = ReplayTransport([StreamTurn.from_file(CORPUS / f"{CUT}.jsonl")])
        client = openai.AsyncOpenAI(
            api_key="test",
            base_url=base_url,
            http_client=httpx.AsyncClient(transport=transport),
            max_retries=0,
        )
        model = ChatCmplModel("gpt-4o-mini", openai_client=client)
        seen: list[str] = []
        try:
            async for event in model.stream_response(
                None, "hi", ModelSettings(), [], None, [], ModelTracing.DISABLED
            ):
                seen.append(event.type)
        except Exception:  # ChatCmplResponseError after response.failed
            pass
        return seen

    assert asyncio.run(stream_types())[-1] == expected


# ------------------------------------------------------------------------------ SDK chunks


@pytest.mark.parametrize(
    "name",
    [
        "openai/legacy_function_call_SELF_AUTHORED",
        "vllm/parameterless_tool_empty_arguments_SELF_AUTHORED",
        SIGNED_TEXT,
        TWO_BLOCKS,
        ONE_DELTA,
        "openai/audio_output_SELF_AUTHORED",
    ],
)
def test_sdk_chunks_give_what_dicts_give(name: str) -> None:
    """``ChatCompletionChunk`` models (extras such as ``extra_content`` in ``__pydantic_extra__``, a declared
    ``function_call`` and ``audio``) take the same paths as raw dicts, fast path included."""
    from openai.types.chat import ChatCompletionChunk

    chunks = fixture(name)
    models = [ChatCompletionChunk.model_validate(c) for c in chunks]
    assert run(models) == run(chunks)


# ------------------------------------------------------------------------------ the faces: CLI and bridge


def test_cli_translate_require_finish_reason() -> None:
    import subprocess
    import sys

    path = str(CORPUS / f"{CUT}.jsonl")
    for flags, expected, status in (
        ([], "response.completed", 0),
        (["--require-finish-reason"], "response.failed", 1),  # the CLI exits 1 for a failed response
    ):
        done = subprocess.run(
            [sys.executable, "-m", "chat_to_responses._cli", "translate", path, "--format", "jsonl", *flags],
            capture_output=True,
            check=False,
        )
        assert done.returncode == status, done.stderr
        assert json.loads(done.stdout.splitlines()[-1])["type"] == expected


@pytest.mark.parametrize(
    ("name", "options", "expected"),
    [
        (CUT, {}, "response.completed"),
        (CUT, {"require_finish_reason": True}, "response.failed"),
        ("openai/audio_output_SELF_AUTHORED", {}, "response.failed"),
    ],
)
def test_bridge_streams_the_shape_to_the_openai_client(
    name: str, options: dict[str, Any], expected: str
) -> None:
    import openai

    from chat_to_responses.testing import StreamTurn
    from fake_upstream import running_bridge, running_upstream

    with running_upstream() as (upstream, upstream_url), running_bridge(upstream_url, **options) as url:
        upstream.reset(StreamTurn(fixture(name)))
        client = openai.OpenAI(base_url=url, api_key="test", max_retries=0)
        with client.responses.create(model="m", input="hi", stream=True) as stream:
            events = [event.model_dump(mode="json") for event in stream]
    assert check_stream(events) == []
    assert events[-1]["type"] == expected


def test_bridge_streams_custom_and_legacy_calls_to_the_openai_client() -> None:
    import openai

    from chat_to_responses.testing import StreamTurn
    from fake_upstream import running_bridge, running_upstream

    turns = [StreamTurn(fixture(CUSTOM)), StreamTurn(fixture("openai/legacy_function_call_SELF_AUTHORED"))]
    with running_upstream() as (upstream, upstream_url), running_bridge(upstream_url) as url:
        upstream.reset(*turns)
        client = openai.OpenAI(base_url=url, api_key="test", max_retries=0)
        finals = []
        for question in ("fix it", "weather?"):
            with client.responses.stream(model="m", input=question) as stream:
                finals.append(stream.get_final_response())
    custom, legacy = finals
    assert [(i.type, getattr(i, "input", None)) for i in custom.output] == [("custom_tool_call", PATCH)]
    assert [(i.type, getattr(i, "name", None)) for i in legacy.output] == [
        ("function_call", "get_current_weather")
    ]


def test_non_streamed_completions_with_custom_and_legacy_calls() -> None:
    from chat_to_responses._completion import completion_to_response

    def completion(message: dict[str, Any], finish: str) -> dict[str, Any]:
        choice = {"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish}
        return {"id": "c", "object": "chat.completion", "created": 1, "model": "m", "choices": [choice]}

    custom_call = {"id": "c1", "type": "custom", "custom": {"name": "apply_patch", "input": PATCH}}
    custom = completion_to_response(completion({"content": None, "tool_calls": [custom_call]}, "tool_calls"))
    assert [(i.type, getattr(i, "input", None)) for i in custom.output] == [("custom_tool_call", PATCH)]
    legacy_call = {"name": "now", "arguments": ""}
    legacy = completion_to_response(
        completion({"content": None, "function_call": legacy_call}, "function_call")
    )
    assert [(i.type, getattr(i, "arguments", None)) for i in legacy.output] == [("function_call", "{}")]
