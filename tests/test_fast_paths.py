"""The hot-path shortcuts agree with the general code they bypass, for every input."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from chat_to_responses._chunks import read_chunk, read_plain_part
from chat_to_responses._sse import _compact_json, encode_sse

_junk = st.one_of(st.none(), st.integers(-1, 2), st.text(max_size=4), st.just([]), st.just({}))
_text = st.one_of(st.text(max_size=8), st.none(), _junk)
_delta = st.fixed_dictionaries(
    {},
    optional={
        "role": st.just("assistant"),
        "content": st.one_of(_text, st.just([{"type": "text", "text": "x"}])),
        "reasoning_content": _text,
        "reasoning": _text,
        "refusal": _text,
        "reasoning_details": st.just([{"type": "reasoning.text", "text": "r"}]),
        "tool_calls": st.one_of(
            st.lists(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "index": st.one_of(st.integers(0, 2), _junk),
                        "id": _text,
                        "function": st.fixed_dictionaries({}, optional={"name": _text, "arguments": _text}),
                    },
                ),
                max_size=2,
            ),
            _junk,
        ),
    },
)
_chunk = st.fixed_dictionaries(
    {
        "choices": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "index": st.one_of(st.integers(0, 1), _junk),
                    "delta": st.one_of(_delta, _junk),
                    "finish_reason": st.one_of(st.none(), st.just("stop")),
                    "logprobs": st.one_of(st.none(), st.just({"content": None})),
                },
            ),
            max_size=2,
        )
    },
    optional={"usage": st.one_of(st.none(), st.just({"prompt_tokens": 1})), "model": _text},
)


def _parts(view: Any) -> list[tuple[str, Any]]:
    return [(kind, repr(value)) for kind, value in view.parts]


@settings(max_examples=500)
@given(chunk=_chunk, choice_index=st.integers(0, 1))
def test_plain_part_agrees_with_the_full_reader(chunk: dict[str, Any], choice_index: int) -> None:
    part = read_plain_part(chunk, choice_index)
    if part is None:
        return  # the translator asks the full reader: nothing to agree on
    view = read_chunk(chunk, choice_index)
    assert [(part[0], repr(part[1]))] == _parts(view)
    assert view.finish_reason is None
    assert view.usage is None
    assert view.error is None
    assert view.logprobs is None


_delta_event = st.fixed_dictionaries(
    {
        "type": st.sampled_from(
            [
                "response.output_text.delta",
                "response.reasoning_summary_text.delta",
                "response.reasoning_text.delta",
                "response.function_call_arguments.delta",
                "response.refusal.delta",
            ]
        ),
        "item_id": st.text(max_size=6),
        "output_index": st.integers(0, 10**6),
        "delta": st.text(),
        "sequence_number": st.integers(0, 10**9),
    },
    optional={
        "content_index": st.integers(0, 9),
        "summary_index": st.integers(0, 9),
        "logprobs": st.just([]),
    },
)


@settings(max_examples=500)
@given(event=_delta_event)
def test_delta_frame_templates_match_the_generic_encoder(event: dict[str, Any]) -> None:
    generic = f"event: {event['type']}\ndata: {_compact_json(event)}\n\n".encode("utf-8", "backslashreplace")
    assert encode_sse(event) == generic
