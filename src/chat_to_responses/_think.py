"""``<think>…</think>`` at the start of assistant content, with the tags split anywhere across chunks.

Qwen and DeepSeek-R1 served raw (Groq, Fireworks, Together, Novita) put their chain of thought in
``content`` between think tags. Only a tag at the very start of the content (after whitespace) counts: a
``<think>`` later in an answer is text the user asked about. Whatever could still become a tag is held
back (at most seven characters, or the leading whitespace), so the cost stays linear: leading whitespace
is held as a list of pieces, joined once, never scanned again (100k blank deltas before an answer).
"""

from __future__ import annotations

from typing import Final

from ._chunks import REASONING, TEXT, Part

OPEN: Final = "<think>"
CLOSE: Final = "</think>"

_START, _THINK, _AFTER, _TEXT = range(4)


class ThinkTagParser:
    """Splits content into ``("reasoning", …)`` and ``("text", …)`` pieces; ``done`` once only text."""

    __slots__ = ("_buffer", "_lead", "_state")

    def __init__(self) -> None:
        self._state = _START
        self._buffer = ""  # in _START: what follows the leading whitespace (a prefix of <think> at most)
        self._lead: list[str] = []  # in _START: the leading whitespace

    @property
    def done(self) -> bool:
        return self._state == _TEXT

    @property
    def holding(self) -> bool:
        """Content held back (a possible tag, leading whitespace): ``flush`` has something to release."""
        return bool(self._buffer or self._lead)

    @property
    def holding_start(self) -> bool:
        """Content held back because it may still open a tag (it will be text or the tag itself)."""
        return self._state == _START and self.holding

    def feed(self, text: str) -> list[Part]:
        if self._state == _TEXT:
            return [(TEXT, text)]
        if self._state == _START and not self._buffer:
            stripped = text.lstrip()
            if len(stripped) < len(text):
                self._lead.append(text[: len(text) - len(stripped)])
            if not stripped:
                return []
            text = stripped
        self._buffer += text
        out: list[Part] = []
        while self._step(out):
            pass
        return out

    def flush(self) -> list[Part]:
        """End of content (or another kind of output arrived): release what was held back."""
        buffer, self._buffer = self._buffer, ""
        if self._state == _THINK:
            return [(REASONING, buffer)] if buffer else []
        if self._state == _START and (buffer or self._lead):
            self._state = _TEXT  # it was not a tag after all: the message has started
            return [(TEXT, self._take_lead() + buffer)]
        return []

    def _take_lead(self) -> str:
        lead, self._lead = "".join(self._lead), []
        return lead

    def _step(self, out: list[Part]) -> bool:
        """Consume what the buffer allows; True when the state changed and there may be more to do."""
        if self._state == _START:
            return self._step_start(out)
        if self._state == _THINK:
            return self._step_think(out)
        return self._step_after(out)

    def _step_start(self, out: list[Part]) -> bool:
        buffer = self._buffer  # starts with the first non-blank character
        if buffer.startswith(OPEN):
            self._state, self._buffer, self._lead = _THINK, buffer[len(OPEN) :], []
            return True
        if not OPEN.startswith(buffer):
            self._state = _TEXT
            out.append((TEXT, self._take_lead() + buffer))
            self._buffer = ""
        return False

    def _step_think(self, out: list[Part]) -> bool:
        end = self._buffer.find(CLOSE)
        if end >= 0:
            if end:
                out.append((REASONING, self._buffer[:end]))
            self._state, self._buffer = _AFTER, self._buffer[end + len(CLOSE) :]
            return True
        keep = _partial_tag_length(self._buffer)
        if len(self._buffer) > keep:
            out.append((REASONING, self._buffer[: len(self._buffer) - keep]))
            self._buffer = self._buffer[len(self._buffer) - keep :]
        return False

    def _step_after(self, out: list[Part]) -> bool:
        # The answer after ``</think>`` starts at its first non-blank character ("</think>\n\nAnswer").
        stripped = self._buffer.lstrip()
        self._buffer = ""
        if stripped:
            self._state = _TEXT
            out.append((TEXT, stripped))
        return False


def _partial_tag_length(buffer: str) -> int:
    """Length of the longest suffix of ``buffer`` that is a proper prefix of ``</think>``."""
    for n in range(min(len(CLOSE) - 1, len(buffer)), 0, -1):
        if CLOSE.startswith(buffer[-n:]):
            return n
    return 0
