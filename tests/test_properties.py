"""Properties that must hold for every input, not just the recorded corpus.

1. Re-chunking invariance: the same content split into different deltas gives the same final output —
   with every shape of issue #14 among the segments (legacy ``function_call``, a tool streamed with
   ``arguments: ""``, custom tool calls, signed thinking blocks, a thought signature on the text).
2. Arbitrary chunk sequences — malformed ones included — never raise out of ``feed``/``finish`` and always
   produce a stream that keeps every rule (``check_stream`` finds nothing).
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from chat_to_responses import ChatCmplStreamHandler, SequentialIds, decode_carriers
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
    st.tuples(st.just("tool_no_args"), st.sampled_from(["now", "ping"])),
    st.tuples(st.just("custom"), st.sampled_from(["apply_patch", "shell"]), _text),
    st.tuples(st.just("signed_block"), _text, st.sampled_from(["S1", "S2"])),
    st.tuples(st.just("signed_text"), _text, st.sampled_from(["G1", "G2"])),
)
_legacy_call = st.tuples(st.sampled_from(["get_weather", "lookup"]), _args)


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


def _tool_chunks(segment: tuple[Any, ...], index: int, cuts: list[int]) -> list[dict[str, Any]]:
    """A function call (arguments split at ``cuts``; none at all for ``tool_no_args``) or a custom call."""
    kind, name = segment[0], segment[1]
    opening: dict[str, Any] = {"index": index, "id": f"call_{index}", "type": "function"}
    if kind == "custom":
        opening.update(type="custom", custom={"name": name, "input": ""})
        pieces = [{"custom": {"input": piece}} for piece in _split(segment[2], cuts)]
    else:
        opening["function"] = {"name": name, "arguments": ""}
        arguments = json.dumps(segment[2]) if kind == "tool" else ""
        pieces = [{"function": {"arguments": piece}} for piece in _split(arguments, cuts)]
    fragments = [opening] + [{"index": index, **piece} for piece in pieces]
    return [_chunk({"tool_calls": [fragment]}) for fragment in fragments]


def _signed_chunks(segment: tuple[Any, ...], cuts: list[int]) -> list[dict[str, Any]]:
    """A LiteLLM thinking block ended by its signature, or Gemini text signed on its last delta."""
    kind, text, signature = segment
    pieces = _split(text, cuts)
    if kind == "signed_text":
        last = {"content": pieces[-1], "extra_content": {"google": {"thought_signature": signature}}}
        return [_chunk({"content": piece}) for piece in pieces[:-1]] + [_chunk(last)]
    blocks = [
        _chunk({"reasoning_content": piece, "thinking_blocks": [{"type": "thinking", "thinking": piece}]})
        for piece in pieces
    ]
    return [
        *blocks,
        _chunk({"thinking_blocks": [{"type": "thinking", "thinking": "", "signature": signature}]}),
    ]


def _render(
    segments: list[tuple[Any, ...]], cuts: list[int], legacy: tuple[str, Any] | None = None
) -> list[dict[str, Any]]:
    """One logical answer as chunks, every string split at ``cuts``; ``legacy`` ends it with a call of
    the legacy functions API (the only call such a response can make)."""
    chunks = [_chunk({"role": "assistant", "content": ""})]
    tool_index = 0
    for segment in segments:
        kind = segment[0]
        if kind in ("tool", "tool_no_args", "custom"):
            chunks.extend(_tool_chunks(segment, tool_index, cuts))
            tool_index += 1
        elif kind in ("signed_block", "signed_text"):
            chunks.extend(_signed_chunks(segment, cuts))
        else:
            field = {"reasoning": "reasoning_content", "text": "content", "refusal": "refusal"}[kind]
            chunks.extend(_chunk({field: piece}) for piece in _split(segment[1], cuts))
    finish = "tool_calls" if tool_index else "stop"
    if legacy is not None and not tool_index:
        name, args = legacy
        chunks.append(_chunk({"function_call": {"name": name, "arguments": ""}}))
        chunks.extend(_chunk({"function_call": {"arguments": p}}) for p in _split(json.dumps(args), cuts))
        finish = "function_call"
    chunks.append(_chunk({}, finish_reason=finish))
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
    legacy=st.none() | _legacy_call,
)
def test_rechunking_gives_the_same_output(
    segments: list[tuple[Any, ...]], cuts_a: list[int], cuts_b: list[int], legacy: tuple[str, Any] | None
) -> None:
    events_a = _run(_render(segments, cuts_a, legacy))
    events_b = _run(_render(segments, cuts_b, legacy))
    assert check_stream(events_a) == []
    assert check_stream(events_b) == []
    final_a, final_b = _final(events_a), _final(events_b)
    assert final_a["status"] == final_b["status"] == "completed"
    assert final_a["output"] == final_b["output"]
    # Nothing lost: every call's arguments (input) arrive whole; a call without them gets "{}".
    sent = [_sent_call(s) for s in segments if s[0] in ("tool", "tool_no_args", "custom")]
    if legacy is not None and not sent:
        sent = [json.dumps(legacy[1])]
    got = [item.get("arguments", item.get("input")) for item in final_a["output"] if "call_id" in item]
    assert got == sent
    # Each signed block keeps its own signature, in order (a block's text may merge with reasoning
    # streamed right before it: nothing separates the two in the stream).
    signed = [s[2] for s in segments if s[0] in ("signed_block", "signed_text")]
    carried = [
        c.get("signature")
        for item in final_a["output"]
        if item["type"] == "reasoning"
        for c in decode_carriers(item.get("encrypted_content"))
    ]
    assert carried == signed


def _sent_call(segment: tuple[Any, ...]) -> str:
    kind = segment[0]
    return json.dumps(segment[2]) if kind == "tool" else "{}" if kind == "tool_no_args" else segment[2]


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
        "type": st.sampled_from(["function", "custom"]),
        "custom": st.one_of(
            st.fixed_dictionaries({}, optional={"name": st.sampled_from(["p", ""]), "input": _maybe_text}),
            _junk,
        ),
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
        "function_call": st.one_of(
            st.fixed_dictionaries(
                {}, optional={"name": st.sampled_from(["f", "g", ""]), "arguments": _maybe_text}
            ),
            _junk,
        ),
        "audio": st.one_of(st.just({"id": "a", "transcript": "hi"}), st.just({"data": "AAAA"}), _junk),
        "extra_content": st.one_of(st.just({"google": {"thought_signature": "g"}}), _junk),
        "thinking_blocks": st.lists(
            st.fixed_dictionaries(
                {"type": st.sampled_from(["thinking", "redacted_thinking", "?"])},
                optional={"thinking": _maybe_text, "signature": _maybe_text, "data": _maybe_text},
            ),
            max_size=3,
        ),
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
            st.sampled_from(
                ["stop", "length", "tool_calls", "function_call", "content_filter", "eos", "abort", ""]
            ),
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
    require_finish_reason=st.booleans(),
)
def test_arbitrary_chunks_never_raise_and_keep_the_rules(
    chunks: list[Any], error: Exception | None, reasoning: str, require_finish_reason: bool
) -> None:
    handler = ChatCmplStreamHandler(
        ids=SequentialIds(),
        reasoning=reasoning,  # type: ignore[arg-type]
        require_finish_reason=require_finish_reason,
    )
    events = []
    for chunk in chunks:
        events.extend(handler.feed(chunk))
    events.extend(handler.finish(error=error))
    violations = check_stream(events)
    assert violations == [], "\n".join(map(str, violations))
    assert handler.done
    assert events[-1].type in ("response.completed", "response.incomplete", "response.failed")
