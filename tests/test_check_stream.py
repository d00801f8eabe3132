"""check_stream: hand-built valid streams pass; each rule of responses-stream-rules.md, broken alone, is
reported under its number; malformed input is reported, never raised."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openai.types import responses as rt
from pydantic import BaseModel

from chat_to_responses.testing import Violation, assert_stream_ok, check_stream, format_events

Event = dict[str, Any]
RESPONSE_ID = "resp_test_1"
USAGE = {
    "input_tokens": 12,
    "input_tokens_details": {"cached_tokens": 2, "cache_write_tokens": 0},
    "output_tokens": 30,
    "output_tokens_details": {"reasoning_tokens": 8},
    "total_tokens": 42,
}
CITATION = {
    "type": "url_citation",
    "url": "https://example.com/paris",
    "title": "Paris",
    "start_index": 7,
    "end_index": 12,
}

REASONING_DONE = {
    "id": "rs_1",
    "type": "reasoning",
    "summary": [{"type": "summary_text", "text": "Thinking about the weather."}],
    "content": [{"type": "reasoning_text", "text": "The user wants Paris."}],
    "encrypted_content": "gAAAAB-signature==",
    "status": "completed",
}
TEXT_PART = {"type": "output_text", "text": "Hello, Paris!", "annotations": [CITATION], "logprobs": []}
REFUSAL_PART = {"type": "refusal", "refusal": "I can't say more."}
MESSAGE_DONE = {
    "id": "msg_1",
    "type": "message",
    "role": "assistant",
    "status": "completed",
    "content": [TEXT_PART, REFUSAL_PART],
}
CALL_DONE = {
    "id": "fc_1",
    "type": "function_call",
    "call_id": "call_abc",
    "name": "get_weather",
    "arguments": '{"city":"Paris"}',
    "status": "completed",
}
SECOND_CALL_DONE = {
    "id": "fc_2",
    "type": "function_call",
    "call_id": "call_def",
    "name": "get_time",
    "arguments": "{}",
    "status": "completed",
}


class StreamBuilder:
    """Appends events with consecutive sequence numbers, the way a correct emitter would."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def add(self, event_type: str, **fields: Any) -> None:
        self.events.append({"type": event_type, "sequence_number": len(self.events), **copy.deepcopy(fields)})

    def response(self, event_type: str, status: str, output: list[Event] | None = None, **extra: Any) -> None:
        response = {
            "id": RESPONSE_ID,
            "object": "response",
            "created_at": 1_700_000_000.0,
            "model": "test-model",
            "status": status,
            "output": output or [],
            "parallel_tool_calls": True,
            "tool_choice": "auto",
            "tools": [],
            "error": None,
            "incomplete_details": None,
            "usage": None,
            **extra,
        }
        self.add(event_type, response=response)

    def open(self) -> None:
        self.response("response.created", "in_progress")
        self.response("response.in_progress", "in_progress")

    def item_added(self, output_index: int, item: Event) -> None:
        self.add("response.output_item.added", output_index=output_index, item=item)

    def item_done(self, output_index: int, item: Event) -> None:
        self.add("response.output_item.done", output_index=output_index, item=item)

    def sub(self, event_type: str, output_index: int, item_id: str, **fields: Any) -> None:
        self.add(event_type, output_index=output_index, item_id=item_id, **fields)


def add_reasoning(b: StreamBuilder, at: int) -> None:
    b.item_added(at, {"id": "rs_1", "type": "reasoning", "summary": [], "status": "in_progress"})
    summary = {"output_index": at, "item_id": "rs_1", "summary_index": 0}
    b.add("response.reasoning_summary_part.added", **summary, part={"type": "summary_text", "text": ""})
    b.add("response.reasoning_summary_text.delta", **summary, delta="Thinking about ")
    b.add("response.reasoning_summary_text.delta", **summary, delta="the weather.")
    b.add("response.reasoning_summary_text.done", **summary, text="Thinking about the weather.")
    b.add("response.reasoning_summary_part.done", **summary, part=REASONING_DONE["summary"][0])
    b.sub("response.reasoning_text.delta", at, "rs_1", content_index=0, delta="The user ")
    b.sub("response.reasoning_text.delta", at, "rs_1", content_index=0, delta="wants Paris.")
    b.sub("response.reasoning_text.done", at, "rs_1", content_index=0, text="The user wants Paris.")
    b.item_done(at, REASONING_DONE)


def add_message(b: StreamBuilder, at: int) -> None:
    b.item_added(
        at, {"id": "msg_1", "type": "message", "role": "assistant", "status": "in_progress", "content": []}
    )
    text = {"output_index": at, "item_id": "msg_1", "content_index": 0}
    b.add("response.content_part.added", **text, part={"type": "output_text", "text": "", "annotations": []})
    b.add("response.output_text.delta", **text, delta="Hello, ", logprobs=[])
    b.add("response.output_text.delta", **text, delta="Paris!", logprobs=[])
    b.add("response.output_text.annotation.added", **text, annotation_index=0, annotation=CITATION)
    b.add("response.output_text.done", **text, text="Hello, Paris!", logprobs=[])
    b.add("response.content_part.done", **text, part=TEXT_PART)
    refusal = {**text, "content_index": 1}
    b.add("response.content_part.added", **refusal, part={"type": "refusal", "refusal": ""})
    b.add("response.refusal.delta", **refusal, delta="I can't ")
    b.add("response.refusal.delta", **refusal, delta="say more.")
    b.add("response.refusal.done", **refusal, refusal="I can't say more.")
    b.add("response.content_part.done", **refusal, part=REFUSAL_PART)
    b.item_done(at, MESSAGE_DONE)


def add_call(b: StreamBuilder, at: int, done: Event, deltas: list[str]) -> None:
    b.item_added(at, {**done, "arguments": "", "status": "in_progress"})
    for delta in deltas:
        b.sub("response.function_call_arguments.delta", at, done["id"], delta=delta)
    # `name` here: openai 2.x requires it on this event, 3.x dropped it.
    b.sub(
        "response.function_call_arguments.done",
        at,
        done["id"],
        arguments=done["arguments"],
        name=done["name"],
    )
    b.item_done(at, done)


def valid_stream() -> list[Event]:
    """Reasoning (summary + raw text), a message (text with a citation, then a refusal), two calls."""
    b = StreamBuilder()
    b.open()
    add_reasoning(b, 0)
    add_message(b, 1)
    add_call(b, 2, CALL_DONE, ['{"city":', '"Paris"}'])
    add_call(b, 3, SECOND_CALL_DONE, ["{}"])
    output = [REASONING_DONE, MESSAGE_DONE, CALL_DONE, SECOND_CALL_DONE]
    b.response("response.completed", "completed", output, usage=USAGE)
    return b.events


def add_cut_message(b: StreamBuilder, *, with_error: bool) -> Event:
    """A message cut after "Hel". A length cut closes it as incomplete; with_error an upstream error event
    cuts it instead, and it is never announced done: it appears only in the terminal output (rule 19)."""
    b.item_added(
        0, {"id": "msg_1", "type": "message", "role": "assistant", "status": "in_progress", "content": []}
    )
    text = {"output_index": 0, "item_id": "msg_1", "content_index": 0}
    b.add("response.content_part.added", **text, part={"type": "output_text", "text": "", "annotations": []})
    b.add("response.output_text.delta", **text, delta="Hel", logprobs=[])
    part = {"type": "output_text", "text": "Hel", "annotations": [], "logprobs": []}
    item = {"id": "msg_1", "type": "message", "role": "assistant", "status": "incomplete", "content": [part]}
    if with_error:
        b.add("error", code="server_error", message="upstream disconnected", param=None)
        return item
    b.add("response.output_text.done", **text, text="Hel", logprobs=[])
    b.add("response.content_part.done", **text, part=part)
    b.item_done(0, item)
    return item


def incomplete_stream() -> list[Event]:
    b = StreamBuilder()
    b.open()
    item = add_cut_message(b, with_error=False)
    details = {"reason": "max_output_tokens"}
    b.response("response.incomplete", "incomplete", [item], incomplete_details=details, usage=USAGE)
    return b.events


def incomplete_cut_call_stream() -> list[Event]:
    """A length cut inside a call's arguments: the call is never announced done (rule 18)."""
    b = StreamBuilder()
    b.open()
    added = {"id": "fc_1", "type": "function_call", "call_id": "call_1", "name": "f", "arguments": ""}
    b.item_added(0, {**added, "status": "in_progress"})
    b.sub("response.function_call_arguments.delta", 0, "fc_1", delta='{"a": ')
    item = {**added, "arguments": '{"a": ', "status": "incomplete"}
    details = {"reason": "max_output_tokens"}
    b.response("response.incomplete", "incomplete", [item], incomplete_details=details, usage=USAGE)
    return b.events


def announce_cut_call_done(e: list[Event]) -> None:
    """What the rule forbids: the cut call announced done (Codex would execute '{"a": ')."""
    at = find(e, "response.incomplete")
    item = terminal(e)["output"][0]
    arguments = {"item_id": "fc_1", "output_index": 0, "name": "f", "arguments": item["arguments"]}
    e[at:at] = [
        {"type": "response.function_call_arguments.done", **arguments},
        {"type": "response.output_item.done", "output_index": 0, "item": item},
    ]
    renumber(e)


def failed_stream() -> list[Event]:
    b = StreamBuilder()
    b.open()
    item = add_cut_message(b, with_error=True)
    error = {"code": "server_error", "message": "upstream disconnected"}
    b.response("response.failed", "failed", [item], error=error)
    return b.events


def closed_at_failure_stream() -> list[Event]:
    """The old rule 19: the message open at the error event is announced done before response.failed."""
    b = StreamBuilder()
    b.open()
    item = add_cut_message(b, with_error=True)
    text = {"output_index": 0, "item_id": "msg_1", "content_index": 0}
    b.add("response.output_text.done", **text, text="Hel", logprobs=[])
    b.add("response.content_part.done", **text, part=item["content"][0])
    b.item_done(0, item)
    b.response("response.failed", "failed", [item], error={"code": "server_error", "message": "gone"})
    return b.events


VALID_STREAMS = [valid_stream, incomplete_stream, incomplete_cut_call_stream, failed_stream]

# --- model form ---------------------------------------------------------------------------------------

MODEL_CLASSES: dict[str, type[BaseModel]] = {
    "response.created": rt.ResponseCreatedEvent,
    "response.in_progress": rt.ResponseInProgressEvent,
    "response.completed": rt.ResponseCompletedEvent,
    "response.incomplete": rt.ResponseIncompleteEvent,
    "response.failed": rt.ResponseFailedEvent,
    "response.output_item.added": rt.ResponseOutputItemAddedEvent,
    "response.output_item.done": rt.ResponseOutputItemDoneEvent,
    "response.content_part.added": rt.ResponseContentPartAddedEvent,
    "response.content_part.done": rt.ResponseContentPartDoneEvent,
    "response.output_text.delta": rt.ResponseTextDeltaEvent,
    "response.output_text.done": rt.ResponseTextDoneEvent,
    "response.output_text.annotation.added": rt.ResponseOutputTextAnnotationAddedEvent,
    "response.refusal.delta": rt.ResponseRefusalDeltaEvent,
    "response.refusal.done": rt.ResponseRefusalDoneEvent,
    "response.function_call_arguments.delta": rt.ResponseFunctionCallArgumentsDeltaEvent,
    "response.function_call_arguments.done": rt.ResponseFunctionCallArgumentsDoneEvent,
    "response.reasoning_summary_part.added": rt.ResponseReasoningSummaryPartAddedEvent,
    "response.reasoning_summary_part.done": rt.ResponseReasoningSummaryPartDoneEvent,
    "response.reasoning_summary_text.delta": rt.ResponseReasoningSummaryTextDeltaEvent,
    "response.reasoning_summary_text.done": rt.ResponseReasoningSummaryTextDoneEvent,
    "response.reasoning_text.delta": rt.ResponseReasoningTextDeltaEvent,
    "response.reasoning_text.done": rt.ResponseReasoningTextDoneEvent,
    "error": rt.ResponseErrorEvent,
}


def as_models(events: list[Event]) -> list[BaseModel]:
    return [MODEL_CLASSES[event["type"]].model_validate(event) for event in events]


@pytest.mark.parametrize("build", VALID_STREAMS)
def test_valid_stream_in_dict_form_has_no_violations(build: Callable[[], list[Event]]) -> None:
    assert check_stream(build()) == []


@pytest.mark.parametrize("build", VALID_STREAMS)
def test_valid_stream_in_model_form_has_no_violations(build: Callable[[], list[Event]]) -> None:
    assert check_stream(as_models(build())) == []


@pytest.mark.parametrize("build", VALID_STREAMS)
def test_valid_stream_mixing_models_and_dicts_has_no_violations(build: Callable[[], list[Event]]) -> None:
    events = build()
    mixed = [
        model if k % 2 else event
        for k, (event, model) in enumerate(zip(events, as_models(events), strict=True))
    ]
    assert check_stream(iter(mixed)) == []


def test_assert_stream_ok_passes_and_fails_with_every_violation_listed() -> None:
    assert_stream_ok(valid_stream(), sse_frames=sse_frames(valid_stream()))
    broken = valid_stream()[:-1]
    broken[3]["sequence_number"] = 99
    with pytest.raises(
        AssertionError, match=r"(?s)3 Responses stream rule violation.*rule 1 at event 3.*rule 3 at stream"
    ):
        assert_stream_ok(broken)


def test_violation_str_names_rule_and_position() -> None:
    assert str(Violation(7, 4, "call_id 'x' is used twice")) == "rule 7 at event 4: call_id 'x' is used twice"
    assert str(Violation(3, None, "no terminal")) == "rule 3 at stream: no terminal"


# --- one broken rule at a time --------------------------------------------------------------------------

Mutation = Callable[[list[Any]], None]


def renumber(events: list[Any]) -> None:
    for position, event in enumerate(events):
        if isinstance(event, dict):
            event["sequence_number"] = position


def find(events: list[Event], event_type: str, nth: int = 0, **match: Any) -> int:
    """Position of the nth event of `event_type` whose fields equal `match`."""
    hits = [
        k
        for k, event in enumerate(events)
        if event.get("type") == event_type and all(event.get(key) == value for key, value in match.items())
    ]
    return hits[nth]


def terminal(events: list[Event]) -> dict[str, Any]:
    response: dict[str, Any] = events[-1]["response"]
    return response


def update(event_type: str, nth: int = 0, /, **fields: Any) -> Mutation:
    return lambda e: e[find(e, event_type, nth)].update(fields)


def update_nested(event_type: str, key: str, /, **fields: Any) -> Mutation:
    """Update the `key` object (part, item, response…) of the first `event_type` event."""
    return lambda e: e[find(e, event_type)][key].update(fields)


def update_added(output_index: int, **fields: Any) -> Mutation:
    return lambda e: e[find(e, "response.output_item.added", output_index=output_index)]["item"].update(
        fields
    )


def pop_key(event_type: str, key: str, container: str | None = None, **match: Any) -> Mutation:
    def mutate(e: list[Event]) -> None:
        event = e[find(e, event_type, **match)]
        (event[container] if container else event).pop(key)

    return mutate


def update_terminal(**fields: Any) -> Mutation:
    return lambda e: terminal(e).update(fields)


def update_usage(**fields: Any) -> Mutation:
    return lambda e: terminal(e)["usage"].update(fields)


def update_done_item(item_id: str, **fields: Any) -> Mutation:
    """Change the item in its output_item.done and in the terminal output alike (added stays)."""

    def mutate(e: list[Event]) -> None:
        done_items = [x["item"] for x in e if x["type"] == "response.output_item.done"]
        for item in done_items + terminal(e)["output"]:
            if item["id"] == item_id:
                item.update(fields)

    return mutate


def update_everywhere(item_id: str, key: str, value: Any) -> Mutation:
    """Set `key` wherever item `item_id` shows: its events, its added/done/terminal copies (for "id",
    the events' item_id too), so only what `key` means changes."""

    def mutate(e: list[Event]) -> None:
        sub_events = [x for x in e if x.get("item_id") == item_id]
        item_events = [x for x in e if x.get("item", {}).get("id") == item_id]
        items = [x["item"] for x in item_events] + [i for i in terminal(e)["output"] if i["id"] == item_id]
        for target in sub_events + item_events + items:
            if key in target:
                target[key] = value
        if key == "id":
            for event in sub_events:
                event["item_id"] = value

    return mutate


def drop(event_type: str, nth: int = 0, /, **match: Any) -> Mutation:
    def mutate(e: list[Event]) -> None:
        del e[find(e, event_type, nth, **match)]
        renumber(e)

    return mutate


def swap_with_next(event_type: str, nth: int = 0) -> Mutation:
    def mutate(e: list[Event]) -> None:
        k = find(e, event_type, nth)
        e[k], e[k + 1] = e[k + 1], e[k]
        renumber(e)

    return mutate


def move_before(event_type: str, anchor_type: str, **match: Any) -> Mutation:
    """Move the first `event_type` event matching `match` to just before the first `anchor_type` event."""

    def mutate(e: list[Event]) -> None:
        event = e.pop(find(e, event_type, **match))
        e.insert(find(e, anchor_type) if anchor_type != "terminal" else len(e) - 1, event)
        renumber(e)

    return mutate


def _position(events: list[Any], where: int | str) -> int:
    """An index, or "terminal" (just before the last event) or "end"."""
    return {"terminal": len(events) - 1, "end": len(events)}[where] if isinstance(where, str) else where


def insert_event(where: int | str, event: Any) -> Mutation:
    def mutate(e: list[Any]) -> None:
        e.insert(_position(e, where), copy.deepcopy(event))
        renumber(e)

    return mutate


def copy_event(event_type: str, where: int | str, /, **match: Any) -> Mutation:
    def mutate(e: list[Any]) -> None:
        e.insert(_position(e, where), copy.deepcopy(e[find(e, event_type, **match)]))
        renumber(e)

    return mutate


def shift_sequence_from(position: int) -> Mutation:
    def mutate(e: list[Event]) -> None:
        for event in e[position:]:
            event["sequence_number"] += 1

    return mutate


def rename_index(key: str, old: int, new: int, type_part: str) -> Mutation:
    """Renumber `key` from old to new on every event whose type contains `type_part`."""

    def mutate(e: list[Event]) -> None:
        for event in e:
            if type_part in event["type"] and event.get(key) == old:
                event[key] = new

    return mutate


def both(*mutations: Mutation) -> Mutation:
    def mutate(e: list[Event]) -> None:
        for mutation in mutations:
            mutation(e)

    return mutate


def set_done_message_text(text: str) -> Mutation:
    def mutate(e: list[Event]) -> None:
        for item in [x["item"] for x in e if x["type"] == DONE] + terminal(e)["output"]:
            if item["id"] == "msg_1":
                item["content"][0]["text"] = text

    return mutate


def set_terminal_refusal(text: str) -> Mutation:
    return lambda e: terminal(e)["output"][1]["content"][1].update(refusal=text)


@dataclass(frozen=True)
class Case:
    """`mutate` breaks `rule` in `base`; `also` lists rules the same break legitimately triggers too."""

    id: str
    rule: int
    mutate: Mutation
    base: Callable[[], list[Event]] = valid_stream
    also: tuple[int, ...] = ()


ADDED, DONE = "response.output_item.added", "response.output_item.done"
TEXT_DELTA, TEXT_DONE = "response.output_text.delta", "response.output_text.done"
PART_ADDED, PART_DONE = "response.content_part.added", "response.content_part.done"
ARGS_DELTA, ARGS_DONE = "response.function_call_arguments.delta", "response.function_call_arguments.done"
SUMMARY_PART_ADDED = "response.reasoning_summary_part.added"
SUMMARY_DONE = "response.reasoning_summary_text.done"

CASES = [
    Case("sequence-gap", 1, shift_sequence_from(3)),
    Case("sequence-not-int", 1, update("response.in_progress", sequence_number="1")),
    Case("non-dict-event", 1, insert_event(5, 42)),
    Case(
        "event-without-type",
        1,
        pop_key("response.output_text.annotation.added", "type"),
        also=(12,),
    ),
    Case("created-not-first", 2, swap_with_next("response.created")),
    Case("created-has-output", 2, update_nested("response.created", "response", output=[REASONING_DONE])),
    Case("created-output-null", 2, update_nested("response.created", "response", output=None)),
    Case("no-in-progress", 2, drop("response.in_progress")),
    Case("in-progress-repeated", 2, copy_event("response.in_progress", 5)),
    Case("no-terminal", 3, drop("response.completed")),
    Case("two-terminals", 3, copy_event("response.completed", "end")),
    Case("event-after-terminal", 3, copy_event("error", "end"), base=failed_stream),
    Case("error-then-completed", 3, insert_event("terminal", {"type": "error", "message": "x"})),
    Case("truthy-error-key", 3, update(TEXT_DELTA, error={"message": "boom"})),
    Case("id-changes", 4, update_terminal(id="resp_other")),
    Case("id-without-prefix", 4, lambda e: [x["response"].update(id="r_1") for x in e if "response" in x]),
    Case("terminal-status", 4, update_terminal(status="in_progress")),
    Case("created-status", 4, update_nested("response.created", "response", status="queued")),
    Case("no-response-object", 4, pop_key("response.in_progress", "response")),
    Case("output-index-gap", 6, update_everywhere("fc_2", "output_index", 5)),
    Case("items-overlap", 6, move_before(DONE, "terminal", output_index=1)),
    Case("added-twice", 6, copy_event(ADDED, 3, output_index=0)),
    Case("delta-unknown-index", 6, update(ARGS_DELTA, output_index=9), also=(13,)),
    Case("wrong-id-prefix", 7, update_everywhere("fc_1", "id", "call_1")),
    Case("duplicate-item-id", 7, update_everywhere("fc_2", "id", "fc_1")),
    Case("duplicate-call-id", 7, update_everywhere("fc_2", "call_id", "call_abc")),
    Case("empty-call-id", 7, update_everywhere("fc_2", "call_id", "")),
    Case("delta-item-id", 7, update(TEXT_DELTA, item_id="msg_x")),
    Case("added-status", 8, update_added(1, status="completed")),
    Case("added-message-content", 8, update_added(1, content=[TEXT_PART])),
    Case("added-call-arguments", 8, update_added(2, arguments="{")),
    Case("added-call-no-name", 8, pop_key(ADDED, "name", "item", output_index=2)),
    Case("added-reasoning-summary", 8, update_added(0, summary=REASONING_DONE["summary"])),
    Case("missing-done", 9, drop(DONE, output_index=3), also=(16,)),
    Case("two-dones", 9, copy_event(DONE, "terminal", output_index=3)),
    Case("done-id-changed", 9, update_done_item("msg_1", id="msg_2")),
    Case("done-call-id-changed", 9, update_done_item("fc_1", call_id="call_zzz")),
    Case("done-status", 9, update_done_item("fc_2", status="in_progress")),
    Case("event-after-done", 9, copy_event(TEXT_DELTA, "terminal")),
    Case("part-not-empty", 10, update_nested(PART_ADDED, "part", text="x")),
    Case("content-index-gap", 10, rename_index("content_index", 1, 2, "response.")),
    Case(
        "delta-before-part",
        10,
        move_before(PART_ADDED, "response.refusal.done", content_index=1),
        also=(11,),
    ),
    Case("part-done-before-text-done", 10, swap_with_next(TEXT_DONE)),
    Case("two-parts-open", 10, move_before(PART_DONE, "response.refusal.delta")),
    Case("delta-into-wrong-part", 10, update(TEXT_DELTA, type="response.refusal.delta"), also=(11,)),
    Case("item-done-with-open-part", 10, drop(PART_DONE, content_index=1)),
    Case("delta-changed", 11, update(TEXT_DELTA, delta="Hi, ")),
    Case("refusal-done-changed", 11, update("response.refusal.done", refusal="No.")),
    Case("part-done-changed", 11, update_nested(PART_DONE, "part", text="Hello")),
    Case("done-item-text-changed", 11, set_done_message_text("Hello, Lyon!")),
    Case("terminal-text-changed", 11, set_terminal_refusal("x"), also=(16,)),
    Case("delta-without-logprobs", 11, pop_key(TEXT_DELTA, "logprobs")),
    Case("done-logprobs-null", 11, update(TEXT_DONE, logprobs=None)),
    Case("annotation-index", 12, update("response.output_text.annotation.added", annotation_index=1)),
    Case("annotation-count", 12, update_nested(PART_DONE, "part", annotations=[])),
    Case("arguments-done-differs", 13, update(ARGS_DONE, arguments="{}")),
    Case("arguments-done-other-name", 13, update(ARGS_DONE, name="get_time")),
    Case("item-arguments-differ", 13, update_done_item("fc_1", arguments='{"city":"Lyon"}')),
    Case("no-arguments-done", 13, drop(ARGS_DONE)),
    Case("delta-after-arguments-done", 13, swap_with_next(ARGS_DELTA, 1)),
    Case("summary-index", 14, rename_index("summary_index", 0, 1, "summary")),
    Case("summary-done-differs", 14, update(SUMMARY_DONE, text="Thinking.")),
    Case("item-summary-missing", 14, update_done_item("rs_1", summary=[])),
    Case("summary-part-done-first", 14, swap_with_next(SUMMARY_DONE)),
    Case("summary-part-not-empty", 14, update_nested(SUMMARY_PART_ADDED, "part", text="x")),
    Case("reasoning-done-differs", 15, update("response.reasoning_text.done", text="The user.")),
    Case("item-content-type", 15, update_done_item("rs_1", content=[REASONING_DONE["summary"][0]])),
    Case("item-content-missing", 15, update_done_item("rs_1", content=None)),
    Case("encrypted-not-string", 15, update_done_item("rs_1", encrypted_content=123)),
    Case("reasoning-delta-after-done", 15, swap_with_next("response.reasoning_text.delta", 1)),
    Case("output-missing-item", 16, lambda e: terminal(e)["output"].pop()),
    Case("output-null", 16, update_terminal(output=None)),
    Case("error-not-null", 16, update_terminal(error={"code": "server_error", "message": "x"})),
    Case("incomplete-details", 17, update_terminal(incomplete_details={"reason": "max_output_tokens"})),
    Case("item-incomplete", 17, update_done_item("fc_2", status="incomplete")),
    Case(
        "reason-length", 18, update_terminal(incomplete_details={"reason": "length"}), base=incomplete_stream
    ),
    Case("no-details", 18, update_terminal(incomplete_details=None), base=incomplete_stream),
    Case("cut-item-completed", 18, update_done_item("msg_1", status="completed"), base=incomplete_stream),
    Case("error-without-code", 19, update_terminal(error={"message": "x"}), base=failed_stream),
    Case("error-null", 19, update_terminal(error=None), base=failed_stream),
    Case("cut-item-announced-done-at-failed", 19, lambda e: None, base=closed_at_failure_stream),
    Case(
        "cut-item-done-completed-at-failed",
        19,
        update_done_item("msg_1", status="completed"),
        base=closed_at_failure_stream,
    ),
    Case("cut-item-missing-from-failed-output", 16, update_terminal(output=[]), base=failed_stream),
    Case("cut-call-announced-done", 18, announce_cut_call_done, base=incomplete_cut_call_stream),
    Case("cut-call-missing-from-output", 16, update_terminal(output=[]), base=incomplete_cut_call_stream),
    Case("tokens-not-int", 20, update_usage(input_tokens="12")),
    Case("no-cached-tokens", 20, lambda e: terminal(e)["usage"].pop("input_tokens_details")),
    Case("reasoning-tokens-null", 20, update_usage(output_tokens_details={"reasoning_tokens": None})),
    Case("usage-not-object", 20, update_terminal(usage=[1, 2])),
]


@pytest.mark.parametrize("case", CASES, ids=lambda case: f"{case.rule}-{case.id}")
def test_breaking_one_rule_reports_it(case: Case) -> None:
    events = case.base()
    case.mutate(events)
    violations = check_stream(events)
    assert {v.rule for v in violations} == {case.rule, *case.also}, "\n".join(map(str, violations))
    assert all(v.message for v in violations)


def test_every_rule_has_a_case() -> None:
    assert {case.rule for case in CASES} | {5} == set(range(1, 21))  # rule 5 (SSE framing) is tested below


# --- rule 5: SSE framing --------------------------------------------------------------------------------


def sse_frames(events: list[Event], *, done: bool = True) -> list[bytes]:
    frames = [
        f"event: {e['type']}\ndata: {json.dumps(e, separators=(',', ':'))}\n\n".encode() for e in events
    ]
    return [*frames, b"data: [DONE]\n\n"] if done else frames


def test_well_formed_frames_pass_with_or_without_done_marker() -> None:
    events = valid_stream()
    assert check_stream(events, sse_frames=sse_frames(events)) == []
    assert check_stream(events, sse_frames=[frame.decode() for frame in sse_frames(events, done=False)]) == []


def _frame(events: list[Event], k: int, text: str) -> list[bytes | str]:
    frames: list[bytes | str] = list(sse_frames(events))
    frames[k] = text
    return frames


@pytest.mark.parametrize(
    "make_frames",
    [
        pytest.param(
            lambda e: _frame(e, 3, f"event: response.other\ndata: {json.dumps(e[3])}\n\n"),
            id="event-name-differs",
        ),
        pytest.param(
            lambda e: _frame(e, 3, f"event: {e[3]['type']}\ndata: {json.dumps(e[3])}\n"), id="no-blank-line"
        ),
        pytest.param(lambda e: _frame(e, 3, f"data: {json.dumps(e[3])}\n\n"), id="no-event-line"),
        pytest.param(
            lambda e: _frame(e, 3, f"event: {e[3]['type']}\ndata: {json.dumps(e[4])}\n\n"),
            id="frame-carries-other-event",
        ),
        pytest.param(
            lambda e: _frame(e, 3, f"event: {e[3]['type']}\ndata: {{not json\n\n"), id="data-not-json"
        ),
        pytest.param(
            lambda e: _frame(e, 3, "event: x\ndata: 1\n\nevent: x\ndata: 2\n\n"), id="two-frames-in-one-write"
        ),
        pytest.param(
            lambda e: [*sse_frames(e)[:3], b"data: [DONE]\n\n", *sse_frames(e)[3:]], id="done-not-last"
        ),
        pytest.param(lambda e: sse_frames(e)[:-3], id="frames-missing"),
        pytest.param(lambda e: _frame(e, 3, b"\xff\xfe"), id="not-utf8"),
        pytest.param(lambda e: "event: x\ndata: {}\n\n", id="frames-is-a-string"),
    ],
)
def test_broken_framing_is_rule_5(make_frames: Callable[[list[Event]], Any]) -> None:
    events = valid_stream()
    violations = check_stream(events, sse_frames=make_frames(events))
    assert {v.rule for v in violations} == {5}, "\n".join(map(str, violations))


# --- malformed input is reported, never raised ----------------------------------------------------------


@pytest.mark.parametrize(
    "events",
    [
        pytest.param([], id="empty"),
        pytest.param([1, None, "x", b"y", [], 2.5], id="non-events"),
        pytest.param([{}, {"type": 1}, {"type": "response.created"}], id="missing-keys"),
        pytest.param(
            [{"type": "response.created", "sequence_number": 0, "response": []}], id="response-not-object"
        ),
        pytest.param(
            [
                {"type": t, "sequence_number": k, "output_index": "0", "item": 5, "part": 5}
                for k, t in enumerate(MODEL_CLASSES)
            ],
            id="every-type-wrong-fields",
        ),
        pytest.param(
            [
                {"type": t, "sequence_number": k, "output_index": 0, "item_id": None}
                for k, t in enumerate(MODEL_CLASSES)
            ],
            id="every-type-bare",
        ),
        pytest.param(
            [rt.ResponseTextDeltaEvent.model_construct(type="response.output_text.delta")],
            id="half-built-model",
        ),
        pytest.param(
            [
                {
                    "type": "response.created",
                    "sequence_number": True,
                    "response": {"id": {"x": 1}, "output": {}},
                }
            ],
            id="odd-types",
        ),
    ],
)
def test_malformed_events_become_violations(events: list[Any]) -> None:
    violations = check_stream(events)
    assert violations
    assert all(isinstance(v, Violation) and 1 <= (v.rule or 0) <= 20 for v in violations)
    format_events(events)  # the snapshot form is just as tolerant


def test_a_non_iterable_is_a_violation() -> None:
    assert [v.rule for v in check_stream(42)] == [1]  # type: ignore[arg-type]


def test_deeply_nested_values_do_not_overflow() -> None:
    deep: Any = "leaf"
    for _ in range(5000):
        deep = {"a": [deep]}
    events = valid_stream()
    terminal(events)["output"][0]["extra"] = deep
    assert {v.rule for v in check_stream(events)} == {16}
    format_events(events)


def test_cost_is_linear_in_stream_length() -> None:
    b = StreamBuilder()
    b.open()
    b.item_added(
        0, {"id": "msg_1", "type": "message", "role": "assistant", "status": "in_progress", "content": []}
    )
    text = {"output_index": 0, "item_id": "msg_1", "content_index": 0}
    b.add("response.content_part.added", **text, part={"type": "output_text", "text": "", "annotations": []})
    for _ in range(50_000):
        b.add("response.output_text.delta", **text, delta="ab", logprobs=[])
    b.add("response.output_text.done", **text, text="ab" * 50_000, logprobs=[])
    part = {"type": "output_text", "text": "ab" * 50_000, "annotations": []}
    b.add("response.content_part.done", **text, part=part)
    item = {"id": "msg_1", "type": "message", "role": "assistant", "status": "completed", "content": [part]}
    b.item_done(0, item)
    b.response("response.completed", "completed", [item], usage=USAGE)
    assert check_stream(b.events) == []  # quadratic joins would take minutes here


# --- property: random damage never makes the checker raise ----------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
Damage = tuple[str, int, int, Any]
DAMAGE = st.tuples(
    st.sampled_from(["drop", "duplicate", "swap", "corrupt"]),
    st.integers(0, 200),
    st.integers(0, 200),
    JSON_VALUES,
)


def apply_damage(events: list[Any], damage: list[Damage]) -> list[Any]:
    for action, first, second, value in damage:
        if not events:
            break
        k, j = first % len(events), second % len(events)
        if action == "drop":
            del events[k]
        elif action == "duplicate":
            events.insert(j, copy.deepcopy(events[k]))
        elif action == "swap":
            events[k], events[j] = events[j], events[k]
        elif isinstance(events[k], dict) and events[k]:
            keys = sorted(events[k])
            events[k][keys[j % len(keys)]] = value
    return events


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    base=st.sampled_from(VALID_STREAMS),
    damage=st.lists(DAMAGE, max_size=6),
    as_model=st.booleans(),
)
def test_random_damage_never_raises(
    base: Callable[[], list[Event]], damage: list[Damage], as_model: bool
) -> None:
    events = apply_damage(base(), damage)
    if as_model:  # the models that still validate, mixed with the dicts that do not
        events = [_model_or_dict(event) for event in events]
    violations = check_stream(events, sse_frames=sse_frames([e for e in events if isinstance(e, dict)]))
    assert all(isinstance(v, Violation) and 1 <= v.rule <= 20 for v in violations)
    assert isinstance(format_events(events), str)


def _model_or_dict(event: Any) -> Any:
    event_type = event.get("type") if isinstance(event, dict) else None
    model_class = MODEL_CLASSES.get(event_type) if isinstance(event_type, str) else None
    try:
        return model_class.model_validate(event) if model_class else event
    except ValueError:
        return event


SMALL_INTS = st.integers(-1, 3)
EVENT_KEYS = [
    "response",
    "item",
    "part",
    "output_index",
    "content_index",
    "summary_index",
    "item_id",
    "delta",
]
EVENT_KEYS += ["text", "refusal", "arguments", "logprobs", "annotation", "annotation_index", "error"]
TYPED_EVENTS = st.fixed_dictionaries(
    {"type": st.sampled_from(list(MODEL_CLASSES)), "sequence_number": SMALL_INTS},
    optional={key: SMALL_INTS | JSON_VALUES if key.endswith("index") else JSON_VALUES for key in EVENT_KEYS},
)


@settings(max_examples=300, deadline=None)
@given(events=st.lists(TYPED_EVENTS | JSON_VALUES, max_size=12))
def test_arbitrary_json_never_raises(events: list[Any]) -> None:
    assert all(isinstance(v, Violation) for v in check_stream(events))
    format_events(events)
