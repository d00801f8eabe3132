"""A retry after a failed stream adds nothing from the failed attempt to the upstream request.

The core announces done only what the upstream finished; text finished before a cut later in the same
response is announced, and Codex records it and sends it back on its retry. The bridge drops those
leftovers (``server._attempts``): unit tests of the registry, then the whole path over real HTTP.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

pytest.importorskip("starlette")

from chat_to_responses.server._attempts import FailedAttempts, fingerprint
from chat_to_responses.server._limits import owner_of
from chat_to_responses.testing import StreamTurn
from fake_upstream import FakeUpstream, running_bridge, running_upstream

Json = dict[str, Any]


def message(text: str, **extra: Any) -> Json:
    return {
        "type": "message",
        "role": "assistant",
        "content": [{"type": "output_text", "text": text}],
        **extra,
    }


def reasoning(summary: str, encrypted: str | None = None) -> Json:
    item: Json = {"type": "reasoning", "summary": [{"type": "summary_text", "text": summary}]}
    if encrypted is not None:
        item["encrypted_content"] = encrypted
    return item


USER = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "go"}]}
CALL = {"type": "function_call", "call_id": "call_1", "name": "shell", "arguments": "{}"}
OUTPUT = {"type": "function_call_output", "call_id": "call_1", "output": "ok"}


def failed(*done: Json, cut: Json | None = None) -> Json:
    output = [{**item, "id": "x", "status": "completed"} for item in done]
    if cut is not None:
        output.append({**cut, "status": "incomplete"})
    return {"status": "failed", "output": output}


def test_the_leftover_of_a_failed_attempt_is_dropped_where_a_retry_puts_it() -> None:
    attempts = FailedAttempts()
    attempts.remember("me", failed(reasoning("think"), message("Let me look."), cut=CALL))
    leftover = [reasoning("think"), message("Let me look.")]
    assert attempts.strip("me", [USER, *leftover]) == [USER]  # the retry request itself
    retried = [USER, *leftover, reasoning("think again"), message("Let me look."), CALL, OUTPUT]
    assert attempts.strip("me", retried) == [USER, *retried[3:]]


def test_each_failed_attempt_removes_one_copy() -> None:
    attempts = FailedAttempts()
    for _ in range(3):  # three attempts, each cut after the same finished text
        attempts.remember("me", failed(message("Let me look."), cut=CALL))
    answer = [message("Let me look."), CALL, OUTPUT]  # the fourth attempt says the same, then calls
    items = [USER, *[message("Let me look.")] * 3, *answer]
    assert attempts.strip("me", items) == [USER, *answer]


def test_a_leftover_before_a_user_message_or_a_tool_output_is_history() -> None:
    attempts = FailedAttempts()
    attempts.remember("me", failed(message("Partial answer."), cut=CALL))
    kept = [USER, message("Partial answer."), USER]
    assert attempts.strip("me", kept) == kept


def test_only_the_owner_s_attempts_are_dropped() -> None:
    attempts = FailedAttempts()
    attempts.remember(owner_of("Bearer a"), failed(message("hi")))
    items = [USER, message("hi")]
    assert attempts.strip(owner_of("Bearer b"), items) == items
    assert attempts.strip(owner_of("Bearer a"), items) == [USER]


def test_a_failure_that_announced_a_call_is_not_remembered() -> None:
    # Codex runs every call announced done and records its output: that happened, and stays.
    attempts = FailedAttempts()
    attempts.remember("me", failed(message("Running it."), CALL, cut=message("and then")))
    items = [USER, message("Running it."), CALL, OUTPUT]
    assert attempts.strip("me", items) == items
    assert attempts.strip("me", [USER, message("Running it.")]) == [USER, message("Running it.")]


def test_leftovers_expire_and_are_bounded() -> None:
    now = [0.0]
    attempts = FailedAttempts(ttl=10, limit=2, clock=lambda: now[0])
    for text in ("one", "two", "three"):
        attempts.remember("me", failed(message(text)))
    assert attempts.strip("me", [USER, message("one")]) == [USER, message("one")]  # the oldest went out
    assert attempts.strip("me", [USER, message("three")]) == [USER]
    now[0] = 11
    assert attempts.strip("me", [USER, message("three")]) == [USER, message("three")]


def test_fingerprints_ignore_what_clients_drop_and_keep_what_they_send_back() -> None:
    ours = message("Hello", id="msg_1", status="completed")
    ours["content"][0].update(annotations=[], logprobs=[])
    assert fingerprint(ours) == fingerprint(message("Hello"))  # Codex drops ids, status, logprobs
    assert fingerprint(reasoning("a", "c2r1.x")) != fingerprint(reasoning("a", "c2r1.y"))
    assert fingerprint(USER) is None
    assert fingerprint(CALL) is None


# ---------------------------------------------------------------------------------------------- end to end


def _chunk(delta: Json, finish: str | None = None) -> Json:
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    return {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": [choice]}


def _answer(text: str, arguments: str) -> list[Json]:
    call = {"index": 0, "id": "call_1", "type": "function", "function": {"name": "shell", "arguments": ""}}
    return [
        _chunk({"role": "assistant", "content": text}),
        _chunk({"tool_calls": [call]}),
        _chunk({"tool_calls": [{"index": 0, "function": {"arguments": arguments}}]}),
        _chunk({}, "tool_calls"),
    ]


@pytest.fixture
def bridge() -> Iterator[tuple[FakeUpstream, str]]:
    with running_upstream() as (upstream, url), running_bridge(url) as bridge_url:
        yield upstream, bridge_url


def _post(url: str, items: list[Json]) -> list[Json]:
    body = {"model": "m", "input": items, "stream": True, "store": False, "tools": [_SHELL]}
    with httpx.Client(timeout=30) as http:
        reply = http.post(f"{url}/responses", json=body, headers={"authorization": "Bearer sk-me"})
    frames = [line[6:] for line in reply.text.splitlines() if line.startswith("data: ")]
    return [json.loads(frame) for frame in frames if frame != "[DONE]"]


_SHELL = {"type": "function", "name": "shell", "parameters": {"type": "object", "properties": {}}}


def test_a_retry_after_a_cut_inside_a_call_sends_the_upstream_nothing_new(
    bridge: tuple[FakeUpstream, str],
) -> None:
    upstream, url = bridge
    answer = _answer("Let me look.", '{"cmd": "ls"}')
    done = [_chunk({"role": "assistant", "content": "Done."}), _chunk({}, "stop")]
    upstream.reset(StreamTurn(answer, cut_after=3), StreamTurn(answer), StreamTurn(done))
    items: list[Json] = [USER]
    for _ in range(2):  # the first attempt is cut inside the arguments; Codex records what was done
        events = _post(url, items)
        items += [
            {k: v for k, v in e["item"].items() if k != "id"}
            for e in events
            if e["type"] == "response.output_item.done"
        ]
    assert events[-1]["type"] == "response.completed"
    first, retry = upstream.bodies
    assert retry["messages"] == first["messages"]
    assert _post(url, [*items, OUTPUT])[-1]["type"] == "response.completed"
    assert upstream.bodies[2]["messages"] == [
        *first["messages"],
        {
            "role": "assistant",
            "content": "Let me look.",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "shell", "arguments": '{"cmd": "ls"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "ok"},
    ]
