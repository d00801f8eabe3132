"""An item is announced done only when the upstream finished it (stream rules 16, 18, 19).

Codex keeps every item it is told is done (``response.output_item.done``), whatever its status, replays it
on the retry, and executes every function call among them. So a failure announces nothing more: what was
open stays out of the ``done`` events and appears only in the failed response's ``output``, status
``incomplete``. A length cut closes the message it cut (the model really said that text) but never a call
whose arguments are not complete JSON.
"""

from __future__ import annotations

from typing import Any

import pytest

from chat_to_responses import ChatCmplStreamHandler, SequentialIds
from chat_to_responses.testing import check_stream
from test_provider_shapes import chunk, of_type, run, terminal, tool

Event = dict[str, Any]


def done_items(events: list[Event]) -> list[dict[str, Any]]:
    return [event["item"] for event in of_type(events, "response.output_item.done")]


def test_a_failure_mid_message_announces_nothing_and_keeps_the_text() -> None:
    events = run([chunk({"content": "Hel"}), chunk({"content": "lo"}), {"error": {"message": "boom"}}])
    assert events[-1]["type"] == "response.failed"
    assert done_items(events) == []
    assert not of_type(events, "response.output_text.done")
    assert not of_type(events, "response.content_part.done")
    (message,) = terminal(events)["output"]
    assert message["status"] == "incomplete"
    assert message["content"] == [{"type": "output_text", "text": "Hello", "annotations": [], "logprobs": []}]
    assert check_stream(events) == []


def test_a_failure_keeps_the_items_finished_before_it_done() -> None:
    chunks = [
        chunk({"reasoning_content": "think"}),
        chunk({"content": "Hi"}),
        chunk({"tool_calls": [tool(0, "call_a", "f", '{"x":')]}),
    ]
    handler = ChatCmplStreamHandler(ids=SequentialIds())
    events = [event for c in chunks for event in handler.feed_dicts(c)]
    events += handler.finish_dicts(error=ConnectionResetError("peer went away"))
    assert [item["id"] for item in done_items(events)] == ["rs_1", "msg_1"]
    assert all(item["status"] == "completed" for item in done_items(events))
    output = terminal(events)["output"]
    assert [(item["id"], item["status"]) for item in output] == [
        ("rs_1", "completed"),
        ("msg_1", "completed"),
        ("fc_1", "incomplete"),
    ]
    assert output[2]["arguments"] == '{"x":'
    assert not of_type(events, "response.function_call_arguments.done")
    assert check_stream(events) == []


def test_calls_still_waiting_at_a_failure_are_kept_in_the_output() -> None:
    # Two interleaved calls: the second waits while the first's arguments stream.
    chunks = [
        chunk({"tool_calls": [tool(0, "call_a", "f", '{"a":')]}),
        chunk({"tool_calls": [tool(1, "call_b", "g", '{"b": 2}')]}),
    ]
    events = run([*chunks, {"error": {"message": "cut"}}])
    assert done_items(events) == []
    output = terminal(events)["output"]
    assert [(item["call_id"], item["arguments"], item["status"]) for item in output] == [
        ("call_a", '{"a":', "incomplete"),
        ("call_b", '{"b": 2}', "incomplete"),
    ]
    assert len({item["id"] for item in output}) == 2
    assert check_stream(events) == []


def test_a_vllm_abort_announces_nothing_open() -> None:
    events = run([chunk({"content": "partial"}), chunk(finish="abort")])
    assert events[-1]["type"] == "response.failed"
    assert done_items(events) == []
    assert terminal(events)["output"][0]["content"][0]["text"] == "partial"
    assert check_stream(events) == []


def test_a_length_cut_closes_the_message_as_incomplete() -> None:
    events = run([chunk({"content": "The answer is"}), chunk(finish="length")])
    assert events[-1]["type"] == "response.incomplete"
    (message,) = done_items(events)
    assert message["status"] == "incomplete"
    assert terminal(events)["output"] == [message]
    assert check_stream(events) == []


def test_a_length_cut_inside_a_call_never_announces_the_call() -> None:
    call = tool(0, "call_a", "f", '{"path": "/tm')
    chunks = [chunk({"content": "Let me look."}), chunk({"tool_calls": [call]})]
    events = run([*chunks, chunk(finish="length")])
    assert events[-1]["type"] == "response.incomplete"
    assert [item["type"] for item in done_items(events)] == ["message"]
    assert not of_type(events, "response.function_call_arguments.done")
    call = terminal(events)["output"][-1]
    assert (call["call_id"], call["arguments"], call["status"]) == ("call_a", '{"path": "/tm', "incomplete")
    assert check_stream(events) == []


def test_a_length_cut_after_a_whole_call_announces_it_and_cuts_the_next() -> None:
    chunks = [
        chunk({"tool_calls": [tool(0, "call_a", "f", '{"a": 1}')]}),
        chunk({"tool_calls": [tool(1, "call_b", "g", '{"b": ')]}),
    ]
    events = run([*chunks, chunk(finish="length")])
    assert [item["call_id"] for item in done_items(events)] == ["call_a"]
    output = terminal(events)["output"]
    assert [(item["call_id"], item["status"]) for item in output][-1] == ("call_b", "incomplete")
    assert check_stream(events) == []


def test_the_end_of_a_stream_inside_a_calls_arguments_is_a_failure() -> None:
    # No finish_reason and the JSON still open: the connection was cut, the call must not run.
    events = run([chunk({"tool_calls": [tool(0, "call_a", "shell", '{"cmd": "rm -rf /tmp/x')]})])
    assert events[-1]["type"] == "response.failed"
    assert "inside a tool call's arguments" in terminal(events)["error"]["message"]
    assert done_items(events) == []
    assert terminal(events)["output"][0]["status"] == "incomplete"
    assert check_stream(events) == []


def test_the_end_of_a_stream_after_whole_arguments_completes() -> None:
    # Servers that omit finish_reason (some llama.cpp and vLLM builds) still complete a whole call.
    events = run([chunk({"tool_calls": [tool(0, "call_a", "shell", '{"cmd": "ls"}')]})])
    assert events[-1]["type"] == "response.completed"
    assert [item["status"] for item in done_items(events)] == ["completed"]


@pytest.mark.parametrize("reason", ["tool_calls", "stop"])
def test_a_finished_call_is_announced_even_with_broken_json(reason: str) -> None:
    # The upstream said the call is finished: broken JSON is the model's mistake, told back to it.
    events = run([chunk({"tool_calls": [tool(0, "call_a", "f", "{oops")]}), chunk(finish=reason)])
    assert events[-1]["type"] == "response.completed"
    assert [item["arguments"] for item in done_items(events)] == ["{oops"]
