"""Strings from the upstream made encodable: every lone UTF-16 surrogate becomes U+FFFD.

A provider that streams text token by token may cut an emoji's escaped surrogate pair in half
(``"\\ud83d"`` in one chunk, ``"\\ude00"`` in the next). ``json.loads`` turns each half into a lone
surrogate, which no UTF-8 encoder accepts: the stream could not be written, stored or parsed strictly.
The translator passes every upstream string it emits through :func:`valid_text`:

- a surrogate pair inside one string becomes the character it encodes;
- a lone surrogate becomes U+FFFD (REPLACEMENT CHARACTER), in the delta and so in every ``*.done`` text
  and the final output (they are joined from the same pieces), so the three agree.

Halves split across two deltas are not rejoined: that would mean holding text back across events of
every kind. A split emoji is shown as two U+FFFD, as a UTF-8 decoder shows a split byte sequence.
"""

from __future__ import annotations

import re
from typing import Any, Final

_SURROGATE: Final = re.compile("[\ud800-\udfff]")


def valid_text(text: str) -> str:
    """``text`` with surrogate pairs joined and lone surrogates replaced by U+FFFD (ASCII costs one check)."""
    if text.isascii() or _SURROGATE.search(text) is None:
        return text
    # UTF-16 with surrogatepass writes the code units as they are; decoding pairs them, "replace" the rest.
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def valid_json(value: Any) -> Any:
    """A JSON-ready value (dicts, lists, strings…) with :func:`valid_text` applied to every string."""
    if isinstance(value, str):
        return valid_text(value)
    if isinstance(value, dict):
        return {valid_text(str(k)): valid_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [valid_json(v) for v in value]
    return value
