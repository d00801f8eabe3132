"""Regressions for the translator defects of issue #17, each checked on the three paths.

The dict path (``feed_dicts``), the typed path (``feed``, then each model framed by ``encode_sse``) and the
wire path (``translate_sse`` over the chunks as an upstream SSE body) must give the same events, and
every event must be strict JSON: no NaN or Infinity, no lone surrogate, encodable as UTF-8.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from types import MappingProxyType
from typing import Any

import pytest

from chat_to_responses import ChatCmplStreamHandler, SequentialIds, encode_sse, translate, translate_sse
from chat_to_responses import _chunks as chunks_module
from chat_to_responses._sse import encode_chat_sse
from chat_to_responses.testing import check_stream
from helpers import chunk

_TERMINALS = ("response.completed", "response.incomplete", "response.failed")
_TEMPLATE = {"created_at": 1_700_000_000}  # the three runs must not straddle a second


def _strict_loads(text: str | bytes) -> Any:
    def reject(constant: str) -> Any:
        raise ValueError(f"not strict JSON: {constant}")

    return json.loads(text, parse_constant=reject)


def assert_strict_json(events: list[dict[str, Any]]) -> None:
    """Each event serialises without NaN/Infinity and encodes to UTF-8 (no lone surrogate)."""
    for event in events:
        json.dumps(event, allow_nan=False, ensure_ascii=False).encode("utf-8")


def dict_path(chunks: list[Any], **options: Any) -> list[dict[str, Any]]:
    handler = ChatCmplStreamHandler(ids=SequentialIds(), response=_TEMPLATE, **options)
    events = [event for c in chunks for event in handler.feed_dicts(c)]
    return events + handler.finish_dicts()


def typed_path(chunks: list[Any], **options: Any) -> list[dict[str, Any]]:
    typed = translate(chunks, ids=SequentialIds(), response=_TEMPLATE, **options)
    return [_strict_loads(encode_sse(e).split(b"\ndata: ", 1)[1]) for e in typed]


def wire_path(chunks: list[dict[str, Any]], **options: Any) -> list[dict[str, Any]]:
    body = b"".join(encode_chat_sse(c) for c in chunks) + b"data: [DONE]\n\n"
    frames = b"".join(translate_sse([body], ids=SequentialIds(), response=_TEMPLATE, **options))
    frames.decode("utf-8")  # strict: no invalid UTF-8 anywhere
    return [_strict_loads(f.split(b"\ndata: ", 1)[1]) for f in frames.split(b"\n\n") if f]


def three_paths(chunks: list[dict[str, Any]], **options: Any) -> list[dict[str, Any]]:
    """The events of the dict path, after checking that the other two paths give the same."""
    events = dict_path(chunks, **options)
    assert_strict_json(events)
    assert check_stream(events) == []
    assert typed_path(chunks, **options) == events
    assert wire_path(chunks, **options) == events
    return events


def with_logprobs(delta: dict[str, Any], entries: list[dict[str, Any]]) -> dict[str, Any]:
    body = chunk(delta)
    body["choices"][0]["logprobs"] = {"content": entries}
    return body


def assert_one_terminal_last(events: list[dict[str, Any]]) -> None:
    types = [e["type"] for e in events]
    assert types[0] == "response.created"
    assert sum(t in _TERMINALS for t in types) == 1
    assert types[-1] in _TERMINALS


# ------------------------------------------------------------------ 1. tool calls that never get a name

_SIGNATURE = {"extra_content": {"google": {"thought_signature": "sig"}}}
_NAMELESS = {
    "id only": {"index": 0, "id": "call_a"},
    "arguments only": {"function": {"arguments": '{"x":1}'}},
    "signature only": {"index": 0, **_SIGNATURE},
    "id and arguments": {"index": 0, "id": "call_a", "function": {"arguments": "{}"}},
}


@pytest.mark.parametrize("fragment", _NAMELESS.values(), ids=_NAMELESS.keys())
@pytest.mark.parametrize("after", ["end", "stop", "text", "named call", "reasoning", "length"])
def test_a_call_without_a_name_ends_the_response_once(fragment: dict[str, Any], after: str) -> None:
    body = [chunk({"role": "assistant", "content": "Let me check."}), chunk({"tool_calls": [fragment]})]
    body += {
        "end": [],
        "stop": [chunk({}, "stop")],
        "text": [chunk({"content": " more text"})],
        "named call": [chunk({"tool_calls": [{"index": 1, "id": "call_b", "function": {"name": "f"}}]})],
        "reasoning": [chunk({"reasoning_content": "hmm"})],
        "length": [chunk({"content": " more"}), chunk({}, "length")],
    }[after]
    events = three_paths(body)
    assert_one_terminal_last(events)
    final = events[-1]
    if after == "length":  # the cut explains a call left unfinished: incomplete, not failed
        assert final["type"] == "response.incomplete"
    else:
        assert final["type"] == "response.failed"
        assert "without a function name" in final["response"]["error"]["message"]
    output = final["response"]["output"]
    messages = [item for item in output if item["type"] == "message"]
    assert messages[0]["content"][0]["text"].startswith("Let me check.")  # nothing received is lost
    nameless = [item for item in output if item["type"] == "function_call" and not item["name"]]
    assert [(item["status"], item["arguments"]) for item in nameless] == [
        ("incomplete", fragment.get("function", {}).get("arguments", ""))
    ]
    announced = {e["item"]["id"] for e in events if e["type"] == "response.output_item.added"}
    assert nameless[0]["id"] not in announced  # in the output only, never an item of the stream


def test_a_name_that_comes_after_a_flush_still_makes_the_call() -> None:
    events = three_paths(
        [
            chunk({"tool_calls": [{"index": 0, "id": "call_a", "function": {"arguments": '{"q":'}}]}),
            chunk({"content": "text in between"}),
            chunk({"tool_calls": [{"index": 0, "function": {"name": "search", "arguments": "1}"}}]}),
            chunk({}, "tool_calls"),
        ]
    )
    final = events[-1]["response"]
    assert final["status"] == "completed"
    call = final["output"][-1]
    assert (call["type"], call["name"], call["call_id"], call["arguments"]) == (
        "function_call",
        "search",
        "call_a",
        '{"q":1}',
    )


# ------------------------------------------------------------------ 2. lone surrogates


def test_an_emoji_cut_in_half_across_two_deltas_is_joined() -> None:
    events = three_paths([chunk({"content": "a\ud83d"}), chunk({"content": "\ude00b"}), chunk({}, "stop")])
    deltas = [e["delta"] for e in events if e["type"] == "response.output_text.delta"]
    assert deltas == ["a", "\U0001f600b"]  # the first half waits for the second
    assert events[-1]["response"]["output"][0]["content"][0]["text"] == "a\U0001f600b"


def _emoji_halves(field: str) -> list[dict[str, Any]]:
    if field == "arguments":
        return [
            chunk(
                {
                    "tool_calls": [
                        {"index": 0, "id": "call_a", "function": {"name": "f", "arguments": '{"e":"\ud83d'}}
                    ]
                }
            ),
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": '\ude00"}'}}]}),
        ]
    return [chunk({field: "x\ud83d"}), chunk({field: "\ude00"})]


@pytest.mark.parametrize("field", ["content", "reasoning_content", "refusal", "arguments"])
def test_halves_are_joined_in_every_channel(field: str) -> None:
    events = three_paths([*_emoji_halves(field), chunk({}, "stop")])
    assert "\U0001f600" in json.dumps(events[-1]["response"]["output"], ensure_ascii=False)
    assert "\ufffd" not in json.dumps(events, ensure_ascii=False)


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        ([], "x\ufffd"),  # the stream ends on the half
        ([chunk({"content": "y"})], "x\ufffdy"),  # the next text does not start with the second half
        ([chunk({"reasoning_content": "r"})], "x\ufffd"),  # another channel comes first
        ([chunk({"content": "\ude00"}, logprobs=None), chunk({}, "length")], "x\U0001f600"),
    ],
)
def test_a_half_with_no_other_half_becomes_a_replacement_character(
    after: list[dict[str, Any]], expected: str
) -> None:
    events = three_paths([chunk({"content": "x\ud83d"}), *after])
    message = next(i for i in events[-1]["response"]["output"] if i["type"] == "message")
    assert message["content"][0]["text"] == expected
    assert_one_terminal_last(events)


def test_a_half_in_a_failed_stream_is_kept_as_a_replacement_character() -> None:
    events = three_paths([chunk({"content": "x\ud83d"}), {"error": {"message": "boom"}}])
    assert events[-1]["type"] == "response.failed"
    assert events[-1]["response"]["output"][0]["content"][0]["text"] == "x\ufffd"


def test_a_surrogate_pair_inside_one_string_is_the_character() -> None:
    # A Python caller may hand over the two halves in one str; they are one character.
    events = three_paths([chunk({"content": "\ud83d\ude00"}), chunk({}, "stop")])
    assert events[-1]["response"]["output"][0]["content"][0]["text"] == "\U0001f600"


def test_lone_surrogates_anywhere_in_the_chunk_give_encodable_events() -> None:
    half = "\ud83d"
    events = three_paths(
        [
            {**chunk({"reasoning_content": f"think {half}"}), "model": f"m{half}"},
            chunk({"refusal": f"no {half}"}),
            with_logprobs(
                {
                    "content": f"x{half}",
                    "annotations": [{"type": "url_citation", "url_citation": {"url": half}}],
                },
                [{"token": half, "logprob": -1.0, "top_logprobs": [{"token": half}]}],
            ),
            chunk(
                {
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": f"call_{half}",
                            "function": {"name": f"f{half}", "arguments": f'{{"a":"{half}"}}'},
                            "extra_content": {"google": {"thought_signature": half}},
                        }
                    ]
                }
            ),
            {"error": {"message": f"broke {half}", "code": 500}},
        ]
    )
    assert half not in json.dumps(events, ensure_ascii=False)
    assert events[-1]["response"]["model"] == "m\ufffd"
    assert events[-1]["response"]["error"]["message"].endswith("broke \ufffd")


def test_lone_surrogates_from_the_caller_or_an_exception_give_encodable_events() -> None:
    def broken() -> Any:
        yield chunk({"content": "a"})
        raise ConnectionError("reset \udc80")

    template = {"instructions": "be \ud83d", "metadata": {"k\ude00": "v"}, "created_at": 1}
    events = [e.model_dump(mode="json", exclude_unset=True) for e in translate(broken(), response=template)]
    assert_strict_json(events)
    final = events[-1]["response"]
    assert (final["instructions"], final["metadata"]) == ("be \ufffd", {"k\ufffd": "v"})
    assert final["error"]["message"].endswith("reset \ufffd")


# ------------------------------------------------------------ 10 and 11. logprobs that are no JSON number


def _logprob_chunk(logprob: Any, top: Any) -> dict[str, Any]:
    entry = {
        "token": "a",
        "logprob": logprob,
        "bytes": [97],
        "top_logprobs": [{"token": "b", "logprob": top}],
    }
    return with_logprobs({"content": "a"}, [entry])


@pytest.mark.parametrize(
    ("logprob", "top", "expected"),
    [
        (float("-inf"), float("nan"), (-9999.0, -9999.0)),
        (float("nan"), float("inf"), (-9999.0, 0.0)),
        (-(10**400), 10**400, (-9999.0, 0.0)),  # was an internal error on the first chunk
        (-0.5, -2.25, (-0.5, -2.25)),
    ],
)
def test_logprobs_are_finite_numbers(logprob: Any, top: Any, expected: tuple[float, float]) -> None:
    events = three_paths([_logprob_chunk(logprob, top), chunk({}, "stop")])
    assert_one_terminal_last(events)
    assert events[-1]["type"] == "response.completed"
    delta = next(e for e in events if e["type"] == "response.output_text.delta")
    got = delta["logprobs"][0]
    assert (got["logprob"], got["top_logprobs"][0]["logprob"]) == expected


@pytest.mark.parametrize("created", [10**400, -5, 2**53, 1.5e9, float("nan")])
def test_a_created_time_no_float_can_hold_is_not_used(created: Any) -> None:
    before = time.time()
    typed = list(translate([{**chunk({"content": "a"}), "created": created}, chunk({}, "stop")]))
    assert typed[-1].type == "response.completed"
    assert before - 1 <= typed[-1].response.created_at <= time.time() + 1  # the time it was received


def test_bare_nan_in_the_upstream_body_goes_out_as_strict_json() -> None:
    body = (
        b'data: {"model":"m","choices":[{"index":0,"delta":{"content":"a"},"logprobs":{"content":'
        b'[{"token":"a","logprob":NaN,"top_logprobs":[{"token":"b","logprob":-Infinity}]}]}}]}\n\n'
        b"data: [DONE]\n\n"
    )
    frames = b"".join(translate_sse([body], ids=SequentialIds()))
    events = [_strict_loads(f.split(b"\ndata: ", 1)[1]) for f in frames.split(b"\n\n") if f]
    assert events[-1]["type"] == "response.completed"
    assert b"NaN" not in frames
    assert b"Infinity" not in frames


def test_an_internal_error_on_the_first_chunk_still_starts_the_response(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(chunk: Any, choice_index: int) -> Any:
        raise RuntimeError("bug")

    monkeypatch.setattr(chunks_module, "read_chunk", broken)
    events = dict_path([chunk({"content": "a"})])
    assert [e["type"] for e in events] == ["response.created", "response.in_progress", "response.failed"]
    assert check_stream(events) == []
    assert "RuntimeError: bug" in events[-1]["response"]["error"]["message"]


# ------------------------------------------------------------------ 12. any Mapping is a chunk


def _ordered(value: Any) -> Any:
    """What ``json.loads(..., object_pairs_hook=OrderedDict)`` gives: OrderedDicts all the way down."""
    if isinstance(value, dict):
        return OrderedDict((k, _ordered(v)) for k, v in value.items())
    if isinstance(value, list):
        return [_ordered(v) for v in value]
    return value


def test_ordered_dicts_and_other_mappings_are_read_as_chunks() -> None:
    plain = [
        chunk({"reasoning_content": "hmm"}),
        chunk({"content": "hello"}),
        chunk({"tool_calls": [{"index": 0, "id": "call_a", "function": {"name": "f", "arguments": "{}"}}]}),
        chunk({}, "tool_calls", usage={"prompt_tokens": 3, "completion_tokens": 4}),
    ]
    expected = dict_path(plain)
    assert [i["type"] for i in expected[-1]["response"]["output"]] == [
        "reasoning",
        "message",
        "function_call",
    ]
    assert dict_path([_ordered(c) for c in plain]) == expected
    assert dict_path([MappingProxyType(c) for c in plain]) == expected
    assert typed_path([_ordered(c) for c in plain]) == typed_path(plain)


# ------------------------------------------------------------------ the validator knows strict JSON too


@pytest.mark.parametrize(
    ("value", "problem"),
    [(float("nan"), "NaN or Infinity"), (float("-inf"), "NaN or Infinity"), ("\ud83d", "surrogate")],
)
def test_check_stream_flags_what_strict_json_cannot_carry(value: Any, problem: str) -> None:
    events = dict_path(
        [with_logprobs({"content": "a"}, [{"token": "a", "logprob": -1.0}]), chunk({}, "stop")]
    )
    assert check_stream(events) == []
    delta = next(e for e in events if e["type"] == "response.output_text.delta")
    delta["logprobs"][0]["token" if isinstance(value, str) else "logprob"] = value
    violations = check_stream(events)
    assert [(v.rule, v.index) for v in violations] == [(5, events.index(delta))]
    assert problem in violations[0].message
    frames = [encode_sse(e) for e in events]  # bare NaN, or the \\ud83d escape, on the wire
    assert any(v.rule == 5 and problem in v.message for v in check_stream(events, sse_frames=frames))
