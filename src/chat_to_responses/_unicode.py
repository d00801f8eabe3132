"""Strings from the upstream made encodable: no lone UTF-16 surrogate ever goes out.

A provider that slices its text as UTF-16 (a JavaScript server) may cut an emoji's surrogate pair in half:
``"\\ud83d"`` ends one delta, ``"\\ude00"`` starts the next. ``json.loads`` turns each half into a lone
surrogate, which no UTF-8 encoder accepts: the stream could not be written, stored or parsed strictly.
The translator (``StreamTranslator._join_half``) holds a trailing first half back for the next delta of
the same channel (text, reasoning, summary, refusal, one call's arguments) and joins the pair there; a half
that gets no partner, and any other lone surrogate, becomes U+FFFD (REPLACEMENT CHARACTER) through
:func:`valid_text`. Deltas, ``*.done`` texts and the final output are built from the same pieces, so they
agree.
"""

from __future__ import annotations

import json
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


_encode_json: Final = json.JSONEncoder(ensure_ascii=False).encode


def valid_json_document(value: dict[str, Any]) -> dict[str, Any]:
    """:func:`valid_json` for a large document (a response template with its tools): one C-speed encoding
    tells that nearly every one is fine as it is; only one that fails it is walked in Python."""
    try:
        _encode_json(value).encode("utf-8")
    except (UnicodeEncodeError, TypeError, ValueError, RecursionError):
        cleaned: dict[str, Any] = valid_json(value)
        return cleaned
    return value
