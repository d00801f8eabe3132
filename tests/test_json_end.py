"""``JsonEnd`` agrees with ``json.loads`` on every text, however it is split; ``TextBuffer.since`` with
slicing the whole text. (The translator asks both at every fragment of a call with another waiting.)"""

from __future__ import annotations

import itertools
import json

from hypothesis import example, given, settings
from hypothesis import strategies as st

from chat_to_responses._json_end import JsonEnd
from chat_to_responses._translator import TextBuffer

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='ab"\\{}[] \u00e9', max_size=4),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=8,
)
# Valid JSON, with blanks around; its prefixes; and text around the characters a scanner trips on.
_texts = st.one_of(
    st.builds(
        lambda v, a, b: a + json.dumps(v) + b, _json_values, st.sampled_from(["", " ", "\n"]), st.just("")
    ),
    st.builds(lambda v, n: json.dumps(v)[:n], _json_values, st.integers(0, 40)),
    st.builds(
        lambda v, tail: json.dumps(v) + tail, _json_values, st.sampled_from([" x", "}", "]", '"', " "])
    ),
    st.text(alphabet='{}[]":,\\ab1 \t', max_size=20),
)


def _parses(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _pieces(text: str, cuts: list[int]) -> list[str]:
    points = sorted({c % (len(text) + 1) for c in cuts} | {0, len(text)})
    return [text[a:b] for a, b in itertools.pairwise(points)]


@settings(max_examples=500)
@given(text=_texts, cuts=st.lists(st.integers(0, 60), max_size=10), ask_every_piece=st.booleans())
@example(text='{"a":"\\\\"}', cuts=[6, 7], ask_every_piece=True)  # an escaped backslash split from its pair
@example(text='"\\""', cuts=[2], ask_every_piece=True)  # a piece ending on a backslash
@example(text="[1]]", cuts=[], ask_every_piece=False)
def test_json_end_agrees_with_json_loads(text: str, cuts: list[int], ask_every_piece: bool) -> None:
    end = JsonEnd()
    so_far = ""
    for piece in _pieces(text, cuts):
        end.feed(piece)
        so_far += piece
        if ask_every_piece:
            assert end.complete(lambda text=so_far: text) == _parses(so_far), repr(so_far)
    assert end.complete(lambda: text) == _parses(text), repr(text)


def test_a_long_top_level_number_is_not_complete_early() -> None:
    """Only the safe answer: a call is never closed early on a bare scalar too long to re-parse cheaply."""
    end = JsonEnd()
    end.feed("1" * 2000)
    assert end.complete(lambda: "1" * 2000) is False


@settings(max_examples=200)
@given(pieces=st.lists(st.text(max_size=5), max_size=300), offsets=st.lists(st.integers(0, 1500), max_size=5))
def test_text_buffer_since_is_the_tail(pieces: list[str], offsets: list[int]) -> None:
    buffer = TextBuffer()
    for i, piece in enumerate(pieces):
        buffer.append(piece)
        if i % 97 == 0:
            buffer.value()  # merges the blocks, as closing a part does
    whole = "".join(pieces)
    for offset in offsets:
        offset = min(offset, len(whole))
        assert buffer.since(offset) == whole[offset:]
