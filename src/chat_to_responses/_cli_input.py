"""What ``chat-to-responses translate`` accepts: a Chat Completions chunk stream, checked before translating.

Input that is not a chunk stream at all (empty, binary, pretty-printed JSON, a request body, a whole
completion, Responses events, any other JSON) is refused with a message that says what the file holds
and what is expected, and nothing is written: translating it would only give an empty
``response.completed``. A stream that goes bad later is translated up to the bad line (see ``_cli``).
"""

from __future__ import annotations

import json
from typing import Any

from ._sse import read_chunk_body

EXPECTED = (
    "expected a Chat Completions chunk stream: one chunk JSON object per line (JSONL), "
    "or a raw SSE body (data: {...} lines)"
)
_INVALID_CHUNK = "invalid_chunk"  # the error code the readers give a line that is not a JSON object


class InputError(ValueError):
    """The input is not a chunk stream; the message says why and what is expected."""


def parse_input(body: bytes, name: str = "FILE") -> list[dict[str, Any]]:
    """The chunks of ``body``, or :class:`InputError` when it is not a chunk stream.

    ``name`` is how a hint's command names the input (a shell-quoted path).
    """
    _check_text(body)
    chunks = read_chunk_body(body)
    if not chunks:
        raise InputError(f"no chunk in the input (only blank lines, comments or [DONE]); {EXPECTED}")
    first = chunks[0]
    if is_invalid_chunk(first):
        raise InputError(_pretty_printed_hint(body, name) or f"{first['error']['message']}; {EXPECTED}")
    problem = _not_a_chunk(first)
    if problem:
        raise InputError(f"{problem}; {EXPECTED}")
    return chunks


def is_invalid_chunk(chunk: dict[str, Any]) -> bool:
    """True for the stand-in the readers give a line that could not be parsed as a chunk."""
    error = chunk.get("error")
    return isinstance(error, dict) and error.get("code") == _INVALID_CHUNK and chunk.keys() == {"error"}


def _check_text(body: bytes) -> None:
    if not body.strip():
        raise InputError(f"the input is empty; {EXPECTED}")
    # Binary data is never quoted back: it could drive the terminal.
    nul = body.find(b"\0")
    if nul >= 0:
        raise InputError(f"the input is binary (a NUL byte at offset {nul}), not text; {EXPECTED}")
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"the input is not UTF-8 text (byte offset {exc.start}); {EXPECTED}") from None


def _pretty_printed_hint(body: bytes, name: str) -> str | None:
    """The message for one JSON document spread over several lines, the commonest near miss."""
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        text = body.strip()
        if not text.startswith((b"{", b"[")) or b"\n" not in text:
            return None
        return (
            "the input looks like pretty-printed JSON (a JSON value spread over several lines); "
            f"translate reads one chunk per line: compact it first, e.g. {_jq('.', name)}"
        )
    lines = len(body.strip().splitlines())
    if isinstance(value, list):
        spread = f" over {lines} lines" if lines > 1 else ""
        return (
            f"the input is one JSON array{spread}; translate reads one chunk per line (JSONL): "
            f"convert it with {_jq(_EACH_ELEMENT, name)}"
        )
    kind = _not_a_chunk(value) if isinstance(value, dict) else "the input is not a JSON object"
    if kind:
        return kind
    return (
        f"the input is one chunk pretty-printed over {lines} lines; translate reads one chunk per line "
        f"(JSONL): compact it first, e.g. {_jq('.', name)}"
    )


_EACH_ELEMENT = "'.[]'"  # jq's program for "each element of the array", quoted for the shell


def _jq(program: str, name: str) -> str:
    """The command that rewrites the input as JSONL (``name`` empty: the input is stdin)."""
    return f"`jq -c {program}{' ' + name if name else ''}`"


def _not_a_chunk(value: dict[str, Any]) -> str | None:
    """What the first JSON object is when it is not a chunk or an upstream error, else None."""
    if "choices" in value and value.get("object") != "chat.completion":
        return None
    if "error" in value:
        return None  # a provider error as the first line (Groq): translated into response.failed
    if "messages" in value:
        return (
            "the input is a Chat Completions request body (it has 'messages'); translate reads the "
            "streamed response to a request (stream=True), not the request"
        )
    if value.get("object") == "chat.completion":
        return (
            "the input is a whole (non-streamed) chat completion; translate reads the chunks of a "
            "streamed one (stream=True)"
        )
    event_type = value.get("type")
    if isinstance(event_type, str) and event_type.startswith("response."):
        return "the input is already a Responses event stream"
    keys = ", ".join(sorted(value)[:5]) or "none"
    return f"the first JSON object is not a chunk (keys: {keys}; a chunk has 'choices')"
