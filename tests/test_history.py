"""History conversion between Responses items and Chat Completions messages (``_history``).

Hand-written items for every rule, real translator output from recorded provider streams (what the tool
loop and the server replay), a Codex-style stateless replay, the round trip through ``messages_to_items``,
and a property: arbitrary item-ish input never raises.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openai.types.responses import (
    ResponseCompletedEvent,
    ResponseFailedEvent,
    ResponseFunctionToolCall,
    ResponseIncompleteEvent,
    ResponseOutputMessage,
    ResponseOutputText,
    ResponseReasoningItem,
)

from chat_to_responses import SequentialIds, decode_carriers, read_chunk_file, translate
from chat_to_responses._carriers import encode_carriers
from chat_to_responses._history import items_to_messages, messages_to_items, output_items_to_message

CORPUS = Path(__file__).parent.parent / "fixtures" / "chat-streams"
REASONING_FIELDS = ("reasoning_content", "reasoning_details", "thinking_blocks")


# ---------------------------------------------------------------------------------------------- builders


def user(text: str) -> dict[str, Any]:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


def assistant(text: str) -> dict[str, Any]:
    return {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": text}]}


def call(call_id: str, name: str = "f", arguments: str = "{}") -> dict[str, Any]:
    return {"type": "function_call", "call_id": call_id, "name": name, "arguments": arguments}


def output(call_id: str, text: str = "ok") -> dict[str, Any]:
    return {"type": "function_call_output", "call_id": call_id, "output": text}


def reasoning(text: str = "", *carriers: dict[str, Any], raw: str = "") -> dict[str, Any]:
    item: dict[str, Any] = {"type": "reasoning", "summary": []}
    if text:
        item["summary"] = [{"type": "summary_text", "text": text}]
    if raw:
        item["content"] = [{"type": "reasoning_text", "text": raw}]
    if carriers:
        item["encrypted_content"] = encode_carriers(list(carriers))
    return item


def thought(call_id: str, signature: str, source: str = "extra_content") -> dict[str, Any]:
    return {"kind": "thought_signature", "source": source, "signature": signature, "call_id": call_id}


def detail(**fields: Any) -> dict[str, Any]:
    return {"kind": "reasoning_detail", "detail": fields}


def tool_call(call_id: str, name: str = "f", arguments: str = "{}", **extra: Any) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}, **extra}


def tool(call_id: str, text: str = "ok") -> dict[str, Any]:
    return {"role": "tool", "tool_call_id": call_id, "content": text}


def gemini_sig(signature: str) -> dict[str, Any]:
    return {"google": {"thought_signature": signature}}


def translated_output(name: str) -> list[Any]:
    """The output items our translator gives for a recorded stream (``openai.types.responses`` models)."""
    *_, terminal = translate(read_chunk_file(CORPUS / name), ids=SequentialIds())
    assert isinstance(terminal, (ResponseCompletedEvent, ResponseIncompleteEvent, ResponseFailedEvent))
    return list(terminal.response.output)


def roles(messages: list[dict[str, Any]]) -> list[str]:
    return [m["role"] for m in messages]


# ---------------------------------------------------------------------------------------------- input forms


def test_string_input_is_one_user_message() -> None:
    assert items_to_messages("hello") == [{"role": "user", "content": "hello"}]
    assert items_to_messages("hello", instructions="be brief") == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "hello"},
    ]


@pytest.mark.parametrize("bad", [None, 3, {"role": "user", "content": "x"}, b"bytes"])
def test_input_that_is_not_a_list_or_str_is_a_value_error(bad: Any) -> None:
    with pytest.raises(ValueError, match="must be a list"):
        items_to_messages(bad)
    with pytest.raises(ValueError, match="must be a list"):
        messages_to_items(bad)


def test_unknown_reasoning_content_mode_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="reasoning_content"):
        items_to_messages([], reasoning_content="sometimes")  # type: ignore[arg-type]


def test_sdk_models_are_accepted() -> None:
    items = [
        user("hi"),
        ResponseReasoningItem(id="rs_1", type="reasoning", summary=[], encrypted_content=None),
        ResponseOutputMessage(
            id="msg_1",
            type="message",
            role="assistant",
            status="completed",
            content=[ResponseOutputText(type="output_text", text="Calling.", annotations=[])],
        ),
        ResponseFunctionToolCall(
            id="fc_1", type="function_call", call_id="c1", name="f", arguments='{"a":1}', status="completed"
        ),
    ]
    assert items_to_messages(items)[1] == {
        "role": "assistant",
        "content": "Calling.",
        "tool_calls": [tool_call("c1", arguments='{"a":1}')],
    }


def test_ids_and_status_on_input_items_are_ignored() -> None:
    items = [
        {**user("hi"), "id": "msg_9"},
        {**call("c1"), "id": "fc_9", "status": "completed"},
        {**output("c1"), "id": "fco_9", "status": "completed"},
    ]
    assert items_to_messages(items) == [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": None, "tool_calls": [tool_call("c1")]},
        tool("c1"),
    ]


# ---------------------------------------------------------------------------------------------- system


def test_instructions_system_and_developer_merge_into_one_leading_system_message() -> None:
    items = [
        {"role": "developer", "content": "dev one"},
        user("hi"),
        assistant("hello"),
        {"type": "message", "role": "system", "content": [{"type": "input_text", "text": "late system"}]},
        {"role": "developer", "content": [{"type": "input_text", "text": "dev two"}]},
        user("again"),
    ]
    messages = items_to_messages(items, instructions="instructions")
    assert messages[0] == {"role": "system", "content": "instructions\n\ndev one\n\nlate system\n\ndev two"}
    assert roles(messages) == ["system", "user", "assistant", "user"]


def test_no_system_message_when_there_is_no_system_text() -> None:
    assert roles(items_to_messages([user("hi")])) == ["user"]
    assert roles(items_to_messages([user("hi")], instructions="")) == ["user"]


# ---------------------------------------------------------------------------------------------- content


def test_message_items_with_and_without_type_and_string_content() -> None:
    items = [
        {"role": "user", "content": "plain"},
        {"type": "message", "role": "user", "content": "typed"},
        {"role": "assistant", "content": "answer"},
    ]
    assert items_to_messages(items) == [
        {"role": "user", "content": "plain"},
        {"role": "user", "content": "typed"},
        {"role": "assistant", "content": "answer"},
    ]


def test_text_only_user_content_becomes_a_string() -> None:
    item = {
        "role": "user",
        "content": [
            {"type": "input_text", "text": "a"},
            {"type": "text", "text": "b"},
            {"type": "output_text", "text": "c"},
        ],
    }
    assert items_to_messages([item]) == [{"role": "user", "content": "a\nb\nc"}]


def test_user_media_parts() -> None:
    item = {
        "role": "user",
        "content": [
            {"type": "input_text", "text": "look"},
            {"type": "input_image", "image_url": "https://x/i.png", "detail": "low"},
            {"type": "input_image", "image_url": "data:image/png;base64,AA", "detail": "original"},
            {"type": "input_image", "file_id": "file-img", "detail": "auto"},
            {"type": "input_file", "file_data": "data:application/pdf;base64,AA", "filename": "a.pdf"},
            {"type": "input_file", "file_id": "file-1"},
            {"type": "input_audio", "input_audio": {"data": "AAA", "format": "wav"}},
        ],
    }
    assert items_to_messages([item])[0]["content"] == [
        {"type": "text", "text": "look"},
        {"type": "image_url", "image_url": {"url": "https://x/i.png", "detail": "low"}},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA"}},
        {"type": "file", "file": {"file_id": "file-img"}},
        {"type": "file", "file": {"file_data": "data:application/pdf;base64,AA", "filename": "a.pdf"}},
        {"type": "file", "file": {"file_id": "file-1"}},
        {"type": "input_audio", "input_audio": {"data": "AAA", "format": "wav"}},
    ]


def test_unusable_parts_are_reported() -> None:
    dropped: list[str] = []
    item = {
        "role": "user",
        "content": [
            {"type": "input_text", "text": "x"},
            {"type": "input_file", "file_url": "https://x/a.pdf"},
            {"type": "input_image"},
            {"type": "hologram"},
        ],
    }
    assert items_to_messages([item], dropped=dropped) == [{"role": "user", "content": "x"}]
    assert len(dropped) == 3


def test_assistant_content_is_a_string_and_refusal_is_text() -> None:
    item = {
        "type": "message",
        "role": "assistant",
        "content": [
            {"type": "output_text", "text": "part one", "annotations": []},
            {"type": "refusal", "refusal": "I can't do that."},
        ],
    }
    assert items_to_messages([item]) == [{"role": "assistant", "content": "part one\nI can't do that."}]


# ---------------------------------------------------------------------------------------------- turns


def test_one_assistant_message_per_turn() -> None:
    items = [
        user("weather?"),
        reasoning("thinking"),
        assistant("Let me check."),
        call("c1", "weather", '{"city":"Paris"}'),
        {**call("c2", "time", "{}"), "namespace": "clock"},
        output("c1", "sunny"),
        output("c2", "noon"),
        assistant("Sunny at noon."),
    ]
    assert items_to_messages(items) == [
        {"role": "user", "content": "weather?"},
        {
            "role": "assistant",
            "content": "Let me check.",
            "tool_calls": [tool_call("c1", "weather", '{"city":"Paris"}'), tool_call("c2", "time")],
            "reasoning_content": "thinking",
        },
        tool("c1", "sunny"),
        tool("c2", "noon"),
        {"role": "assistant", "content": "Sunny at noon."},
    ]


def test_content_is_null_when_a_turn_has_only_tool_calls() -> None:
    message = items_to_messages([user("x"), call("c1")])[1]
    assert message == {"role": "assistant", "content": None, "tool_calls": [tool_call("c1")]}


def test_calls_made_one_after_another_stay_separate_assistant_messages() -> None:
    """Codex 0.169.0 and the Runner: ``fc1, out1, fc2, out2`` is two model responses, not one."""
    items = [user("x"), call("c1"), output("c1", "one"), call("c2"), output("c2", "two")]
    assert items_to_messages(items) == [
        {"role": "user", "content": "x"},
        {"role": "assistant", "content": None, "tool_calls": [tool_call("c1")]},
        tool("c1", "one"),
        {"role": "assistant", "content": None, "tool_calls": [tool_call("c2")]},
        tool("c2", "two"),
    ]


def test_interleaved_outputs_stay_with_one_assistant_message_in_same_turn_mode() -> None:
    """Older Codex records each call's output right after it: ``same_turn`` keeps ONE assistant message."""
    items = [user("x"), call("c1"), output("c1", "one"), call("c2"), output("c2", "two")]
    assert items_to_messages(items, calls_after_outputs="same_turn") == [
        {"role": "user", "content": "x"},
        {"role": "assistant", "content": None, "tool_calls": [tool_call("c1"), tool_call("c2")]},
        tool("c1", "one"),
        tool("c2", "two"),
    ]


def test_tool_results_are_put_in_call_order() -> None:
    items = [
        user("x"),
        call("c1"),
        call("c2"),
        call("c3"),
        output("c3", "3"),
        output("c1", "1"),
        output("c2", "2"),
    ]
    assert [m.get("tool_call_id") for m in items_to_messages(items)[2:]] == ["c1", "c2", "c3"]


def test_a_late_output_moves_right_after_its_call() -> None:
    items = [user("x"), call("c1"), user("y"), output("c1", "late")]
    assert items_to_messages(items) == [
        {"role": "user", "content": "x"},
        {"role": "assistant", "content": None, "tool_calls": [tool_call("c1")]},
        tool("c1", "late"),
        {"role": "user", "content": "y"},
    ]


def test_an_output_for_an_unknown_call_is_kept_in_place() -> None:
    items = [user("x"), output("ghost", "boo"), user("y")]
    assert items_to_messages(items) == [
        {"role": "user", "content": "x"},
        tool("ghost", "boo"),
        {"role": "user", "content": "y"},
    ]


def test_sequential_steps_with_reasoning_or_text_are_separate_turns() -> None:
    items = [
        user("x"),
        reasoning("step one"),
        call("c1"),
        output("c1"),
        reasoning("step two"),
        call("c2"),
        output("c2"),
        assistant("done"),
    ]
    messages = items_to_messages(items)
    assert roles(messages) == ["user", "assistant", "tool", "assistant", "tool", "assistant"]
    assert messages[1]["reasoning_content"] == "step one"
    assert messages[3]["reasoning_content"] == "step two"
    assert messages[5] == {"role": "assistant", "content": "done"}


@pytest.mark.parametrize(
    ("mode", "expected_roles"),
    [
        ("new_turn", ["user", "assistant", "tool", "assistant", "tool"]),
        ("same_turn", ["user", "assistant", "tool", "tool"]),
    ],
)
def test_a_signature_after_the_output_stays_with_its_call(mode: str, expected_roles: list[str]) -> None:
    """OpenRouter/Vercel send a Gemini signature after the call; Codex may record the output in between."""
    named = reasoning("", detail(type="reasoning.encrypted", data="S1", format="google-gemini-v1", id="c1"))
    unnamed = reasoning("", detail(type="reasoning.encrypted", data="S2", format="google-gemini-v1"))
    for sig_item, signature in ((named, "S1"), (unnamed, "S2")):
        messages = items_to_messages(
            [user("x"), call("c1"), output("c1"), sig_item, call("c2"), output("c2")],
            calls_after_outputs=mode,  # type: ignore[arg-type]
        )
        assert roles(messages) == expected_roles
        calls = [c for m in messages for c in m.get("tool_calls", [])]
        assert calls[0]["extra_content"] == gemini_sig(signature)
        assert "extra_content" not in calls[1]


def test_a_reasoning_only_turn_is_dropped_and_reported() -> None:
    dropped: list[str] = []
    assert items_to_messages([user("x"), reasoning("hmm")], dropped=dropped) == [
        {"role": "user", "content": "x"}
    ]
    assert dropped == ["assistant turn with neither text nor tool calls (reasoning only)"]


def test_function_call_outputs_as_content_parts() -> None:
    out = {
        "type": "function_call_output",
        "call_id": "c1",
        "output": [
            {"type": "input_text", "text": "see"},
            {"type": "input_image", "image_url": "https://x/i.png"},
            {"type": "input_file", "filename": "r.pdf", "file_id": "file-1"},
        ],
    }
    assert items_to_messages([call("c1"), out])[1] == tool("c1", "see\n[image]\n[file: r.pdf]")


def test_items_that_cannot_be_replayed_are_skipped_and_reported() -> None:
    dropped: list[str] = []
    items = [
        user("x"),
        {"type": "item_reference", "id": "msg_1"},
        {"type": "web_search_call", "id": "ws_1", "status": "completed"},
        {"type": "function_call", "name": "f", "arguments": "{}"},
        {"type": "function_call_output", "output": "orphan"},
        {"role": "tool", "content": "??"},
        "not an item",
        {"no": "type"},
    ]
    assert items_to_messages(items, dropped=dropped) == [{"role": "user", "content": "x"}]
    assert dropped[:2] == ["item_reference", "web_search_call"]
    assert len(dropped) == 7


# ---------------------------------------------------------------------------------------------- reasoning


@pytest.mark.parametrize(
    ("mode", "on_tool_turn", "on_text_turn"),
    [("tool_turns", True, False), ("always", True, True), ("never", False, False)],
)
def test_reasoning_content_modes(mode: Any, on_tool_turn: bool, on_text_turn: bool) -> None:
    items = [user("x"), reasoning("r1"), call("c1"), output("c1"), reasoning("r2"), assistant("done")]
    messages = items_to_messages(items, reasoning_content=mode)
    assert ("reasoning_content" in messages[1]) is on_tool_turn
    assert ("reasoning_content" in messages[3]) is on_text_turn


def test_reasoning_text_content_is_preferred_to_the_summary() -> None:
    items = [reasoning("short summary", raw="the raw reasoning"), call("c1")]
    assert items_to_messages(items)[0]["reasoning_content"] == "the raw reasoning"


def test_thought_signature_carriers_go_on_their_call() -> None:
    items = [
        user("x"),
        reasoning("", thought("c2", "SIG-2")),
        call("c1"),
        call("c2"),
        call("c3"),
        reasoning("", thought("c3", "SIG-3", source="provider_specific_fields")),
    ]
    calls = items_to_messages(items)[1]["tool_calls"]
    assert calls == [
        tool_call("c1"),
        tool_call("c2", extra_content=gemini_sig("SIG-2")),
        tool_call(
            "c3", extra_content=gemini_sig("SIG-3"), provider_specific_fields={"thought_signature": "SIG-3"}
        ),
    ]


def test_reasoning_details_come_back_in_order() -> None:
    anthropic = {"type": "reasoning.text", "signature": "ANT", "format": "anthropic-claude-v1", "index": 0}
    openai_enc = {"type": "reasoning.encrypted", "data": "gAAA", "format": "openai-responses-v1", "index": 0}
    gemini = {
        "type": "reasoning.encrypted",
        "data": "GEM",
        "format": "google-gemini-v1",
        "id": "c1",
        "index": 0,
    }
    items = [
        reasoning("the thought", {"kind": "reasoning_detail", "detail": anthropic}),
        reasoning("", {"kind": "reasoning_detail", "detail": openai_enc}),
        call("c1"),
        call("c2"),
        reasoning("", {"kind": "reasoning_detail", "detail": gemini}),
    ]
    message = items_to_messages(items)[0]
    assert message["reasoning_details"] == [{**anthropic, "text": "the thought"}, openai_enc, gemini]
    assert message["tool_calls"][0]["extra_content"] == gemini_sig("GEM")
    assert "extra_content" not in message["tool_calls"][1]


def test_an_explicit_thought_signature_wins_over_a_detail() -> None:
    items = [
        reasoning("", detail(type="reasoning.encrypted", data="D", format="google-gemini-v1", id="c1")),
        reasoning("", thought("c1", "T")),
        call("c1"),
    ]
    assert items_to_messages(items)[0]["tool_calls"][0]["extra_content"] == gemini_sig("T")


def test_thinking_blocks_for_anthropic_via_litellm() -> None:
    items = [
        reasoning(
            "deep thought",
            {"kind": "thinking_signature", "signature": "SIG"},
            {"kind": "redacted_thinking", "data": "REDACTED"},
        ),
        assistant("42"),
    ]
    assert items_to_messages(items) == [
        {
            "role": "assistant",
            "content": "42",
            "thinking_blocks": [
                {"type": "thinking", "thinking": "deep thought", "signature": "SIG"},
                {"type": "redacted_thinking", "data": "REDACTED"},
            ],
        }
    ]


def test_several_signed_blocks_in_one_item_give_the_text_to_the_first() -> None:
    item = reasoning(
        "all of it",
        {"kind": "thinking_signature", "signature": "A"},
        {"kind": "thinking_signature", "signature": "B"},
    )
    blocks = items_to_messages([item, assistant("x")])[0]["thinking_blocks"]
    assert [b["thinking"] for b in blocks] == ["all of it", ""]


def test_foreign_encrypted_content_is_dropped_but_its_text_is_kept() -> None:
    dropped: list[str] = []
    item = {
        "type": "reasoning",
        "summary": [{"type": "summary_text", "text": "why"}],
        "encrypted_content": "gAAAA",
    }
    message = items_to_messages([item, call("c1")], dropped=dropped)[0]
    assert message == {
        "role": "assistant",
        "content": None,
        "tool_calls": [tool_call("c1")],
        "reasoning_content": "why",
    }
    assert dropped == ["reasoning encrypted_content not produced by this bridge"]


def test_no_reasoning_fields_are_invented() -> None:
    items = [user("x"), reasoning(""), assistant("a"), call("c1"), output("c1")]
    for message in items_to_messages(items, reasoning_content="always"):
        assert not set(REASONING_FIELDS) & set(message)
        assert "extra_content" not in json.dumps(message)


# ---------------------------------------------------------------------------------------------- real streams


def test_deepseek_reasoner_tool_call_keeps_reasoning_content() -> None:
    out = translated_output("deepseek/reasoner_tool_call.jsonl")
    messages = items_to_messages([user("weather in SF?"), *out, output(out[-1].call_id, "18C")])
    assert roles(messages) == ["user", "assistant", "tool"]
    message = messages[1]
    assert message["content"] is None
    assert message["reasoning_content"].startswith("The user is asking for the weather in San Francisco.")
    assert [c["function"]["name"] for c in message["tool_calls"]] == ["weather"]
    assert message["tool_calls"][0]["id"] == messages[2]["tool_call_id"] == "call_00_ioIn7yN9p1ZOMNpDLwd4MgAF"


@pytest.mark.parametrize(
    ("name", "signed"),
    [
        (
            "google/gemini3_tool_call_thought_signature_extra_content.jsonl",
            {"function-call-1": "<Signature A>"},
        ),
        (
            "google/gemini_compat_parallel_tools_no_index_SELF_AUTHORED.jsonl",
            {
                "function-call-1111111111111111111": "<signature-placeholder>",
                "function-call-2222222222222222222": None,
            },
        ),
    ],
)
def test_gemini_thought_signatures_go_back_on_the_right_call(
    name: str, signed: dict[str, str | None]
) -> None:
    message = output_items_to_message(translated_output(name))
    assert [c["id"] for c in message["tool_calls"]] == list(signed)
    for tc in message["tool_calls"]:
        expected = signed[tc["id"]]
        assert tc.get("extra_content") == (gemini_sig(expected) if expected else None)
    assert not set(REASONING_FIELDS) & set(message)


def test_openrouter_gemini_parallel_tools_encrypted_reasoning() -> None:
    message = output_items_to_message(
        translated_output("openrouter/gemini31_parallel_tools_encrypted_reasoning.jsonl")
    )
    first, second = message["tool_calls"]
    [sent] = message["reasoning_details"]
    assert sent["type"] == "reasoning.encrypted"
    assert sent["format"] == "google-gemini-v1"
    assert sent["id"] == first["id"] == "tool_add_kZJN6iFNozVOBiXBMA2Y"
    assert first["extra_content"] == gemini_sig(sent["data"])
    assert "extra_content" not in second


def test_vercel_gemini_signature_after_the_call() -> None:
    out = translated_output("vercel_gateway/gemini3_reasoning_tool_encrypted_signature.jsonl")
    assert [i.type for i in out] == ["reasoning", "function_call", "reasoning"]
    message = output_items_to_message(out)
    [sent] = message["reasoning_details"]
    assert sent["type"] == "reasoning.encrypted"
    assert sent["format"] == "google-gemini-v1"
    assert "id" not in sent  # Vercel names no call: the step's signature goes to its first call
    assert message["tool_calls"][0]["extra_content"] == gemini_sig(sent["data"])
    assert message["reasoning_content"].startswith("**Determining the Weather**")


def test_vercel_claude_thinking_signature_gets_its_text_back() -> None:
    out = translated_output("vercel_gateway/claude_sonnet4_thinking_signature.jsonl")
    message = output_items_to_message(out)
    [sent] = message["reasoning_details"]
    text = out[0].summary[0].text
    assert sent["type"] == "reasoning.text"
    assert sent["text"] == text
    assert sent["text"].startswith("The user is asking for weather information for Florence, Italy.")
    assert sent["signature"].startswith("EqoDCkYICxgCKkBZgA2aLmZQ")
    assert message["tool_calls"][0]["id"] == "toolu_01BSgre5nzVkzeu74htYGhf9"
    assert "extra_content" not in message["tool_calls"][0]


def test_openai_parallel_calls_are_one_message_then_the_results_in_order() -> None:
    out = translated_output("openai/parallel_tool_calls_two.jsonl")
    ids = [i.call_id for i in out]
    messages = items_to_messages([user("two things"), *out, output(ids[1], "AAPL 1"), output(ids[0], "rain")])
    assert messages == [
        {"role": "user", "content": "two things"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                tool_call(ids[0], "GetWeatherArgs", '{"city": "Edinburgh", "country": "GB", "units": "c"}'),
                tool_call(ids[1], "get_stock_price", '{"ticker": "AAPL", "exchange": "NASDAQ"}'),
            ],
        },
        tool(ids[0], "rain"),
        tool(ids[1], "AAPL 1"),
    ]


def test_codex_style_stateless_replay() -> None:
    signature = encode_carriers([thought("call_1", "GEMINI-SIG")])
    items = [
        {
            "type": "message",
            "id": "m1",
            "role": "developer",
            "content": [{"type": "input_text", "text": "perms"}],
        },
        {
            "type": "message",
            "id": "m2",
            "role": "developer",
            "content": [{"type": "input_text", "text": "agents"}],
        },
        {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": "<environment_context/>"}],
        },
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "list files"}]},
        {
            "type": "reasoning",
            "id": "rs_1",
            "summary": [{"type": "summary_text", "text": "I should run ls."}],
            "encrypted_content": signature,
        },
        {
            "type": "function_call",
            "id": "fc_1",
            "call_id": "call_1",
            "name": "shell",
            "arguments": '{"command":["ls"]}',
            "status": "completed",
        },
        {"type": "function_call_output", "call_id": "call_1", "output": "a.txt\nb.txt"},
        {
            "type": "message",
            "id": "msg_2",
            "role": "assistant",
            "status": "completed",
            "content": [{"type": "output_text", "text": "Two files.", "annotations": []}],
        },
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "thanks"}]},
    ]
    assert items_to_messages(items) == [
        {"role": "system", "content": "perms\n\nagents"},
        {"role": "user", "content": "<environment_context/>"},
        {"role": "user", "content": "list files"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                tool_call("call_1", "shell", '{"command":["ls"]}', extra_content=gemini_sig("GEMINI-SIG"))
            ],
            "reasoning_content": "I should run ls.",
        },
        tool("call_1", "a.txt\nb.txt"),
        {"role": "assistant", "content": "Two files."},
        {"role": "user", "content": "thanks"},
    ]


# ---------------------------------------------------------------------------------------------- output items


def test_output_items_to_message_is_one_assistant_turn() -> None:
    dropped: list[str] = []
    out = [reasoning("r"), assistant("text"), call("c1"), {"type": "web_search_call", "id": "ws"}]
    assert output_items_to_message(out, dropped=dropped) == {
        "role": "assistant",
        "content": "text",
        "tool_calls": [tool_call("c1")],
        "reasoning_content": "r",
    }
    assert dropped == ["not an assistant output item: web_search_call"]
    assert output_items_to_message([]) == {"role": "assistant", "content": ""}


# ---------------------------------------------------------------------------------------------- inverse


def test_messages_to_items_shapes() -> None:
    messages = [
        {"role": "system", "content": "sys"},
        {"role": "developer", "content": [{"type": "text", "text": "dev"}]},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "look"},
                {"type": "image_url", "image_url": {"url": "https://x/i.png", "detail": "high"}},
                {"type": "file", "file": {"file_id": "file-1"}},
            ],
        },
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [tool_call("c1", "f", '{"a":1}')],
            "reasoning_content": "r",
        },
        tool("c1", "res"),
        {"role": "assistant", "content": "done"},
    ]
    assert messages_to_items(messages) == [
        {"type": "message", "role": "system", "content": [{"type": "input_text", "text": "sys"}]},
        {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "dev"}]},
        {
            "type": "message",
            "role": "user",
            "content": [
                {"type": "input_text", "text": "look"},
                {"type": "input_image", "image_url": "https://x/i.png", "detail": "high"},
                {"type": "input_file", "file_id": "file-1"},
            ],
        },
        {"type": "reasoning", "summary": [{"type": "summary_text", "text": "r"}]},
        {"type": "function_call", "call_id": "c1", "name": "f", "arguments": '{"a":1}'},
        {"type": "function_call_output", "call_id": "c1", "output": "res"},
        {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "done", "annotations": []}],
        },
    ]


def test_messages_to_items_puts_signatures_into_our_carriers() -> None:
    message = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            tool_call("c1", extra_content=gemini_sig("S1")),
            tool_call(
                "c2", extra_content=gemini_sig("S2"), provider_specific_fields={"thought_signature": "S2"}
            ),
        ],
        "thinking_blocks": [{"type": "thinking", "thinking": "t", "signature": "A"}],
    }
    [rs, _c1, _c2] = messages_to_items([message])
    assert decode_carriers(rs["encrypted_content"]) == [
        {"kind": "thinking_signature", "signature": "A"},
        thought("c1", "S1"),
        thought("c2", "S2", source="provider_specific_fields"),
    ]
    assert rs["summary"] == [{"type": "summary_text", "text": "t"}]


ROUND_TRIP = [
    [
        {"role": "system", "content": "s"},
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "yo"},
    ],
    [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "x"},
                {"type": "image_url", "image_url": {"url": "u", "detail": "low"}},
            ],
        },
        {
            "role": "assistant",
            "content": "Checking.",
            "tool_calls": [tool_call("c1", extra_content=gemini_sig("S")), tool_call("c2")],
            "reasoning_content": "because",
        },
        tool("c1", "one"),
        tool("c2", "two"),
    ],
    [
        {
            "role": "assistant",
            "content": "ok",
            "reasoning_details": [
                {
                    "type": "reasoning.text",
                    "text": "thought",
                    "signature": "X",
                    "format": "anthropic-claude-v1",
                },
                {"type": "reasoning.encrypted", "data": "E", "format": "openai-responses-v1"},
            ],
            "thinking_blocks": [
                {"type": "thinking", "thinking": "thought", "signature": "T"},
                {"type": "redacted_thinking", "data": "R"},
            ],
        }
    ],
]


@pytest.mark.parametrize("messages", ROUND_TRIP)
def test_round_trip_hand_written(messages: list[dict[str, Any]]) -> None:
    assert items_to_messages(messages_to_items(messages)) == messages


ROUND_TRIP_FILES = sorted(p for p in CORPUS.glob("*/*.jsonl"))


@pytest.mark.parametrize("path", ROUND_TRIP_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_round_trip_of_every_recorded_stream(path: Path) -> None:
    """What we build from any real stream's output survives messages → items → messages unchanged."""
    out = translated_output(str(path.relative_to(CORPUS)))
    calls = [i.call_id for i in out if i.type == "function_call"]
    for mode in ("tool_turns", "always"):
        messages = items_to_messages(
            [user("q"), *out, *(output(c, "r") for c in calls)], reasoning_content=mode
        )
        assert items_to_messages(messages_to_items(messages), reasoning_content=mode) == messages


# ---------------------------------------------------------------------------------------------- property

_scalar = st.none() | st.booleans() | st.integers() | st.text(max_size=5)
_keys = st.sampled_from(
    [
        "type",
        "role",
        "content",
        "text",
        "call_id",
        "name",
        "arguments",
        "output",
        "summary",
        "encrypted_content",
        "image_url",
        "file_id",
        "refusal",
        "detail",
        "id",
    ]
)
_values = st.sampled_from(
    [
        "message",
        "user",
        "assistant",
        "system",
        "developer",
        "reasoning",
        "function_call",
        "function_call_output",
        "input_text",
        "output_text",
        "input_image",
        "input_file",
        "refusal",
        "item_reference",
        "summary_text",
        encode_carriers(
            [thought("c", "s"), detail(type="reasoning.encrypted", format="google-gemini-v1", data="d")]
        ),
        encode_carriers(
            [{"kind": "thinking_signature", "signature": 3}, {"kind": "reasoning_detail", "detail": 1}]
        ),
    ]
)
_json = st.recursive(
    _scalar | _values,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_keys, children, max_size=5),
    max_leaves=20,
)
_item = st.dictionaries(_keys, _json, max_size=6) | _json


@settings(max_examples=400, deadline=None)
@given(st.lists(_item, max_size=8), st.sampled_from(["tool_turns", "always", "never"]))
def test_items_to_messages_never_raises_on_item_ish_input(items: list[Any], mode: Any) -> None:
    dropped: list[str] = []
    messages = items_to_messages(items, reasoning_content=mode, dropped=dropped)
    json.dumps(messages)  # JSON-ready
    assert all(m["role"] in ("system", "user", "assistant", "tool") for m in messages)
    assert roles(messages).count("system") <= 1
    assert "system" not in roles(messages)[1:]
    output_items_to_message(items, reasoning_content=mode)
    messages_to_items(messages)


@pytest.mark.parametrize(("mode", "assistant_turns"), [("same_turn", 1), ("new_turn", 2)])
def test_calls_after_outputs_choose_the_turn_boundary(mode: str, assistant_turns: int) -> None:
    items = [
        {"role": "user", "content": "go"},
        {"type": "function_call", "call_id": "a", "name": "f", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "a", "output": "1"},
        {"type": "function_call", "call_id": "b", "name": "f", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "b", "output": "2"},
    ]
    messages = items_to_messages(items, calls_after_outputs=mode)  # type: ignore[arg-type]
    assistants = [m for m in messages if m["role"] == "assistant"]
    assert len(assistants) == assistant_turns
    assert [m.get("tool_call_id") for m in messages if m["role"] == "tool"] == ["a", "b"]
    if mode == "new_turn":
        assert [m["role"] for m in messages] == ["user", "assistant", "tool", "assistant", "tool"]
