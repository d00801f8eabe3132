"""Cost linear in stream length, for every stream shape: 100× the deltas must cost about 100× the time.

Not a speed claim (benchmarks/run.py measures speed): a quadratic cost makes a 100× longer stream
10,000× slower, so a bound of 300× catches it on any machine, however loaded, and a linear cost stays
far below it. Each 1k stream is timed at its best of five runs, each 100k stream at its best of two, in
CPU time of this process (other processes on the machine do not count), with the cyclic garbage
collector paused: its passes over a heap that holds 100k logprobs or output items cost what they cost
any Python program, and are no work of the translator. Where the work can be counted instead, it is.
"""

from __future__ import annotations

import gc
import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from chat_to_responses import ChatCmplStreamHandler, SequentialIds

_SMALL, _LARGE = 1_000, 100_000
_BOUND = 300


def _chunk(delta: dict[str, Any], finish: str | None = None, **choice: Any) -> dict[str, Any]:
    return {
        "id": "c",
        "object": "chat.completion.chunk",
        "model": "m",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish, **choice}],
    }


def _tool(index: int, arguments: str, **fields: Any) -> dict[str, Any]:
    function = {"arguments": arguments, **({"name": fields.pop("name")} if "name" in fields else {})}
    return _chunk({"tool_calls": [{"index": index, **fields, "function": function}]})


_LOGPROB = {"content": [{"token": " ", "logprob": -0.1, "bytes": [32], "top_logprobs": []}]}


def _repeat(n: int, *pattern: dict[str, Any]) -> list[dict[str, Any]]:
    """``n`` deltas cycling through ``pattern`` (the same objects: a stream hands each over and drops it)."""
    return [pattern[i % len(pattern)] for i in range(n)]


# Each shape: deltas → the whole chunk stream. The repeated middle is what grows.
SHAPES: dict[str, Callable[[int], list[dict[str, Any]]]] = {
    "text": lambda n: [*_repeat(n, _chunk({"content": "abcd"})), _chunk({}, "stop")],
    "text with logprobs": lambda n: [
        _chunk({"content": "x"}),
        *_repeat(n, _chunk({"content": "ab"}, logprobs=_LOGPROB)),
        _chunk({}, "stop"),
    ],
    "reasoning then text": lambda n: [
        *_repeat(n, _chunk({"reasoning_content": "abcd"})),
        _chunk({"content": "ok"}),
        _chunk({}, "stop"),
    ],
    "refusal": lambda n: [*_repeat(n, _chunk({"refusal": "no"})), _chunk({}, "stop")],
    "think tags": lambda n: [
        _chunk({"content": "<think>"}),
        *_repeat(n, _chunk({"content": "ab<"}), _chunk({"content": "/th"})),
        _chunk({"content": "</think>answer"}),
        _chunk({}, "stop"),
    ],
    # issue #17, defect 8: blank deltas held while a <think> tag may still come
    "leading whitespace, think tags": lambda n: [
        *_repeat(n, _chunk({"content": " "}), _chunk({"content": "\n"})),
        _chunk({"content": "<think>x</think>answer"}),
        _chunk({}, "stop"),
    ],
    "leading whitespace with logprobs": lambda n: [
        *_repeat(n, _chunk({"content": " "}, logprobs=_LOGPROB)),
        _chunk({"content": "answer"}),
        _chunk({}, "stop"),
    ],
    "tool arguments": lambda n: [
        _tool(0, '{"x":"', id="call_a", name="f"),
        *_repeat(n, _tool(0, "abcd")),
        _tool(0, '"}'),
        _chunk({}, "tool_calls"),
    ],
    "parallel call waiting while another streams": lambda n: [
        _tool(0, '{"x":"', id="call_a", name="f"),
        _tool(1, "", id="call_b", name="g"),
        *_repeat(n, _tool(0, 'ab\\"{[')),
        _tool(0, '"}'),
        _tool(1, "{}"),
        _chunk({}, "tool_calls"),
    ],
    "parallel calls interleaved": lambda n: [
        _tool(0, '{"x":"', id="call_a", name="f"),
        _tool(1, '{"y":"', id="call_b", name="g"),
        *_repeat(n, _tool(0, "ab"), _tool(1, "cd")),
        _tool(0, '"}'),
        _tool(1, '"}'),
        _chunk({}, "tool_calls"),
    ],
    "many whole calls without index": lambda n: [
        *_repeat(n, _chunk({"tool_calls": [{"function": {"name": "f", "arguments": '{"a":1}'}}]})),
        _chunk({}, "tool_calls"),
    ],
    "custom tool input with a call waiting": lambda n: [
        _chunk({"tool_calls": [{"index": 0, "id": "call_a", "type": "custom", "custom": {"name": "patch"}}]}),
        _tool(1, "{}", id="call_b", name="g"),
        *_repeat(n, _chunk({"tool_calls": [{"index": 0, "type": "custom", "custom": {"input": "ab"}}]})),
        _chunk({}, "tool_calls"),
    ],
    "legacy function_call arguments": lambda n: [
        _chunk({"function_call": {"name": "f", "arguments": '{"x":"'}}),
        *_repeat(n, _chunk({"function_call": {"arguments": "abcd"}})),
        _chunk({"function_call": {"arguments": '"}'}}),
        _chunk({}, "function_call"),
    ],
    "content parts and reasoning details": lambda n: [
        *_repeat(
            n,
            _chunk({"content": [{"type": "thinking", "thinking": [{"type": "text", "text": "ab"}]}]}),
            _chunk({"reasoning_details": [{"type": "reasoning.text", "text": "cd"}]}),
        ),
        _chunk({"content": [{"type": "text", "text": "answer"}]}),
        _chunk({}, "stop"),
    ],
    "emoji halves": lambda n: [
        *_repeat(n, _chunk({"content": "a\ud83d"}), _chunk({"content": "\ude00"})),
        _chunk({}, "stop"),
    ],
    "usage and citations on every chunk": lambda n: [
        *_repeat(
            n,
            {
                **_chunk({"content": "ab [1]"}),
                "citations": ["https://a.example"],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1},
            },
        ),
        _chunk({}, "stop"),
    ],
}


def _translate(chunks: list[dict[str, Any]], *, keep: bool = False) -> list[dict[str, Any]]:
    """The events (only those of ``finish`` unless ``keep``: holding 100k events is not what is timed)."""
    handler = ChatCmplStreamHandler(ids=SequentialIds())
    kept: list[dict[str, Any]] = []
    for chunk in chunks:
        events = handler.feed_dicts(chunk)
        if keep:
            kept += events
    return kept + handler.finish_dicts()


def _best_time(chunks: list[dict[str, Any]], runs: int) -> float:
    best = float("inf")
    gc.collect()
    gc.disable()
    try:
        for _ in range(runs):
            start = time.process_time()
            _translate(chunks)
            best = min(best, time.process_time() - start)
    finally:
        gc.enable()
    return best


@pytest.mark.parametrize("shape", SHAPES)
def test_cost_is_linear_in_stream_length(shape: str) -> None:
    small, large = SHAPES[shape](_SMALL), SHAPES[shape](_LARGE)
    final = _translate(large)[-1]
    assert final["type"] == "response.completed", final["response"]["error"]
    ratio = _best_time(large, 2) / _best_time(small, 5)
    assert ratio < _BOUND, f"{shape}: 100× the deltas cost {ratio:.0f}× the time"


def test_a_waiting_call_does_not_reparse_the_streaming_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """Counted, not timed: the streaming call's arguments are parsed whole once, not once per fragment."""
    parsed: list[int] = []
    real_loads = json.loads

    def counting_loads(text: str | bytes, **kwargs: Any) -> Any:
        parsed.append(len(text))
        return real_loads(text, **kwargs)

    monkeypatch.setattr(json, "loads", counting_loads)
    chunks = SHAPES["parallel call waiting while another streams"](2_000)
    events = _translate(chunks, keep=True)
    assert events[-1]["type"] == "response.completed"
    arguments = [e["arguments"] for e in events if e["type"] == "response.function_call_arguments.done"]
    assert sum(parsed) <= 2 * sum(map(len, arguments))
