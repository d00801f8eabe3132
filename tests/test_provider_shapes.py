"""One small hand-written chunk list per provider shape, fed straight into the core.

Each test drives ``ChatCmplStreamHandler.feed_dicts`` with the shape a provider really sends (see
``docs/provider-quirks.md`` and ``fixtures/chat-streams/MANIFEST.md``) and asserts on the
emitted events and on the terminal response. :func:`run` also checks, for every stream, the envelope rules
of ``docs/responses-stream-rules.md`` that need no knowledge of the input (sequence numbers, lifecycle, one
terminal, items that pair up and never overlap, terminal output == done items).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import pytest
from openai.types.chat import ChatCompletionChunk
from pydantic import ValidationError

from chat_to_responses import ChatCmplStreamHandler, SequentialIds, decode_carriers, to_event_model

Event = dict[str, Any]

CREATED = 1_700_000_000
TERMINAL_TYPES = ("response.completed", "response.incomplete", "response.failed")
LIFECYCLE_TYPES = ("response.created", "response.in_progress", *TERMINAL_TYPES)
THINK_STREAM = "<think>abc</think>\n\nHello"


# --------------------------------------------------------------------------------------------------- helpers


def chunk(
    delta: dict[str, Any] | None = None,
    *,
    finish: str | None = None,
    index: int = 0,
    logprobs: Any = None,
    **envelope: Any,
) -> dict[str, Any]:
    """A chat.completion.chunk with one choice; ``envelope`` adds or overrides top-level keys."""
    choice: dict[str, Any] = {
        "index": index,
        "delta": {} if delta is None else delta,
        "finish_reason": finish,
    }
    if logprobs is not None:
        choice["logprobs"] = logprobs
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": "test-model",
        "choices": [choice],
        **envelope,
    }


def usage_chunk(usage: dict[str, Any]) -> dict[str, Any]:
    """The trailing ``choices: []`` chunk of ``stream_options.include_usage``."""
    return chunk(choices=[], usage=usage)


def tool(
    index: int | None = None,
    call_id: str | None = None,
    name: str | None = None,
    arguments: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One ``delta.tool_calls`` entry, with only the keys given (providers omit keys freely)."""
    fragment: dict[str, Any] = {}
    if index is not None:
        fragment["index"] = index
    if call_id is not None:
        fragment["id"] = call_id
        fragment["type"] = "function"
    function: dict[str, Any] = {}
    if name is not None:
        function["name"] = name
    if arguments is not None:
        function["arguments"] = arguments
    if function:
        fragment["function"] = function
    fragment.update(extra)
    return fragment


def run(chunks: Iterable[Any], *, finish: bool = True, **options: Any) -> list[Event]:
    """Feed every chunk to a fresh handler (wire form), then ``finish()``; check the stream's envelope."""
    handler = ChatCmplStreamHandler(ids=SequentialIds(), **options)
    events: list[Event] = []
    for item in chunks:
        events += handler.feed_dicts(item)
    if finish:
        events += handler.finish_dicts()
    check_structure(events)
    return events


def check_structure(events: list[Event]) -> None:
    """Rules 1-4, 6-9, 16 of responses-stream-rules.md, plus the project's validator when it exists."""
    assert events, "no events at all"
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    assert [e["type"] for e in events[:2]] == ["response.created", "response.in_progress"]
    assert events[0]["response"]["status"] == "in_progress"
    assert events[0]["response"]["output"] == []
    terminals = [e for e in events if e["type"] in TERMINAL_TYPES]
    assert len(terminals) == 1, [e["type"] for e in terminals]
    assert events[-1] is terminals[0]
    response_ids = {e["response"]["id"] for e in events if e["type"] in LIFECYCLE_TYPES}
    assert len(response_ids) == 1
    assert next(iter(response_ids)).startswith("resp_")
    check_items(events)
    for event in events:
        check_schema(event)
    check_with_project_validator(events)


def check_schema(event: Event) -> None:
    """The event validates as its ``openai.types.responses`` model (what ``feed()`` returns)."""
    problems = schema_problems(event)
    if problems is not None:
        pytest.fail(f"{event['type']} (#{event['sequence_number']}) fails its schema: {problems}")


def schema_problems(event: Event) -> list[str] | None:
    try:
        to_event_model(event)
    except ValidationError as exc:
        # The union reports every member; keep the errors about this event's own fields.
        relevant = (
            f"{'.'.join(map(str, err['loc'][1:]))} = {err['input']!r:.60}: {err['msg'][:120]}"
            for err in exc.errors()
            if err["type"] != "missing" and err["loc"][-1] != "type"
        )
        return list(dict.fromkeys(relevant))[:3]
    return None


def check_items(events: list[Event]) -> None:
    """added/done pair up, output_index dense and in order, no overlap, deltas name the open item."""
    open_item: dict[str, Any] | None = None
    done_items: list[dict[str, Any]] = []
    item_ids: set[str] = set()
    call_ids: set[str] = set()
    for event in events:
        kind = event["type"]
        if kind == "response.output_item.added":
            assert open_item is None, f"item {event['output_index']} added while another is open"
            assert event["output_index"] == len(done_items)
            item = event["item"]
            assert item["status"] == "in_progress"
            assert item["id"]
            assert item["id"] not in item_ids
            item_ids.add(item["id"])
            if item["type"] == "function_call":
                assert item["call_id"]
                assert item["call_id"] not in call_ids
                call_ids.add(item["call_id"])
                assert item["arguments"] == ""
            open_item = {"index": event["output_index"], "item": item}
        elif kind == "response.output_item.done":
            assert open_item is not None
            assert open_item["index"] == event["output_index"]
            before, after = open_item["item"], event["item"]
            for key in ("type", "id", "call_id", "name"):
                assert before.get(key) == after.get(key), key
            done_items.append(after)
            open_item = None
        elif "item_id" in event:
            assert open_item is not None, f"{kind} with no open item"
            assert event["item_id"] == open_item["item"]["id"]
            assert event["output_index"] == open_item["index"]
    final = events[-1]["response"]
    assert final["output"][: len(done_items)] == done_items
    cut = final["output"][len(done_items) :]
    if final["status"] == "completed":
        assert open_item is None, "an item was never done"
        assert cut == []
    # A cut or a failure never announces the open item done: it is in the output only, incomplete.
    assert all(item["status"] == "incomplete" for item in cut)
    if open_item is not None:
        assert cut, "the open item is missing from the output"
        assert cut[0]["id"] == open_item["item"]["id"]


def check_with_project_validator(events: list[Event]) -> None:
    """``chat_to_responses.testing.check_stream`` (being written by someone else) when it is there."""
    try:
        from chat_to_responses import testing
    except ImportError:
        return
    check_stream = getattr(testing, "check_stream", None)
    if check_stream is not None:
        assert check_stream(events) == []


def terminal(events: list[Event]) -> dict[str, Any]:
    """The terminal event's response."""
    return events[-1]["response"]


def of_type(events: list[Event], kind: str) -> list[Event]:
    return [e for e in events if e["type"] == kind]


def types(events: list[Event]) -> list[str]:
    return [e["type"] for e in events]


def output(events: list[Event], kind: str | None = None) -> list[dict[str, Any]]:
    """The terminal response's output items (of one type)."""
    return [item for item in terminal(events)["output"] if kind is None or item["type"] == kind]


def message_text(events: list[Event]) -> str:
    """All output_text of all messages in the terminal response."""
    return "".join(
        part["text"]
        for item in output(events, "message")
        for part in item["content"]
        if part["type"] == "output_text"
    )


def summary_text(item: dict[str, Any]) -> str:
    return "".join(part["text"] for part in item["summary"])


def reasoning_summaries(events: list[Event]) -> list[str]:
    return [summary_text(item) for item in output(events, "reasoning")]


def assert_completed(events: list[Event]) -> dict[str, Any]:
    response = terminal(events)
    assert events[-1]["type"] == "response.completed"
    assert response["status"] == "completed"
    assert response["error"] is None
    assert response["incomplete_details"] is None
    assert all(item["status"] == "completed" for item in response["output"])
    return response


def calls(events: list[Event]) -> list[tuple[str, str, str]]:
    """(call_id, name, arguments) of every function_call in the terminal output."""
    return [(c["call_id"], c["name"], c["arguments"]) for c in output(events, "function_call")]


def arguments_deltas(events: list[Event], item_id: str) -> str:
    return "".join(
        e["delta"]
        for e in of_type(events, "response.function_call_arguments.delta")
        if e["item_id"] == item_id
    )


USAGE = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
RESPONSES_USAGE = {
    "input_tokens": 10,
    "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
    "output_tokens": 5,
    "output_tokens_details": {"reasoning_tokens": 0},
    "total_tokens": 15,
}


# ------------------------------------------------------------------------------------------------- reasoning


def test_reasoning_content_deepseek() -> None:
    events = run(
        [
            chunk({"role": "assistant", "content": None, "reasoning_content": "Let me"}),
            chunk({"content": None, "reasoning_content": " think."}),
            chunk({"content": "Hi", "reasoning_content": None}),
            chunk({}, finish="stop"),
        ]
    )
    assert_completed(events)
    assert [item["type"] for item in output(events)] == ["reasoning", "message"]
    assert reasoning_summaries(events) == ["Let me think."]
    assert message_text(events) == "Hi"


def test_reasoning_field_openrouter_vllm() -> None:
    events = run(
        [
            chunk({"role": "assistant", "content": "", "reasoning": "Plan"}),
            chunk({"content": "", "reasoning": " it."}),
            chunk({"content": "Done."}),
            chunk({}, finish="stop"),
        ]
    )
    assert_completed(events)
    assert reasoning_summaries(events) == ["Plan it."]
    assert message_text(events) == "Done."


def test_reasoning_details_text_only() -> None:
    detail = {"type": "reasoning.text", "format": "unknown", "index": 0}
    events = run(
        [
            chunk({"reasoning_details": [{**detail, "text": "Step one"}]}),
            chunk({"reasoning_details": [{**detail, "text": ", step two"}]}),
            chunk({"content": "Answer"}, finish="stop"),
        ]
    )
    assert_completed(events)
    assert reasoning_summaries(events) == ["Step one, step two"]
    assert message_text(events) == "Answer"


def test_reasoning_details_summary_is_summary_even_in_text_mode() -> None:
    # OpenRouter sends a summary both as ``reasoning`` and as a ``reasoning.summary`` detail.
    summary = {"type": "reasoning.summary", "format": "openai-responses-v1", "index": 0}
    events = run(
        [
            chunk({"reasoning": "**Plan**", "reasoning_details": [{**summary, "summary": "**Plan**"}]}),
            chunk({"reasoning": " it", "reasoning_details": [{**summary, "summary": " it"}]}),
            chunk({"content": "ok"}, finish="stop"),
        ],
        reasoning="text",
    )
    assert_completed(events)
    assert not of_type(events, "response.reasoning_text.delta")
    deltas = of_type(events, "response.reasoning_summary_text.delta")
    assert [d["delta"] for d in deltas] == ["**Plan**", " it"]
    (item,) = output(events, "reasoning")
    assert item["summary"] == [{"type": "summary_text", "text": "**Plan** it"}]
    assert not item.get("content")


def test_reasoning_and_reasoning_details_same_text_not_duplicated_openrouter() -> None:
    detail = {"type": "reasoning.text", "format": "unknown", "index": 0}
    events = run(
        [
            chunk({"content": "", "reasoning": "abc", "reasoning_details": [{**detail, "text": "abc"}]}),
            chunk({"content": "", "reasoning": "def", "reasoning_details": [{**detail, "text": "def"}]}),
            chunk({"content": "X"}, finish="stop"),
        ]
    )
    assert_completed(events)
    assert reasoning_summaries(events) == ["abcdef"]
    assert [d["delta"] for d in of_type(events, "response.reasoning_summary_text.delta")] == ["abc", "def"]


def test_reasoning_content_and_reasoning_details_not_duplicated_avian() -> None:
    detail = {"type": "reasoning.text", "format": "unknown", "index": 0}
    events = run(
        [
            chunk({"role": "assistant"}),
            chunk(
                {"content": "", "reasoning_content": "The", "reasoning_details": [{**detail, "text": "The"}]}
            ),
            chunk(
                {
                    "content": "",
                    "reasoning_content": " user wants",
                    "reasoning_details": [{**detail, "text": " user wants"}],
                },
                id="gen-123",  # Avian switches ids mid-stream
            ),
            chunk({"content": "Sure"}, id="gen-123"),
            chunk({}, finish="stop", id="gen-123"),
        ]
    )
    assert_completed(events)
    assert reasoning_summaries(events) == ["The user wants"]
    assert message_text(events) == "Sure"


def test_vllm_reasoning_and_reasoning_content_same_text_not_duplicated() -> None:
    # vLLM renamed ``reasoning_content`` to ``reasoning``; versions in between send both.
    events = run(
        [
            chunk({"reasoning_content": "Hmm", "reasoning": "Hmm"}),
            chunk({"reasoning_content": " yes", "reasoning": " yes"}),
            chunk({"content": "Yes"}, finish="stop"),
        ]
    )
    assert_completed(events)
    assert reasoning_summaries(events) == ["Hmm yes"]


def test_openrouter_anthropic_reasoning_details_signature() -> None:
    def detail(**fields: Any) -> dict[str, Any]:
        return {"type": "reasoning.text", "format": "anthropic-claude-v1", "index": 0, **fields}

    events = run(
        [
            chunk({"content": "", "reasoning": None, "reasoning_details": [detail(text="", signature="")]}),
            chunk({"content": "", "reasoning": "Sum it.", "reasoning_details": [detail(text="Sum it.")]}),
            chunk({"content": "", "reasoning": None, "reasoning_details": [detail(signature="Et0BCkg==")]}),
            chunk({"content": "4"}),
            chunk({}, finish="stop"),
        ]
    )
    assert_completed(events)
    assert [i["type"] for i in output(events)] == ["reasoning", "message"]
    (item,) = output(events, "reasoning")
    assert summary_text(item) == "Sum it."
    assert decode_carriers(item["encrypted_content"]) == [
        {"kind": "reasoning_detail", "detail": detail(signature="Et0BCkg==")}
    ]


def test_openrouter_openai_encrypted_reasoning_detail() -> None:
    encrypted = {
        "type": "reasoning.encrypted",
        "data": "gAAAAABp",
        "id": "rs_abc",
        "format": "openai-responses-v1",
        "index": 0,
    }
    events = run(
        [
            chunk({"role": "assistant", "content": "", "reasoning": None, "reasoning_details": [encrypted]}),
            chunk({"content": "Paris."}),
            chunk({}, finish="stop", usage=USAGE),
        ]
    )
    assert_completed(events)
    assert [i["type"] for i in output(events)] == ["reasoning", "message"]
    (item,) = output(events, "reasoning")
    assert item["summary"] == []
    assert decode_carriers(item["encrypted_content"]) == [{"kind": "reasoning_detail", "detail": encrypted}]
    assert message_text(events) == "Paris."


def test_thinking_blocks_with_signature_litellm() -> None:
    events = run(
        [
            chunk(
                {
                    "role": "assistant",
                    "reasoning_content": "I think",
                    "thinking_blocks": [{"type": "thinking", "thinking": "I think", "signature": None}],
                }
            ),
            chunk(
                {
                    "reasoning_content": " so.",
                    "thinking_blocks": [{"type": "thinking", "thinking": " so.", "signature": None}],
                }
            ),
            chunk({"thinking_blocks": [{"type": "thinking", "thinking": "", "signature": "sig-abc"}]}),
            chunk({"content": "Answer"}),
            chunk({}, finish="stop"),
        ]
    )
    assert_completed(events)
    (item,) = output(events, "reasoning")
    assert summary_text(item) == "I think so."
    assert decode_carriers(item["encrypted_content"]) == [
        {"kind": "thinking_signature", "signature": "sig-abc"}
    ]
    assert message_text(events) == "Answer"
    assert [i["type"] for i in output(events)] == ["reasoning", "message"]


def test_thinking_blocks_without_reasoning_content() -> None:
    events = run(
        [
            chunk({"thinking_blocks": [{"type": "thinking", "thinking": "Only here", "signature": "s1"}]}),
            chunk({"content": "Hi"}, finish="stop"),
        ]
    )
    assert_completed(events)
    (item,) = output(events, "reasoning")
    assert summary_text(item) == "Only here"
    assert decode_carriers(item["encrypted_content"]) == [{"kind": "thinking_signature", "signature": "s1"}]


def test_redacted_thinking_litellm() -> None:
    events = run(
        [
            chunk({"thinking_blocks": [{"type": "redacted_thinking", "data": "EncryptedBlob=="}]}),
            chunk({"content": "Hello"}),
            chunk({}, finish="stop"),
        ]
    )
    assert_completed(events)
    assert [i["type"] for i in output(events)] == ["reasoning", "message"]
    (item,) = output(events, "reasoning")
    assert item["summary"] == []
    assert decode_carriers(item["encrypted_content"]) == [
        {"kind": "redacted_thinking", "data": "EncryptedBlob=="}
    ]
    assert message_text(events) == "Hello"


def test_mistral_content_array_thinking_and_mixed_delta() -> None:
    def thinking(text: str, **extra: Any) -> dict[str, Any]:
        return {"type": "thinking", "thinking": [{"type": "text", "text": text}], **extra}

    events = run(
        [
            chunk({"role": "assistant", "content": [thinking("Hmm")]}, p="abcdef"),
            chunk({"content": [thinking(", 1+2")]}, p="abc"),
            chunk({"content": [thinking(" = 3", closed=True), {"type": "text", "text": "3"}]}, p="ab"),
            chunk({"content": "."}, p="a"),
            chunk({"content": ""}, finish="stop", usage=USAGE),
        ]
    )
    assert_completed(events)
    assert [i["type"] for i in output(events)] == ["reasoning", "message"]
    assert reasoning_summaries(events) == ["Hmm, 1+2 = 3"]
    assert message_text(events) == "3."


def test_databricks_content_array_reasoning_then_text() -> None:
    events = run(
        [
            chunk({"role": "assistant", "content": [{"type": "reasoning", "text": "Let me think..."}]}),
            chunk({"content": [{"type": "text", "text": "The answer is 4."}]}),
            chunk({}, finish="stop"),
            usage_chunk({"completion_tokens": 10, "prompt_tokens": 12, "total_tokens": 22}),
        ]
    )
    assert_completed(events)
    assert reasoning_summaries(events) == ["Let me think..."]
    assert message_text(events) == "The answer is 4."
    assert terminal(events)["usage"]["total_tokens"] == 22


# ------------------------------------------------------------------------------------------- reasoning modes


def test_reasoning_text_mode_emits_reasoning_text_events() -> None:
    events = run(
        [
            chunk({"reasoning_content": "a"}),
            chunk({"reasoning_content": "b"}),
            chunk({"content": "c"}, finish="stop"),
        ],
        reasoning="text",
    )
    assert_completed(events)
    assert not [t for t in types(events) if t.startswith("response.reasoning_summary")]
    deltas = of_type(events, "response.reasoning_text.delta")
    assert [(d["delta"], d["content_index"]) for d in deltas] == [("a", 0), ("b", 0)]
    (done,) = of_type(events, "response.reasoning_text.done")
    assert done["text"] == "ab"
    assert done["content_index"] == 0
    (item,) = output(events, "reasoning")
    assert item["content"] == [{"type": "reasoning_text", "text": "ab"}]
    assert item["summary"] == []
    (item_done,) = [
        e for e in of_type(events, "response.output_item.done") if e["item"]["type"] == "reasoning"
    ]
    assert item_done["item"] == item


def test_reasoning_summary_mode_emits_summary_part_events() -> None:
    events = run(
        [chunk({"reasoning_content": "a"}), chunk({"reasoning_content": "b"}), chunk({}, finish="stop")]
    )
    assert_completed(events)
    reasoning_events = [t for t in types(events) if t.startswith("response.reasoning")]
    assert reasoning_events == [
        "response.reasoning_summary_part.added",
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.done",
        "response.reasoning_summary_part.done",
    ]
    (added,) = of_type(events, "response.reasoning_summary_part.added")
    assert added["summary_index"] == 0
    assert added["part"] == {"type": "summary_text", "text": ""}
    (text_done,) = of_type(events, "response.reasoning_summary_text.done")
    assert text_done["text"] == "ab"
    (part_done,) = of_type(events, "response.reasoning_summary_part.done")
    assert part_done["part"] == {"type": "summary_text", "text": "ab"}
    (item,) = output(events, "reasoning")
    assert item["summary"] == [{"type": "summary_text", "text": "ab"}]
    assert not item.get("content")


# ---------------------------------------------------------------------------------------------- <think> tags


def think_result(events: list[Event]) -> tuple[list[str], str]:
    return reasoning_summaries(events), message_text(events)


def test_think_tags_at_start_of_content() -> None:
    events = run([chunk({"content": THINK_STREAM}), chunk({}, finish="stop")])
    assert_completed(events)
    assert [i["type"] for i in output(events)] == ["reasoning", "message"]
    assert think_result(events) == (["abc"], "Hello")


@pytest.mark.parametrize("cut", range(len(THINK_STREAM) + 1))
def test_think_tags_split_at_every_position(cut: int) -> None:
    pieces = [THINK_STREAM[:cut], THINK_STREAM[cut:]]
    events = run([*(chunk({"content": p}) for p in pieces), chunk({}, finish="stop")])
    assert_completed(events)
    assert think_result(events) == (["abc"], "Hello")


def test_think_tags_one_character_per_chunk() -> None:
    events = run([*(chunk({"content": ch}) for ch in THINK_STREAM), chunk({}, finish="stop")])
    assert_completed(events)
    assert think_result(events) == (["abc"], "Hello")


def test_think_tags_then_tool_call_qwen() -> None:
    events = run(
        [
            chunk({"content": "<think>\nneed the weather\n</think>\n\n"}),
            chunk({"content": None, "tool_calls": [tool(0, "call_q", "get_weather", '{"city":"Oslo"}')]}),
            chunk({}, finish="tool_calls"),
        ]
    )
    assert_completed(events)
    assert [i["type"] for i in output(events)] == ["reasoning", "function_call"]
    assert reasoning_summaries(events) == ["\nneed the weather\n"]
    assert calls(events) == [("call_q", "get_weather", '{"city":"Oslo"}')]


def test_think_tags_with_only_whitespace_after() -> None:
    events = run(
        [chunk({"content": "<think>abc</think>"}), chunk({"content": "\n\n"}), chunk({}, finish="stop")]
    )
    assert_completed(events)
    assert [i["type"] for i in output(events)] == ["reasoning"]


def test_think_tag_not_at_start_stays_text() -> None:
    text = "Use <think>tags</think> like this."
    events = run([chunk({"content": text[:9]}), chunk({"content": text[9:]}), chunk({}, finish="stop")])
    assert_completed(events)
    assert output(events, "reasoning") == []
    assert message_text(events) == text


def test_think_tags_disabled_keeps_tags_as_text() -> None:
    events = run([chunk({"content": THINK_STREAM}), chunk({}, finish="stop")], think_tags=False)
    assert_completed(events)
    assert output(events, "reasoning") == []
    assert message_text(events) == THINK_STREAM


def test_unclosed_think_at_end_of_stream() -> None:
    events = run([chunk({"content": "<think>still"}), chunk({"content": " thinking </thi"})])
    assert_completed(events)
    assert [i["type"] for i in output(events)] == ["reasoning"]
    assert reasoning_summaries(events) == ["still thinking </thi"]


def test_unclosed_think_then_length() -> None:
    events = run([chunk({"content": "<think>long"}), chunk({"content": " thought"}, finish="length")])
    assert events[-1]["type"] == "response.incomplete"
    (item,) = output(events)
    assert item["type"] == "reasoning"
    assert item["status"] == "incomplete"
    assert summary_text(item) == "long thought"


@pytest.mark.parametrize(
    "pieces",
    [
        ["\n  <think>abc</think>Hi"],
        ["\n", "  ", "<th", "ink>abc</think>", "Hi"],
        [" \n<think>", "abc</think>\nHi"],
    ],
)
def test_whitespace_before_think(pieces: list[str]) -> None:
    events = run([*(chunk({"content": p}) for p in pieces), chunk({}, finish="stop")])
    assert_completed(events)
    assert think_result(events) == (["abc"], "Hi")


# --------------------------------------------------------------------------------------------- arrival order


def test_reasoning_text_reasoning_opens_new_reasoning_item() -> None:
    events = run(
        [
            chunk({"reasoning_content": "first"}),
            chunk({"content": "middle"}),
            chunk({"reasoning_content": "second"}),
            chunk({}, finish="stop"),
        ]
    )
    assert_completed(events)
    items = output(events)
    assert [(i["type"], i["id"]) for i in items] == [
        ("reasoning", "rs_1"),
        ("message", "msg_1"),
        ("reasoning", "rs_2"),
    ]
    assert reasoning_summaries(events) == ["first", "second"]
    assert message_text(events) == "middle"


def test_text_tool_text_opens_new_message() -> None:
    events = run(
        [
            chunk({"content": "Let me check."}),
            chunk({"tool_calls": [tool(0, "call_a", "lookup", '{"q":1}')]}),
            chunk({"content": "Checked."}),
            chunk({}, finish="stop"),
        ]
    )
    assert_completed(events)
    items = output(events)
    assert [(i["type"], i["id"]) for i in items] == [
        ("message", "msg_1"),
        ("function_call", "fc_1"),
        ("message", "msg_2"),
    ]
    assert [part["text"] for i in output(events, "message") for part in i["content"]] == [
        "Let me check.",
        "Checked.",
    ]
    assert calls(events) == [("call_a", "lookup", '{"q":1}')]


# ------------------------------------------------------------------------------------------------ tool calls


def test_tool_call_openai_streamed_arguments() -> None:
    events = run(
        [
            chunk(
                {"role": "assistant", "content": None, "tool_calls": [tool(0, "call_a", "get_weather", "")]}
            ),
            chunk({"tool_calls": [tool(0, arguments='{"ci')]}),
            chunk({"tool_calls": [tool(0, arguments='ty":"Pa')]}),
            chunk({"tool_calls": [tool(0, arguments='ris"}')]}),
            chunk({}, finish="tool_calls"),
            usage_chunk(USAGE),
        ]
    )
    response = assert_completed(events)
    assert calls(events) == [("call_a", "get_weather", '{"city":"Paris"}')]
    (added,) = of_type(events, "response.output_item.added")
    assert added["item"] == {
        "type": "function_call",
        "id": "fc_1",
        "call_id": "call_a",
        "name": "get_weather",
        "arguments": "",
        "status": "in_progress",
    }
    assert arguments_deltas(events, "fc_1") == '{"city":"Paris"}'
    (args_done,) = of_type(events, "response.function_call_arguments.done")
    assert args_done["arguments"] == '{"city":"Paris"}'
    assert args_done["name"] == "get_weather"
    assert response["usage"] == RESPONSES_USAGE
    # function_call_arguments.done comes before the item's output_item.done
    kinds = types(events)
    assert kinds.index("response.function_call_arguments.done") < kinds.index("response.output_item.done")


def test_tool_call_arguments_in_one_piece() -> None:
    events = run([chunk({"tool_calls": [tool(0, "call_x", "add", '{"a":1,"b":2}')]}, finish="tool_calls")])
    assert_completed(events)
    assert calls(events) == [("call_x", "add", '{"a":1,"b":2}')]
    assert arguments_deltas(events, "fc_1") == '{"a":1,"b":2}'


def test_parallel_tool_calls_by_index() -> None:
    events = run(
        [
            chunk({"tool_calls": [tool(0, "call_0", "get_weather", "")]}),
            chunk({"tool_calls": [tool(0, arguments='{"city":')]}),
            chunk({"tool_calls": [tool(0, arguments='"Paris"}')]}),
            chunk({"tool_calls": [tool(1, "call_1", "get_time", "")]}),
            chunk({"tool_calls": [tool(1, arguments='{"tz":')]}),
            chunk({"tool_calls": [tool(1, arguments='"CET"}')]}),
            chunk({}, finish="tool_calls"),
        ]
    )
    assert_completed(events)
    assert calls(events) == [
        ("call_0", "get_weather", '{"city":"Paris"}'),
        ("call_1", "get_time", '{"tz":"CET"}'),
    ]
    assert arguments_deltas(events, "fc_1") == '{"city":"Paris"}'
    assert arguments_deltas(events, "fc_2") == '{"tz":"CET"}'


@pytest.mark.parametrize("with_ids", [True, False], ids=["ids", "no-ids"])
def test_gemini_no_index_separate_chunks_not_merged(with_ids: bool) -> None:
    def gemini_call(n: int, city: str) -> dict[str, Any]:
        fragment = tool(
            None, f"function-call-{n}" if with_ids else None, "get_weather", json.dumps({"city": city})
        )
        if not with_ids:
            fragment["type"] = "function"
        return fragment

    events = run(
        [
            chunk({"role": "assistant", "tool_calls": [gemini_call(1, "Paris")]}),
            chunk({"role": "assistant", "tool_calls": [gemini_call(2, "Tokyo")]}),
            chunk({}, finish="tool_calls", usage=USAGE),
        ]
    )
    assert_completed(events)
    found = calls(events)
    assert [(name, json.loads(args)) for _, name, args in found] == [
        ("get_weather", {"city": "Paris"}),
        ("get_weather", {"city": "Tokyo"}),
    ]
    if with_ids:
        assert [call_id for call_id, _, _ in found] == ["function-call-1", "function-call-2"]


def test_gemini_no_index_two_calls_in_one_chunk() -> None:
    events = run(
        [
            chunk(
                {
                    "role": "assistant",
                    "tool_calls": [
                        tool(None, "function-call-1", "get_weather", '{"city":"Paris"}'),
                        tool(None, "function-call-2", "get_weather", '{"city":"Tokyo"}'),
                    ],
                },
                finish="tool_calls",
                usage=USAGE,
            )
        ]
    )
    assert_completed(events)
    assert calls(events) == [
        ("function-call-1", "get_weather", '{"city":"Paris"}'),
        ("function-call-2", "get_weather", '{"city":"Tokyo"}'),
    ]


def test_mistral_no_index_whole_call_with_finish_and_usage() -> None:
    fragment = {"id": "AbCd12345", "function": {"name": "get_weather", "arguments": '{"location":"Paris"}'}}
    events = run(
        [
            chunk({"role": "assistant", "content": ""}),
            chunk({"content": "", "tool_calls": [fragment]}, finish="tool_calls", usage=USAGE),
        ]
    )
    response = assert_completed(events)
    assert calls(events) == [("AbCd12345", "get_weather", '{"location":"Paris"}')]
    assert output(events, "message") == []
    assert response["usage"] == RESPONSES_USAGE


def test_anthropic_compat_tool_index_starts_at_one_after_text() -> None:
    events = run(
        [
            chunk({"role": "assistant", "content": "I'll check."}),
            chunk({"tool_calls": [tool(1, "toolu_01", "get_weather", "")]}),
            chunk({"tool_calls": [tool(1, arguments="")]}),
            chunk({"tool_calls": [tool(1, arguments='{"location": "SF"}')]}),
            chunk({}, finish="tool_calls"),
        ]
    )
    assert_completed(events)
    assert [i["type"] for i in output(events)] == ["message", "function_call"]
    assert message_text(events) == "I'll check."
    assert calls(events) == [("toolu_01", "get_weather", '{"location": "SF"}')]


def test_index_reused_by_new_id_is_a_new_call() -> None:
    events = run(
        [
            chunk({"tool_calls": [tool(0, "call_a", "first", '{"n":1}')]}),
            chunk({"tool_calls": [tool(0, "call_b", "second", "")]}),
            chunk({"tool_calls": [tool(0, arguments='{"n":2}')]}),
            chunk({}, finish="tool_calls"),
        ]
    )
    assert_completed(events)
    assert calls(events) == [("call_a", "first", '{"n":1}'), ("call_b", "second", '{"n":2}')]


def test_dashscope_continuation_fragments_with_empty_id() -> None:
    def continuation(arguments: str) -> dict[str, Any]:
        return {"index": 0, "id": "", "type": "function", "function": {"arguments": arguments}}

    events = run(
        [
            chunk({"tool_calls": [tool(0, "call_eee1", "weather", "")]}),
            chunk({"tool_calls": [continuation('{"location": "San Francisco')]}),
            chunk({"tool_calls": [continuation('"}')]}),
            chunk(
                {"tool_calls": [{"function": {"arguments": ""}, "index": 0, "id": "", "type": "function"}]}
            ),
            chunk({}, finish="tool_calls"),
        ]
    )
    assert_completed(events)
    assert calls(events) == [("call_eee1", "weather", '{"location": "San Francisco"}')]


def test_writer_continuation_fragments_with_explicit_nulls() -> None:
    def continuation(index: int, arguments: str) -> dict[str, Any]:
        return {"index": index, "id": None, "type": None, "function": {"name": None, "arguments": arguments}}

    first = {
        "index": 0,
        "id": "chatcmpl-tool-1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": None},
    }
    second = {**first, "index": 1, "id": "chatcmpl-tool-2"}
    events = run(
        [
            chunk({"content": None, "tool_calls": [first]}),
            chunk({"tool_calls": [continuation(0, '{"location":')]}),
            chunk({"tool_calls": [continuation(0, ' "Paris"}')]}),
            chunk({"tool_calls": [second]}),
            chunk({"tool_calls": [continuation(1, '{"location": "Rome"}')]}),
            chunk({}, finish="tool_calls"),
        ]
    )
    assert_completed(events)
    assert calls(events) == [
        ("chatcmpl-tool-1", "get_weather", '{"location": "Paris"}'),
        ("chatcmpl-tool-2", "get_weather", '{"location": "Rome"}'),
    ]


def test_tool_call_id_arrives_late() -> None:
    events = run(
        [
            chunk({"tool_calls": [tool(0, None, "lookup", '{"a"')]}),
            chunk({"tool_calls": [tool(0, arguments=":")]}),
            chunk({"tool_calls": [tool(0, "call_late", arguments="1")]}),
            chunk({"tool_calls": [tool(0, arguments="}")]}),
            chunk({}, finish="tool_calls"),
        ]
    )
    assert_completed(events)
    assert calls(events) == [("call_late", "lookup", '{"a":1}')]
    assert arguments_deltas(events, "fc_1") == '{"a":1}'
    (added,) = of_type(events, "response.output_item.added")
    assert added["item"]["call_id"] == "call_late"


def test_tool_call_never_gets_an_id() -> None:
    events = run(
        [
            chunk({"tool_calls": [tool(0, None, "first", '{"x":')]}),
            chunk({"tool_calls": [tool(0, arguments="1}")]}),
            chunk({"tool_calls": [tool(1, None, "second", "{}")]}),
            chunk({}, finish="tool_calls"),
        ]
    )
    assert_completed(events)
    found = calls(events)
    assert [(name, args) for _, name, args in found] == [("first", '{"x":1}'), ("second", "{}")]
    call_ids = [call_id for call_id, _, _ in found]
    assert all(call_ids)
    assert len(set(call_ids)) == 2


def test_interleaved_fragments_of_parallel_calls() -> None:
    events = run(
        [
            chunk({"tool_calls": [tool(0, "call_0", "alpha", '{"x":')]}),
            chunk({"tool_calls": [tool(1, "call_1", "beta", '{"y":')]}),
            chunk({"tool_calls": [tool(0, arguments='"left"}')]}),
            chunk({"tool_calls": [tool(1, arguments='"right"}')]}),
            chunk({}, finish="tool_calls"),
        ]
    )
    assert_completed(events)
    assert calls(events) == [("call_0", "alpha", '{"x":"left"}'), ("call_1", "beta", '{"y":"right"}')]
    by_call = {e["item"]["call_id"]: e["item"]["id"] for e in of_type(events, "response.output_item.added")}
    assert arguments_deltas(events, by_call["call_0"]) == '{"x":"left"}'
    assert arguments_deltas(events, by_call["call_1"]) == '{"y":"right"}'
    item_events = [
        (e["type"][len("response.output_item.") :], e["output_index"])
        for e in events
        if "output_item" in e["type"]
    ]
    assert item_events == [("added", 0), ("done", 0), ("added", 1), ("done", 1)]


def test_interleaved_fragments_in_one_chunk() -> None:
    events = run(
        [
            chunk({"tool_calls": [tool(0, "call_0", "alpha", '{"x":'), tool(1, "call_1", "beta", '{"y":')]}),
            chunk({"tool_calls": [tool(0, arguments="1}"), tool(1, arguments="2}")]}),
            chunk({}, finish="tool_calls"),
        ]
    )
    assert_completed(events)
    assert calls(events) == [("call_0", "alpha", '{"x":1}'), ("call_1", "beta", '{"y":2}')]


# ----------------------------------------------------------------------------------------- Gemini signatures


def signature_carrier(events: list[Event]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The single function_call and the carriers of the reasoning items that hold a signature."""
    (call,) = output(events, "function_call")
    carriers = [
        carrier
        for item in output(events, "reasoning")
        if item.get("encrypted_content")
        for carrier in decode_carriers(item["encrypted_content"])
    ]
    return call, carriers


def test_gemini_thought_signature_extra_content() -> None:
    first = tool(
        0, "function-call-1", "check_flight", "", extra_content={"google": {"thought_signature": "<Sig A>"}}
    )
    events = run(
        [
            chunk({"role": "assistant", "content": None, "tool_calls": [first]}),
            chunk({"tool_calls": [tool(0, arguments='{"flight":')]}),
            chunk({"tool_calls": [tool(0, arguments='"AA100"}')]}),
            chunk({}, finish="tool_calls", usage=USAGE),
        ]
    )
    assert_completed(events)
    assert [i["type"] for i in output(events)] == ["reasoning", "function_call"]
    call, carriers = signature_carrier(events)
    assert call["arguments"] == '{"flight":"AA100"}'
    assert carriers == [
        {
            "kind": "thought_signature",
            "source": "extra_content",
            "signature": "<Sig A>",
            "call_id": "function-call-1",
        }
    ]


def test_gemini_thought_signature_provider_specific_fields_litellm() -> None:
    first = tool(
        0,
        "call_lite",
        "get_weather",
        '{"city":"Oslo"}',
        provider_specific_fields={"thought_signature": "SigB"},
    )
    events = run([chunk({"tool_calls": [first]}), chunk({}, finish="tool_calls")])
    assert_completed(events)
    call, carriers = signature_carrier(events)
    assert call["call_id"] == "call_lite"
    assert carriers == [
        {
            "kind": "thought_signature",
            "source": "provider_specific_fields",
            "signature": "SigB",
            "call_id": "call_lite",
        }
    ]


def _encrypted_detail(call_id: str) -> dict[str, Any]:
    return {
        "type": "reasoning.encrypted",
        "data": "SigC==",
        "format": "google-gemini-v1",
        "id": call_id,
        "index": 0,
    }


def test_gemini_signature_in_reasoning_details_before_the_call() -> None:
    events = run(
        [
            chunk(
                {
                    "role": "assistant",
                    "content": "",
                    "reasoning_details": [_encrypted_detail("tool_get_weather_1")],
                }
            ),
            chunk({"tool_calls": [tool(0, "tool_get_weather_1", "get_weather", '{"city":"Rome"}')]}),
            chunk({}, finish="tool_calls"),
            chunk({}, finish="tool_calls"),  # OpenRouter repeats the finish_reason
        ]
    )
    assert_completed(events)
    assert [i["type"] for i in output(events)] == ["reasoning", "function_call"]
    call, carriers = signature_carrier(events)
    assert carriers == [{"kind": "reasoning_detail", "detail": _encrypted_detail("tool_get_weather_1")}]
    assert carriers[0]["detail"]["id"] == call["call_id"]
    assert carriers[0]["detail"]["data"] == "SigC=="


def test_gemini_signature_in_reasoning_details_after_the_call() -> None:
    text_detail = {
        "type": "reasoning.text",
        "text": "Need weather.",
        "format": "google-gemini-v1",
        "index": 0,
    }
    events = run(
        [
            chunk({"reasoning": "Need weather.", "reasoning_details": [text_detail]}),
            chunk({"tool_calls": [tool(0, "tool_w_1", "get_weather", '{"city":"Rome"}')]}),
            chunk({"reasoning_details": [_encrypted_detail("tool_w_1")]}),
            chunk({}, finish="tool_calls", usage=USAGE),
        ]
    )
    assert_completed(events)
    call, carriers = signature_carrier(events)
    assert call["arguments"] == '{"city":"Rome"}'
    assert carriers == [{"kind": "reasoning_detail", "detail": _encrypted_detail("tool_w_1")}]
    assert carriers[0]["detail"]["id"] == call["call_id"]
    assert "Need weather." in reasoning_summaries(events)
    assert reasoning_summaries(events).count("Need weather.") == 1


# ------------------------------------------------------------------------------ refusal, logprobs, citations


def test_refusal_delta() -> None:
    events = run(
        [
            chunk({"role": "assistant", "content": None, "refusal": ""}),
            chunk({"refusal": "I'm sorry, "}),
            chunk({"refusal": "I can't help."}),
            chunk({}, finish="stop"),
        ]
    )
    assert_completed(events)
    (message,) = output(events, "message")
    assert message["content"] == [{"type": "refusal", "refusal": "I'm sorry, I can't help."}]
    (part_added,) = of_type(events, "response.content_part.added")
    assert part_added["part"] == {"type": "refusal", "refusal": ""}
    assert [e["delta"] for e in of_type(events, "response.refusal.delta")] == ["I'm sorry, ", "I can't help."]
    (refusal_done,) = of_type(events, "response.refusal.done")
    assert refusal_done["refusal"] == "I'm sorry, I can't help."
    assert not of_type(events, "response.output_text.delta")


def test_text_then_refusal_two_content_parts() -> None:
    events = run([chunk({"content": "Well"}), chunk({"refusal": "No."}), chunk({}, finish="stop")])
    assert_completed(events)
    (message,) = output(events, "message")
    assert message["content"] == [
        {"type": "output_text", "text": "Well", "annotations": [], "logprobs": []},
        {"type": "refusal", "refusal": "No."},
    ]
    parts = [(e["type"], e["content_index"]) for e in events if e["type"].startswith("response.content_part")]
    assert parts == [
        ("response.content_part.added", 0),
        ("response.content_part.done", 0),
        ("response.content_part.added", 1),
        ("response.content_part.done", 1),
    ]
    assert of_type(events, "response.output_text.delta")[0]["content_index"] == 0
    assert of_type(events, "response.refusal.delta")[0]["content_index"] == 1


def _logprob(token: str, logprob: float) -> dict[str, Any]:
    raw = list(token.encode())
    return {
        "token": token,
        "logprob": logprob,
        "bytes": raw,
        "top_logprobs": [{"token": token, "logprob": logprob, "bytes": raw}],
    }


def test_content_logprobs() -> None:
    events = run(
        [
            chunk({"role": "assistant", "content": ""}, logprobs={"content": [], "refusal": None}),
            chunk({"content": "Hi"}, logprobs={"content": [_logprob("Hi", -0.25)], "refusal": None}),
            chunk({"content": "!"}, logprobs={"content": [_logprob("!", -1.5)], "refusal": None}),
            chunk({}, finish="stop", logprobs=None),
        ]
    )
    assert_completed(events)
    deltas = of_type(events, "response.output_text.delta")
    assert [d["logprobs"] for d in deltas] == [
        [{"token": "Hi", "logprob": -0.25, "top_logprobs": [{"token": "Hi", "logprob": -0.25}]}],
        [{"token": "!", "logprob": -1.5, "top_logprobs": [{"token": "!", "logprob": -1.5}]}],
    ]
    assert all("bytes" not in lp for d in deltas for lp in d["logprobs"])
    (text_done,) = of_type(events, "response.output_text.done")
    assert [lp["token"] for lp in text_done["logprobs"]] == ["Hi", "!"]
    (part_done,) = of_type(events, "response.content_part.done")
    assert part_done["part"]["logprobs"] == [_logprob("Hi", -0.25), _logprob("!", -1.5)]
    (message,) = output(events, "message")
    assert message["content"][0]["logprobs"] == [_logprob("Hi", -0.25), _logprob("!", -1.5)]


@pytest.mark.parametrize("first_token", ["<", "\n", " <"], ids=["lt", "newline", "space-lt"])
def test_content_logprobs_kept_when_first_token_could_open_a_think_tag(first_token: str) -> None:
    # The <think> parser holds back a first token that may start a tag; its logprobs must not be lost.
    events = run(
        [
            chunk({"content": first_token}, logprobs={"content": [_logprob(first_token, -0.5)]}),
            chunk({"content": "b>"}, logprobs={"content": [_logprob("b>", -0.75)]}),
            chunk({}, finish="stop"),
        ]
    )
    assert_completed(events)
    assert message_text(events) == first_token + "b>"
    (message,) = output(events, "message")
    assert [lp["token"] for lp in message["content"][0]["logprobs"]] == [first_token, "b>"]
    delta_tokens = [
        lp["token"] for d in of_type(events, "response.output_text.delta") for lp in d["logprobs"]
    ]
    assert delta_tokens == [first_token, "b>"]


def test_writer_message_accumulator_ignored_when_delta_present() -> None:
    def writer(content: str, accumulated: str) -> dict[str, Any]:
        data = chunk({"content": content, "role": "assistant", "tool_calls": None, "refusal": None})
        data["choices"][0]["message"] = {"content": accumulated, "role": "assistant", "tool_calls": None}
        return data

    events = run([writer("Sure", "Sure"), writer(", here", "Sure, here"), chunk({}, finish="stop")])
    assert_completed(events)
    assert message_text(events) == "Sure, here"


def test_openrouter_delta_annotations_url_citation() -> None:
    def citation(n: int) -> dict[str, Any]:
        return {
            "type": "url_citation",
            "url_citation": {
                "url": f"https://example.com/{n}",
                "title": f"Example {n}",
                "start_index": n,
                "end_index": n + 5,
                "content": "snippet",
            },
        }

    events = run(
        [
            chunk({"role": "assistant", "content": "Fact one."}),
            chunk({"content": " Fact two.", "annotations": [citation(1), citation(2)]}),
            chunk({"content": ""}, finish="stop"),
            chunk({"content": ""}, finish="stop", usage=USAGE),
        ]
    )
    assert_completed(events)
    added = of_type(events, "response.output_text.annotation.added")
    assert [(e["annotation_index"], e["content_index"]) for e in added] == [(0, 0), (1, 0)]
    expected = [
        {
            "type": "url_citation",
            "url": f"https://example.com/{n}",
            "title": f"Example {n}",
            "start_index": n,
            "end_index": n + 5,
        }
        for n in (1, 2)
    ]
    assert [e["annotation"] for e in added] == expected
    (message,) = output(events, "message")
    assert message["content"][0]["annotations"] == expected
    assert message["content"][0]["text"] == "Fact one. Fact two."
    (part_done,) = of_type(events, "response.content_part.done")
    assert part_done["part"]["annotations"] == expected


def test_perplexity_citations_list() -> None:
    urls = ["https://a.example/1", "https://b.example/2"]
    envelope = {"id": "58cb9740", "model": "sonar", "citations": urls}
    events = run(
        [
            chunk({"role": "assistant", "content": "SF has 800k people"}, usage=USAGE, **envelope),
            chunk({"role": "assistant", "content": "[1]"}, usage=USAGE, **envelope),
            chunk({"role": "assistant", "content": " and fog[2]."}, usage=USAGE, **envelope),
            chunk(
                {"role": "assistant", "content": ""},
                finish="stop",
                usage=USAGE,
                object="chat.completion.done",
                **envelope,
            ),
        ]
    )
    assert_completed(events)
    (message,) = output(events, "message")
    (part,) = message["content"]
    assert part["text"] == "SF has 800k people[1] and fog[2]."
    annotations = part["annotations"]
    assert [a["type"] for a in annotations] == ["url_citation", "url_citation"]
    assert [a["url"] for a in annotations] == urls
    for number, annotation in enumerate(annotations, start=1):
        marker = f"[{number}]"
        assert part["text"][annotation["start_index"] : annotation["end_index"]] == marker
    added = of_type(events, "response.output_text.annotation.added")
    assert [e["annotation_index"] for e in added] == [0, 1]


# ------------------------------------------------------------------------------------------------- envelopes


def test_azure_prompt_filter_first_chunk_and_trailing_offsets_choice() -> None:
    filters = {"hate": {"filtered": False, "severity": "safe"}}
    events = run(
        [
            {
                "choices": [],
                "created": 0,
                "id": "",
                "model": "",
                "object": "",
                "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": filters}],
            },
            chunk({"content": "", "refusal": None, "role": "assistant"}, content_filter_results={}),
            chunk({"content": "Hello"}, model="gpt-4"),
            chunk({"content": " World"}, model="gpt-4"),
            chunk({}, finish="stop", model="gpt-4"),
            {
                "choices": [
                    {
                        "content_filter_offsets": {"check_offset": 0, "start_offset": 0, "end_offset": 11},
                        "content_filter_results": filters,
                        "finish_reason": None,
                        "index": 0,
                    }
                ],
                "created": CREATED,
                "id": "chatcmpl-test",
                "model": "gpt-4",
                "object": "chat.completion.chunk",
            },
            usage_chunk(USAGE),
        ]
    )
    response = assert_completed(events)
    assert message_text(events) == "Hello World"
    assert response["usage"] == RESPONSES_USAGE
    assert response["model"] in ("test-model", "gpt-4")
    assert response["model"]
    assert len(output(events)) == 1


def test_perplexity_chat_completion_done_last_chunk() -> None:
    events = run(
        [
            chunk({"role": "assistant", "content": "Hi"}, model="sonar", usage=USAGE),
            chunk(
                {"role": "assistant", "content": ""},
                finish="stop",
                object="chat.completion.done",
                usage=USAGE,
            ),
        ]
    )
    response = assert_completed(events)
    assert message_text(events) == "Hi"
    assert response["usage"] == RESPONSES_USAGE


def test_together_finish_reason_eos() -> None:
    events = run([chunk({"content": "Hi", "role": "assistant"}), chunk({"content": ""}, finish="eos")])
    response = assert_completed(events)
    assert message_text(events) == "Hi"
    assert response["output"][0]["status"] == "completed"


def test_keep_alive_empty_deltas_produce_no_item() -> None:
    events = run([chunk({}) for _ in range(50)] + [chunk({"tool_calls": [tool(0, "c1", "f", "{}")]})])
    assert_completed(events)
    assert [i["type"] for i in output(events)] == ["function_call"]


def test_keep_alive_only_stream() -> None:
    events = run([chunk({}) for _ in range(5)])
    response = assert_completed(events)
    assert response["output"] == []
    assert not of_type(events, "response.output_item.added")


def test_error_object_mid_stream() -> None:
    error = {
        "error": {
            "message": "Tool call validation failed",
            "type": "invalid_request_error",
            "code": "tool_use_failed",
            "failed_generation": "<garbage>",
            "status_code": 400,
        }
    }
    handler_events = run([chunk({"content": "Hello"}), chunk({"content": " there"}), error], finish=True)
    assert handler_events[-1]["type"] == "response.failed"
    response = terminal(handler_events)
    assert response["status"] == "failed"
    assert response["error"]["code"] == "server_error"  # a code the Responses schema knows
    assert "Tool call validation failed" in response["error"]["message"]
    assert "tool_use_failed" in response["error"]["message"]
    (message,) = response["output"]
    assert message["status"] == "incomplete"
    assert message["content"][0]["text"] == "Hello there"


def test_error_object_rate_limit_code() -> None:
    events = run([chunk({"content": "x"}), {"error": {"message": "slow down", "code": 429}}])
    assert events[-1]["type"] == "response.failed"
    assert terminal(events)["error"]["code"] == "rate_limit_exceeded"


def test_openrouter_length_then_error_chunk() -> None:
    detail = {"type": "reasoning.text", "text": "Hm", "format": "unknown", "index": 0}
    events = run(
        [
            chunk({"role": "assistant", "content": "", "reasoning": "Hm", "reasoning_details": [detail]}),
            chunk({"content": "Part"}, finish="length"),
            chunk({"content": ""}, finish="length"),
            {
                **chunk({"content": ""}, finish="error"),
                "error": {"code": 400, "message": "Provider returned error"},
                "usage": USAGE,
            },
        ]
    )
    response = terminal(events)
    assert events[-1]["type"] == "response.failed"
    assert "Provider returned error" in response["error"]["message"]
    assert response["output"][-1]["type"] == "message"
    assert response["output"][-1]["content"][0]["text"] == "Part"
    assert response["output"][-1]["status"] == "incomplete"
    assert response["usage"] == RESPONSES_USAGE


# ------------------------------------------------------------------------------------------ terminal mapping


@pytest.mark.parametrize("reason", ["stop", "tool_calls"])
def test_finish_stop_or_tool_calls_completes(reason: str) -> None:
    events = run([chunk({"content": "Done"}), chunk({}, finish=reason)])
    assert_completed(events)
    assert message_text(events) == "Done"


def test_finish_length_is_incomplete_max_output_tokens() -> None:
    events = run([chunk({"content": "Cut"}), chunk({"content": " off"}, finish="length"), usage_chunk(USAGE)])
    assert events[-1]["type"] == "response.incomplete"
    response = terminal(events)
    assert response["status"] == "incomplete"
    assert response["incomplete_details"] == {"reason": "max_output_tokens"}
    assert response["error"] is None
    (message,) = response["output"]
    assert message["status"] == "incomplete"
    assert message["content"][0]["text"] == "Cut off"
    assert response["usage"] == RESPONSES_USAGE


def test_finish_content_filter_is_incomplete() -> None:
    events = run([chunk({"content": "Some"}), chunk({}, finish="content_filter")])
    assert events[-1]["type"] == "response.incomplete"
    response = terminal(events)
    assert response["incomplete_details"] == {"reason": "content_filter"}
    assert response["output"][0]["status"] == "incomplete"


def test_no_finish_reason_completes() -> None:
    events = run([chunk({"content": "a"}), chunk({"content": "b"})])
    assert_completed(events)
    assert message_text(events) == "ab"


def test_finish_with_exception_fails() -> None:
    handler = ChatCmplStreamHandler(ids=SequentialIds())
    events = handler.feed_dicts(chunk({"content": "partial"}))
    events += handler.finish_dicts(error=RuntimeError("boom"))
    check_structure(events)
    assert events[-1]["type"] == "response.failed"
    response = terminal(events)
    assert "boom" in response["error"]["message"]
    assert response["error"]["code"]
    (message,) = response["output"]
    assert message["status"] == "incomplete"
    assert message["content"][0]["text"] == "partial"
    assert handler.status == "failed"
    assert handler.done


def test_vllm_finish_abort_fails() -> None:
    events = run([chunk({"content": "x"}), chunk({}, finish="abort")])
    assert events[-1]["type"] == "response.failed"
    response = terminal(events)
    assert response["error"]["message"]
    assert response["output"][0]["status"] == "incomplete"


def test_finish_reason_repeated_twice_one_terminal() -> None:
    events = run([chunk({"content": "x"}), chunk({}, finish="stop"), chunk({}, finish="stop", usage=USAGE)])
    response = assert_completed(events)
    assert len(of_type(events, "response.output_item.done")) == 1
    assert response["usage"] == RESPONSES_USAGE


# ----------------------------------------------------------------------------------------------------- usage


def test_usage_final_empty_choices_chunk() -> None:
    events = run([chunk({"content": "x"}), chunk({}, finish="stop"), usage_chunk(USAGE)])
    assert assert_completed(events)["usage"] == RESPONSES_USAGE


def test_usage_on_finish_chunk() -> None:
    events = run([chunk({"content": "x"}), chunk({}, finish="stop", usage=USAGE)])
    assert assert_completed(events)["usage"] == RESPONSES_USAGE


def test_groq_x_groq_usage() -> None:
    groq_usage = {
        **USAGE,
        "queue_time": 0.04,
        "prompt_time": 0.01,
        "completion_time": 0.05,
        "total_time": 0.06,
    }
    events = run(
        [
            chunk({"content": "x"}, x_groq={"id": "req_01"}),
            chunk({}, finish="stop", x_groq={"id": "req_01", "usage": groq_usage}),
        ]
    )
    assert assert_completed(events)["usage"] == RESPONSES_USAGE


def test_neon_usage_on_every_chunk_last_wins() -> None:
    def neon_usage(completion: int | None) -> dict[str, Any]:
        total = None if completion is None else 16 + completion
        return {
            "cache_read_input_tokens": 0,
            "completion_tokens": completion,
            "prompt_tokens": 16,
            "total_tokens": total,
            "cache_creation_input_tokens": 0,
        }

    events = run(
        [
            chunk({"role": "assistant", "content": "1\n2"}, usage=neon_usage(None)),
            chunk({"role": "assistant", "content": "\n3"}, usage=neon_usage(None)),
            chunk({"role": "assistant", "content": ""}, finish="stop", usage=neon_usage(13)),
        ]
    )
    usage = assert_completed(events)["usage"]
    assert (usage["input_tokens"], usage["output_tokens"], usage["total_tokens"]) == (16, 13, 29)


@pytest.mark.parametrize(
    "usage",
    [
        {**USAGE, "prompt_tokens_details": {"cached_tokens": 7, "audio_tokens": 0}},
        {**USAGE, "cached_tokens": 7},  # Moonshot
        {**USAGE, "prompt_cache_hit_tokens": 7, "prompt_cache_miss_tokens": 3},  # DeepSeek
    ],
    ids=["openai", "moonshot", "deepseek"],
)
def test_usage_cached_tokens(usage: dict[str, Any]) -> None:
    events = run([chunk({"content": "x"}, finish="stop"), usage_chunk(usage)])
    result = assert_completed(events)["usage"]
    assert result["input_tokens_details"]["cached_tokens"] == 7
    assert result["input_tokens"] == 10


def test_usage_reasoning_tokens() -> None:
    usage = {**USAGE, "completion_tokens_details": {"reasoning_tokens": 4, "accepted_prediction_tokens": 0}}
    events = run([chunk({"content": "x"}, finish="stop"), usage_chunk(usage)])
    assert assert_completed(events)["usage"]["output_tokens_details"] == {"reasoning_tokens": 4}


def test_no_usage_anywhere() -> None:
    events = run([chunk({"content": "x"}, usage=None), chunk({}, finish="stop")])
    assert assert_completed(events)["usage"] is None


# ----------------------------------------------------------------------------------------------------- n > 1


N2_STREAM = [
    chunk({"role": "assistant", "content": ""}, index=0),
    chunk({"role": "assistant", "content": ""}, index=1),
    chunk({"content": "Zero"}, index=0),
    chunk({"content": "One"}, index=1),
    chunk({"content": " A"}, index=0),
    chunk({"content": " B"}, index=1),
    chunk({}, finish="stop", index=1),
    chunk({"content": " C"}, index=0),
    chunk({}, finish="length", index=0),
    usage_chunk(USAGE),
]


def test_n2_default_translates_choice_zero_only() -> None:
    events = run(N2_STREAM)
    assert events[-1]["type"] == "response.incomplete"
    assert message_text(events) == "Zero A C"
    assert terminal(events)["usage"] == RESPONSES_USAGE


def test_n2_choice_index_one() -> None:
    events = run(N2_STREAM, choice_index=1)
    assert_completed(events)
    assert message_text(events) == "One B"


# ------------------------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("garbage", ["garbage", 42, None, [1, 2]], ids=["str", "int", "none", "list"])
def test_non_chunk_input_fails_without_raising(garbage: Any) -> None:
    handler = ChatCmplStreamHandler(ids=SequentialIds())
    events = handler.feed_dicts(chunk({"content": "ok"}))
    events += handler.feed_dicts(garbage)
    events += handler.finish_dicts()
    check_structure(events)
    assert events[-1]["type"] == "response.failed"
    assert terminal(events)["output"][0]["content"][0]["text"] == "ok"


@pytest.mark.parametrize("garbage", ["garbage", 42])
def test_non_chunk_input_first_through_typed_feed(garbage: Any) -> None:
    handler = ChatCmplStreamHandler(ids=SequentialIds())
    try:
        models = handler.feed(garbage) + handler.finish()
    except ValidationError as exc:
        raised = f"{exc.error_count()} validation errors"
    else:
        raised = None
    assert raised is None, f"feed({garbage!r}) raised instead of returning response.failed: {raised}"
    assert [m.type for m in models] == ["response.created", "response.in_progress", "response.failed"]


@pytest.mark.parametrize(
    "bad",
    [
        {"choices": "x"},
        {"choices": [{"delta": {"content": 5, "tool_calls": "x"}}]},
        {"choices": [{"delta": "x", "finish_reason": 7}]},
        {"choices": [None, 3, "x"], "usage": "lots"},
        {"choices": [{"delta": {"reasoning_details": "x", "thinking_blocks": [1], "content": [1, None]}}]},
        {"choices": [{"delta": {"tool_calls": [5, "x", None]}}]},
        {"choices": [{"delta": {"tool_calls": [{}, {"function": 3}]}}]},
    ],
    ids=[
        "choices-str",
        "wrong-types",
        "delta-str",
        "choices-junk",
        "reasoning-junk",
        "tool-calls-junk",
        "empty-tool-calls",
    ],
)
def test_malformed_chunk_fields_are_ignored(bad: dict[str, Any]) -> None:
    events = run([chunk({"content": "a"}), bad, chunk({"content": "b"}), chunk({}, finish="stop")])
    assert_completed(events)
    assert [i["type"] for i in output(events)] == ["message"]
    assert message_text(events) == "ab"


def test_chunks_after_terminal_are_ignored() -> None:
    handler = ChatCmplStreamHandler(ids=SequentialIds())
    events = handler.feed_dicts(chunk({"content": "a"}, finish="stop"))
    events += handler.finish_dicts()
    check_structure(events)
    assert handler.done
    assert handler.status == "completed"
    assert handler.feed_dicts(chunk({"content": "late"})) == []
    assert handler.feed_dicts("garbage") == []
    assert handler.feed(chunk({"content": "late"})) == []
    assert handler.finish_dicts() == []


def test_chunks_after_failure_are_ignored() -> None:
    handler = ChatCmplStreamHandler(ids=SequentialIds())
    events = handler.feed_dicts(chunk({"content": "a"}))
    events += handler.feed_dicts({"error": {"message": "boom"}})
    check_structure(events)
    assert handler.feed_dicts(chunk({"content": "late"})) == []
    assert handler.finish_dicts(error=RuntimeError("again")) == []


def test_finish_twice() -> None:
    handler = ChatCmplStreamHandler(ids=SequentialIds())
    first = handler.feed_dicts(chunk({"content": "a"})) + handler.finish_dicts()
    check_structure(first)
    assert handler.finish_dicts() == []
    assert handler.finish() == []


def test_finish_without_any_chunk() -> None:
    events = run([])
    response = assert_completed(events)
    assert response["output"] == []


# ------------------------------------------------------------------------------------------------ SDK models


def test_sdk_chunk_model_translates_like_the_dict() -> None:
    raw = [
        chunk({"role": "assistant", "content": None, "reasoning_content": "Think"}),
        chunk({"content": "Hi", "tool_calls": None}),
        chunk({"tool_calls": [tool(0, "call_1", "f", '{"a":1}')]}),
        chunk({}, finish="tool_calls"),
        usage_chunk(USAGE),
    ]
    models = [ChatCompletionChunk.model_validate(item) for item in raw]
    assert models[0].choices[0].delta.reasoning_content == "Think"  # type: ignore[attr-defined]
    from_dicts = run(raw)
    from_models = run(models)
    assert from_models == from_dicts
    assert reasoning_summaries(from_models) == ["Think"]
    assert calls(from_models) == [("call_1", "f", '{"a":1}')]


def test_typed_feed_matches_feed_dicts() -> None:
    raw = [
        chunk({"reasoning_content": "r"}),
        chunk({"content": "t"}),
        chunk({}, finish="stop"),
        usage_chunk(USAGE),
    ]
    typed = ChatCmplStreamHandler(ids=SequentialIds())
    models = [event for item in raw for event in typed.feed(item)] + typed.finish()
    dicts = run(raw)
    assert [m.type for m in models] == types(dicts)
    assert [m.model_dump(mode="json", exclude_unset=True) for m in models] == dicts
