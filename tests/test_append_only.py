"""Append-only history: each upstream request extends the previous one, so the upstream's prefix cache hits.

A client that replays the whole conversation every turn (Codex, store: false) records each response's output
items, then the tool outputs, and sends everything back. Converted with ``items_to_messages``, request N+1
must be request N's messages, plus the assistant message the upstream produced (its text, reasoning and
tool calls, in one message), plus the new tool results. A retry after a failed stream adds nothing.
The items here come from the real translator, recorded the way Codex records them (ids dropped).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from chat_to_responses import ChatCmplStreamHandler, SequentialIds, items_to_messages

Json = dict[str, Any]


@dataclass
class Turn:
    """What the upstream model says in one response."""

    reasoning: str | None
    text: str | None
    calls: list[tuple[str, str]]  # (name, JSON arguments)


def chunks_for(turn: Turn, call_ids: list[str]) -> list[Json]:
    def chunk(delta: Json, finish: str | None = None) -> Json:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": [choice]}

    chunks = [chunk({"role": "assistant"})]
    if turn.reasoning:
        chunks += [chunk({"reasoning_content": part}) for part in _halves(turn.reasoning)]
    if turn.text:
        chunks += [chunk({"content": part}) for part in _halves(turn.text)]
    for index, ((name, arguments), call_id) in enumerate(zip(turn.calls, call_ids, strict=True)):
        head = {
            "index": index,
            "id": call_id,
            "type": "function",
            "function": {"name": name, "arguments": ""},
        }
        chunks.append(chunk({"tool_calls": [head]}))
        for part in _halves(arguments):
            chunks.append(chunk({"tool_calls": [{"index": index, "function": {"arguments": part}}]}))
    chunks.append(chunk({}, "tool_calls" if turn.calls else "stop"))
    return chunks


def _halves(text: str) -> list[str]:
    middle = len(text) // 2
    return [part for part in (text[:middle], text[middle:]) if part]


def respond(chunks: list[Json], *, error: BaseException | None = None) -> list[Json]:
    """The items a Codex-like client records: every item announced done, without its id."""
    handler = ChatCmplStreamHandler(ids=SequentialIds())
    events = [event for c in chunks for event in handler.feed_dicts(c)]
    events += handler.finish_dicts(error=error)
    done = [e["item"] for e in events if e["type"] == "response.output_item.done"]
    return [{key: value for key, value in item.items() if key != "id"} for item in done]


def produced(turn: Turn, call_ids: list[str]) -> Json:
    """The assistant message the upstream produced, as a chat message."""
    message: Json = {"role": "assistant", "content": turn.text or None}
    if turn.calls:
        message["tool_calls"] = [
            {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
            for (name, arguments), call_id in zip(turn.calls, call_ids, strict=True)
        ]
        if turn.reasoning:  # DeepSeek wants reasoning back on tool-call turns only (the default mode)
            message["reasoning_content"] = turn.reasoning
    return message


_words = st.text(alphabet="abcdefgh ", min_size=1, max_size=12).filter(str.strip)
_arguments = st.dictionaries(st.sampled_from(["a", "b", "path"]), st.integers(0, 9), max_size=2).map(
    json.dumps
)
_turn = st.builds(
    Turn,
    reasoning=st.none() | _words,
    text=st.none() | _words,
    calls=st.lists(st.tuples(st.sampled_from(["shell", "read"]), _arguments), max_size=3),
).filter(lambda t: bool(t.text or t.calls))


@settings(max_examples=150, deadline=None)
@given(st.lists(_turn, min_size=1, max_size=6), st.lists(st.booleans(), min_size=6, max_size=6))
def test_every_request_extends_the_previous_one(turns: list[Turn], retries: list[bool]) -> None:
    items: list[Json] = [
        {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "be brief"}]},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "go"}]},
    ]
    previous = items_to_messages(items)
    for number, (turn, retry) in enumerate(zip(turns, retries, strict=False)):
        call_ids = [f"call_{number}_{k}" for k in range(len(turn.calls))]
        chunks = chunks_for(turn, call_ids)
        if retry:  # the first attempt is cut inside its first item: nothing of it is announced done
            items += respond(chunks[:2], error=ConnectionResetError("cut"))
            assert items_to_messages(items) == previous, "the failed attempt added to the conversation"
        items += respond(chunks)
        outputs = [{"type": "function_call_output", "call_id": c, "output": f"out {c}"} for c in call_ids]
        items += outputs or [{"type": "message", "role": "user", "content": "next"}]
        messages = items_to_messages(items)
        assert messages[: len(previous)] == previous
        assert messages[len(previous)] == produced(turn, call_ids)
        new = [{"role": "tool", "tool_call_id": c, "content": f"out {c}"} for c in call_ids]
        assert messages[len(previous) + 1 :] == (new or [{"role": "user", "content": "next"}])
        previous = messages


def test_two_calls_in_sequence_then_a_parallel_pair() -> None:
    """The shapes the issue names: sequential calls stay apart, a parallel pair shares one message."""
    turns = [Turn(None, None, [("shell", "{}")]), Turn(None, None, [("shell", "{}")])]
    turns.append(Turn(None, None, [("read", '{"a": 1}'), ("read", '{"a": 2}')]))
    items: list[Json] = [{"role": "user", "content": "go"}]
    for number, turn in enumerate(turns):
        call_ids = [f"call_{number}_{k}" for k in range(len(turn.calls))]
        items += respond(chunks_for(turn, call_ids))
        items += [{"type": "function_call_output", "call_id": c, "output": "ok"} for c in call_ids]
    messages = items_to_messages(items)
    assert [m["role"] for m in messages] == [
        "user",
        "assistant",
        "tool",
        "assistant",
        "tool",
        "assistant",
        "tool",
        "tool",
    ]
    assert [len(m["tool_calls"]) for m in messages if m["role"] == "assistant"] == [1, 1, 2]
