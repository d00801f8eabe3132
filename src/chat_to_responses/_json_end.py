"""Whether streamed JSON text is one complete value yet, each character looked at once.

A streaming tool call may close early (so a parallel call waiting behind it can start) only when its
arguments are complete JSON. Parsing the whole text again at every fragment made a call that streams
100k fragments, while another waits, cost quadratic time. :class:`JsonEnd` follows the text as it
grows, tracking only strings and bracket depth (regex jumps from one ``"``, ``\\``, bracket to the
next), and parses the whole text once, when the top-level value closes, to confirm it is valid.

Once the top-level object, array or string has closed, no continuation can make invalid text valid, and
anything but whitespace after a valid value makes it invalid for good; so each of those verdicts is
final. A top-level number or literal (``true``, ``42``) is parsed whole, and only while short: arguments
are objects in practice, and "not complete" is always the safe answer (the call is then closed by the
next flush instead).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Final

_NON_BLANK: Final = re.compile(r"[^ \t\n\r]")
_IN_STRING: Final = re.compile(r'["\\]')
_STRUCTURE: Final = re.compile(r'["{}\[\]]')
_SHORT_SCALAR: Final = 64

_NOTHING, _CONTAINER, _STRING, _SCALAR = range(4)


class JsonEnd:
    """Feed the text piece by piece; :meth:`complete` says whether the whole is one JSON value."""

    __slots__ = ("_closed", "_dead", "_depth", "_escape", "_in_string", "_kind", "_length", "_valid")

    def __init__(self) -> None:
        self._kind = _NOTHING
        self._depth = 0
        self._in_string = False
        self._escape = False  # the piece ended on a backslash inside a string
        self._closed = False  # the top-level value has ended
        self._dead = False  # never complete, whatever comes next
        self._valid: bool | None = None  # the whole-text parse once closed
        self._length = 0

    def feed(self, text: str) -> None:
        self._length += len(text)
        if self._dead or self._kind == _SCALAR:
            return
        pos = 0
        if self._kind == _NOTHING:
            match = _NON_BLANK.search(text)
            if match is None:
                return
            pos = match.start()
            first = text[pos]
            self._kind = _CONTAINER if first in "{[" else _STRING if first == '"' else _SCALAR
            if self._kind == _SCALAR:
                return
        self._scan(text, pos)

    def _scan(self, text: str, pos: int) -> None:
        end = len(text)
        while pos < end:
            if self._closed:
                if _NON_BLANK.search(text, pos) is not None:
                    self._dead = True  # something after a whole value: "Extra data", for good
                return
            if self._in_string:
                pos = self._scan_string(text, pos)
                continue
            match = _STRUCTURE.search(text, pos)
            if match is None:
                return
            pos = match.end()
            char = match.group()
            if char == '"':
                self._in_string = True
            elif char in "{[":
                self._depth += 1
            else:
                self._depth -= 1
                self._closed = self._depth <= 0

    def _scan_string(self, text: str, pos: int) -> int:
        if self._escape:
            self._escape = False
            return pos + 1  # the escaped character (for \uXXXX the hex digits are plain characters)
        match = _IN_STRING.search(text, pos)
        if match is None:
            return len(text)
        if match.group() == "\\":
            if match.end() == len(text):
                self._escape = True
            return match.end() + 1
        self._in_string = False
        if self._kind == _STRING:
            self._closed = True
        return match.end()

    def complete(self, text: Callable[[], str]) -> bool:
        """Whether the text fed so far (``text()`` gives it whole, asked for at most once per value)."""
        if self._dead:
            return False
        if self._kind == _SCALAR:
            return self._length <= _SHORT_SCALAR and _parses(text())
        if not self._closed:
            return False
        if self._valid is None:
            self._valid = _parses(text())
            self._dead = not self._valid
        return self._valid


def _parses(text: str) -> bool:
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return False
    return True
