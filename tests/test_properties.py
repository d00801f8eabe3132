"""Properties that must hold for every input, not just the recorded corpus.

1. Re-chunking invariance: the same content split into different deltas gives the same final output.
2. Arbitrary chunk sequences — malformed ones included — never raise out of ``feed``/``finish`` and always
   produce a stream that keeps every rule (``check_stream`` finds nothing).
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from chat_to_responses import ChatCmplStreamHandler, SequentialIds
from chat_to_responses.testing import check_stream

# Text without "<" so no accidental think tag; think tags get their own property below.
_text = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="<"), min_size=1, max_size=40)
_args = st.dictionaries(
    st.sampled_from(["city", "n", "q", "flag"]), st.integers() | st.text(max_size=8), max_size=3
)
_segment = st.one_of(
    st.tuples(st.just("reasoning"), _text),
    st.tuples(st.just("text"), _text),
    st.tuples(st.just("refusal"), _text),
    st.tuples(st.just("tool"), st.sampled_from(["get_weather", "add", "search"]), _args),
)


def _split(text: str, cuts: list[int]) -> list[str]:
    points = sorted({c % (len(text) + 1) for c in cuts} | {0, len(text)})
    return [text[a:b] for a, b in itertools.pairwise(points) if b > a]


def _chunk(delta: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "id": "c",
        "object": "chat.completion.chunk",
        "model": "m",
        "choices": [{"index": 0, "delta": delta, **extra}],
    }


def _render(segments: list[tuple[Any, ...]], cuts: list[int]) -> list[dict[str, Any]]:
    """One logical answer as chunks, every string split at ``cuts`` (tool calls after any text)."""
    chunks = [_chunk({"role": "assistant", "content": ""})]
    tool_index = 0
    for segment in segments:
        kind = segment[0]
        if kind == "tool":
            _, name, args = segment
            chunks.append(
                _chunk(
                    {
                        "tool_calls": [
                            {
                                "index": tool_index,
                                "id": f"call_{tool_index}",
                                "type": "function",
                                "function": {"name": name, "arguments": ""},
                            }
                        ]
                    }
                )
            )
            for piece in _split(json.dumps(args), cuts):
                chunks.append(
                    _chunk({"tool_calls": [{"index": tool_index, "function": {"arguments": piece}}]})
                )
            tool_index += 1
        else:
            field = {"reasoning": "reasoning_content", "text": "content", "refusal": "refusal"}[kind]
            chunks.extend(_chunk({field: piece}) for piece in _split(segment[1], cuts))
    chunks.append(_chunk({}, finish_reason="tool_calls" if tool_index else "stop"))
    chunks.append(
        {
            "id": "c",
            "object": "chat.completion.chunk",
            "model": "m",
            "choices": [],
            "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7},
        }
    )
    return chunks


def _run(chunks: list[Any], **options: Any) -> list[dict[str, Any]]:
    handler = ChatCmplStreamHandler(ids=SequentialIds(), **options)
    events: list[dict[str, Any]] = []
    for chunk in chunks:
        events.extend(handler.feed_dicts(chunk))
    events.extend(handler.finish_dicts())
    return events


def _final(events: list[dict[str, Any]]) -> dict[str, Any]:
    return dict(events[-1]["response"])


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    segments=st.lists(_segment, min_size=1, max_size=6),
    cuts_a=st.lists(st.integers(0, 60), max_size=8),
    cuts_b=st.lists(st.integers(0, 60), max_size=8),
)
def test_rechunking_gives_the_same_output(
    segments: list[tuple[Any, ...]], cuts_a: list[int], cuts_b: list[int]
) -> None:
    events_a = _run(_render(segments, cuts_a))
    events_b = _run(_render(segments, cuts_b))
    assert check_stream(events_a) == []
    assert check_stream(events_b) == []
    final_a, final_b = _final(events_a), _final(events_b)
    assert final_a["status"] == final_b["status"] == "completed"
    assert final_a["output"] == final_b["output"]
    # Nothing lost: every tool call's arguments arrive whole and parse back to what was sent.
    sent = [json.dumps(s[2]) for s in segments if s[0] == "tool"]
    got = [item["arguments"] for item in final_a["output"] if item["type"] == "function_call"]
    assert got == sent


@settings(max_examples=150)
@given(
    reasoning=_text,
    answer=_text.filter(str.strip),  # the blank line(s) after </think> are dropped by design
    lead=st.sampled_from(["", " ", "\n", "\n\n "]),
    cuts_a=st.lists(st.integers(0, 80), max_size=10),
    cuts_b=st.lists(st.integers(0, 80), max_size=10),
)
@example(reasoning="abc", answer="Hello", lead="", cuts_a=[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], cuts_b=[])
def test_think_tags_split_anywhere(
    reasoning: str, answer: str, lead: str, cuts_a: list[int], cuts_b: list[int]
) -> None:
    content = f"{lead}<think>{reasoning}</think>\n\n{answer}"
    outputs = []
    for cuts in (cuts_a, cuts_b):
        chunks = [_chunk({"content": piece}) for piece in _split(content, cuts)] + [
            _chunk({}, finish_reason="stop")
        ]
        events = _run(chunks, reasoning="text")
        assert check_stream(events) == []
        outputs.append(_final(events)["output"])
    assert outputs[0] == outputs[1]
    reasoning_item, message = outputs[0]
    assert reasoning_item["content"][0]["text"] == reasoning
    assert message["content"][0]["text"] == answer.lstrip()


# ---------------------------------------------------------------------------------------- arbitrary input

_junk = st.one_of(st.none(), st.integers(-2, 3), st.text(max_size=5), st.booleans(), st.just([]), st.just({}))
_maybe_text = st.one_of(st.none(), st.text(max_size=12), _junk)
_tool_call = st.fixed_dictionaries(
    {},
    optional={
        "index": st.one_of(st.integers(0, 2), _junk),
        "id": st.one_of(st.sampled_from(["", "a", "b", "c"]), _junk),
        "type": st.just("function"),
        "function": st.one_of(
            st.fixed_dictionaries(
                {},
                optional={
                    "name": st.one_of(st.sampled_from(["f", "g", ""]), _junk),
                    "arguments": _maybe_text,
                },
            ),
            _junk,
        ),
        "extra_content": st.just({"google": {"thought_signature": "sig"}}),
    },
)
_delta = st.fixed_dictionaries(
    {},
    optional={
        "role": st.just("assistant"),
        "content": st.one_of(
            _maybe_text,
            st.sampled_from(["<think>", "</think>", "<thi", "nk>"]),
            st.lists(
                st.fixed_dictionaries(
                    {"type": st.sampled_from(["text", "thinking", "x"]), "text": _maybe_text}
                )
            ),
        ),
        "reasoning_content": _maybe_text,
        "reasoning": _maybe_text,
        "refusal": _maybe_text,
        "reasoning_details": st.lists(
            st.fixed_dictionaries(
                {
                    "type": st.sampled_from(
                        ["reasoning.text", "reasoning.summary", "reasoning.encrypted", "?"]
                    )
                },
                optional={
                    "text": _maybe_text,
                    "summary": _maybe_text,
                    "data": _maybe_text,
                    "signature": _maybe_text,
                },
            ),
            max_size=2,
        ),
        "tool_calls": st.one_of(st.lists(_tool_call, max_size=3), _junk),
        "annotations": st.lists(
            st.fixed_dictionaries(
                {"type": st.just("url_citation"), "url_citation": st.fixed_dictionaries({"url": _maybe_text})}
            ),
            max_size=1,
        ),
    },
)
_choice = st.fixed_dictionaries(
    {},
    optional={
        "index": st.one_of(st.integers(0, 1), _junk),
        "delta": st.one_of(_delta, _junk),
        "finish_reason": st.one_of(
            st.none(),
            st.sampled_from(["stop", "length", "tool_calls", "content_filter", "eos", "abort", ""]),
            _junk,
        ),
        "logprobs": st.one_of(
            st.none(), st.just({"content": [{"token": "a", "logprob": -1.0, "top_logprobs": []}]}), _junk
        ),
    },
)
_usage = st.fixed_dictionaries(
    {},
    optional={
        "prompt_tokens": st.one_of(st.integers(0, 9), _junk),
        "completion_tokens": st.one_of(st.integers(0, 9), _junk),
    },
)
_chunk_strategy = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "id": st.text(max_size=3),
            "model": _maybe_text,
            "choices": st.one_of(st.lists(_choice, max_size=2), _junk),
            "usage": st.one_of(_usage, _junk),
            "error": st.one_of(st.just({"message": "boom", "code": 500}), st.just("bad"), st.none()),
            "citations": st.one_of(st.lists(st.text(max_size=5), max_size=2), _junk),
        },
    ),
    _junk,
)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(
    chunks=st.lists(_chunk_strategy, max_size=12),
    error=st.one_of(st.none(), st.just(ConnectionError("reset"))),
    reasoning=st.sampled_from(["summary", "text"]),
)
def test_arbitrary_chunks_never_raise_and_keep_the_rules(
    chunks: list[Any], error: Exception | None, reasoning: str
) -> None:
    handler = ChatCmplStreamHandler(ids=SequentialIds(), reasoning=reasoning)  # type: ignore[arg-type]
    events = []
    for chunk in chunks:
        events.extend(handler.feed(chunk))
    events.extend(handler.finish(error=error))
    violations = check_stream(events)
    assert violations == [], "\n".join(map(str, violations))
    assert handler.done
    assert events[-1].type in ("response.completed", "response.incomplete", "response.failed")
