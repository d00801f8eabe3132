"""Server-sent events, both ways: Responses events out, Chat Completions chunks in.

Out (hot path): `encode_sse` frames one Responses stream event as ``event: <type>`` + ``data: <json>``. It
is the only SSE framing function of the project (library, CLI, HTTP server): dicts go straight to a
pre-built compact JSON encoder, only pydantic models pay for a ``model_dump``. Delta events as the
translator builds them (nine frames in ten) are written from per-type templates, byte for byte what the
encoder writes, at a third of its cost.

In: `ChatSSEDecoder` is a sans-IO incremental decoder shaped like httpx's and h11's (``decode(data) ->
list``, ``flush() -> list``). Each input piece is decoded to text by an incremental UTF-8 decoder (so a
multi-byte character may be split anywhere), split once on CR / LF / CRLF (one regex pass, or a plain
``str.split`` when the piece holds no CR, as almost every body does), and every complete line goes
through the SSE field rules of the WHATWG spec. Only the unfinished tail of the last line is kept, as a
list of fragments joined once, so a long line arriving byte by byte still costs linear time. A frame's
data is parsed as JSON when its blank line arrives.

Provider bodies are not always well formed, and one bad frame must not lose the stream: whatever cannot
be a chunk becomes an ``{"error": {"type": "invalid_chunk", ...}}`` dict in its place, naming the line
where the frame's data started. The translator turns any chunk with a top-level ``error`` object into a
``response.failed`` event, so the Responses stream still ends properly.

`iter_jsonl_chunks` and `read_chunk_file` read the recorded corpus (one chunk JSON object per line) and
raw SSE bodies with the same error convention.
"""

from __future__ import annotations

import codecs
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Final, NamedTuple

from pydantic import BaseModel

__all__ = [
    "ChatSSEDecoder",
    "encode_chat_sse",
    "encode_sse",
    "encode_sse_done",
    "invalid_chunk_error",
    "iter_jsonl_chunks",
    "read_chunk_body",
    "read_chunk_file",
]

# A pre-built encoder: `json.dumps(..., separators=...)` would build a new JSONEncoder on every call.
_compact_json: Final = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
# The string escaping that encoder applies (the C function itself), for the delta frame templates below.
_json_string: Final = json.encoder.encode_basestring

# SSE lines end with CRLF, LF or CR and nothing else (`str.splitlines` would also split on U+2028 & co,
# which `ensure_ascii=False` JSON may carry raw inside strings).
_LINE_BREAK: Final = re.compile(r"\r\n|\r|\n")

_DONE: Final = "[DONE]"
_DONE_FRAME: Final = b"data: [DONE]\n\n"
_SNIPPET_CHARS: Final = 200
_SSE_FIELD_PREFIXES: Final = (b"event:", b"id:", b"retry:", b":")


class _DeltaShape(NamedTuple):
    keys: tuple[str, ...]  # in the order the translator builds them
    index_key: str  # content_index / summary_index, "" for function call arguments
    template: str  # the frame, %s where the values go


def _delta_shape(event_type: str, index_key: str = "", *, logprobs: bool = False) -> _DeltaShape:
    keys = ["type", "item_id", "output_index", "delta", "sequence_number"]
    values = [_compact_json(event_type), "%s", "%s", "%s", "%s"]
    if logprobs:
        keys.insert(4, "logprobs")
        values.insert(4, "[]")
    if index_key:
        keys.insert(3, index_key)
        values.insert(3, "%s")
    json_text = "{" + ",".join(f'"{key}":{value}' for key, value in zip(keys, values, strict=True)) + "}"
    return _DeltaShape(tuple(keys), index_key, f"event: {event_type}\ndata: {json_text}\n\n")


# Nine frames in ten are deltas. Their frames are written from a template, the strings escaped by the very
# function the JSON encoder uses, so the bytes are the same; any other shape goes through the encoder.
_DELTA_SHAPES: Final = {
    event_type: _delta_shape(event_type, index_key, logprobs=event_type == "response.output_text.delta")
    for event_type, index_key in [
        ("response.output_text.delta", "content_index"),
        ("response.reasoning_summary_text.delta", "summary_index"),
        ("response.reasoning_text.delta", "content_index"),
        ("response.refusal.delta", "content_index"),
        ("response.function_call_arguments.delta", ""),
    ]
}


def _delta_frame(event: dict[str, Any]) -> str | None:
    """The frame of a delta event as the translator builds it, or None for anything else."""
    event_type = event.get("type")
    shape = _DELTA_SHAPES.get(event_type) if type(event_type) is str else None
    if shape is None or tuple(event) != shape.keys:
        return None
    item_id, output_index, delta, sequence_number = (
        event["item_id"],
        event["output_index"],
        event["delta"],
        event["sequence_number"],
    )
    logprobs = event.get("logprobs", [])  # in text deltas only, and only an empty list has a template
    if not (
        type(item_id) is str
        and type(delta) is str
        and type(output_index) is int
        and type(sequence_number) is int
        and type(logprobs) is list
        and not logprobs
    ):
        return None
    if not shape.index_key:
        return shape.template % (_json_string(item_id), output_index, _json_string(delta), sequence_number)
    index = event[shape.index_key]
    if type(index) is not int:
        return None
    return shape.template % (_json_string(item_id), output_index, index, _json_string(delta), sequence_number)


def encode_sse(event: Mapping[str, Any] | BaseModel) -> bytes:
    """One SSE frame for a Responses stream event, ``event:`` equal to the JSON ``type``.

    Models are dumped with ``exclude_unset=True`` so an event validated from our own dict keeps exactly
    the keys we set.
    """
    if isinstance(event, dict):
        frame = _delta_frame(event)
        if frame is not None:
            return frame.encode("utf-8", "backslashreplace")
        wire: dict[str, Any] = event
    elif isinstance(event, BaseModel):
        wire = event.model_dump(mode="json", exclude_unset=True, by_alias=True)
    else:
        wire = dict(event)  # the C encoder serialises dicts only
    frame = f"event: {wire['type']}\ndata: {_compact_json(wire)}\n\n"
    # A lone surrogate (a provider's token cut an emoji's escaped pair in half) can only sit inside a JSON
    # string, where backslashreplace writes it back as the valid JSON escape `\udXXX`.
    return frame.encode("utf-8", "backslashreplace")


def encode_sse_done() -> bytes:
    """The ``data: [DONE]`` terminator frame."""
    return _DONE_FRAME


def encode_chat_sse(chunk: Mapping[str, Any]) -> bytes:
    """One Chat Completions SSE frame, as providers send them (the inverse of `ChatSSEDecoder`).

    A bare ``{"error": ...}`` object goes out as an ``event: error`` frame, the way Groq reports a failure
    in the middle of a stream.
    """
    prefix = "event: error\n" if chunk.keys() == {"error"} else ""
    return f"{prefix}data: {_compact_json(chunk)}\n\n".encode("utf-8", "backslashreplace")


def invalid_chunk_error(line_number: int, problem: str, text: str) -> dict[str, Any]:
    """The chunk that stands in for data that could not be a chunk: an error the translator reports."""
    message = f"line {line_number}: {problem}, got {text[:_SNIPPET_CHARS]}"
    return {"error": {"type": "invalid_chunk", "code": "invalid_chunk", "message": message}}


def _json_type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return "a string" if isinstance(value, str) else "an array"


def _load_json(text: str) -> tuple[Any, str | None]:
    """The decoded value, or None and what is wrong with the text."""
    try:
        return json.loads(text), None
    except json.JSONDecodeError as exc:
        return None, f"invalid JSON ({exc.msg} at char {exc.pos})"
    except RecursionError:
        return None, "invalid JSON (nested too deeply)"


def _parse_chunk(text: str, line_number: int) -> dict[str, Any]:
    value, problem = _load_json(text)
    if isinstance(value, dict):
        return value
    problem = problem or f"expected a JSON object, not {_json_type_name(value)}"
    return invalid_chunk_error(line_number, problem, text)


def _error_event_chunk(text: str) -> dict[str, Any]:
    """The chunk for an ``event: error`` frame (Groq sends ``{"error": {...}}`` and ends the stream)."""
    value, _ = _load_json(text)
    if isinstance(value, dict):
        return value if "error" in value else {"error": value}
    # Not an object (a plain-text or JSON-string message): it is still the provider's own error message.
    message = value if isinstance(value, str) else text
    return {"error": {"type": "upstream_error", "code": "upstream_error", "message": message}}


class ChatSSEDecoder:
    """Incremental decoder of a Chat Completions SSE response body into chunk dicts.

    ``decode`` takes any piece of the body and returns the chunks completed by it; ``flush`` at end of
    body returns the last frame if it had no trailing blank line. ``done`` turns True at ``data: [DONE]``;
    like the openai SDK, everything after it is ignored. A body without ``[DONE]`` is fine (Cerebras,
    Writer and Groq-on-error end without it).
    """

    def __init__(self) -> None:
        self.done = False
        # utf-8-sig: the SSE spec strips a leading BOM. errors="replace" as the spec says, never raise.
        self._text_decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
        self._line_tail: list[str] = []
        self._skip_lf = False  # the last piece ended with CR: a leading LF of the next one belongs to it
        self._line_number = 0
        self._data_lines: list[str] = []
        self._data_line_number = 0
        self._event = ""

    def decode(self, data: bytes | str) -> list[dict[str, Any]]:
        if self.done:
            return []
        text = data if isinstance(data, str) else self._text_decoder.decode(data)
        return self._feed_text(text)

    def flush(self) -> list[dict[str, Any]]:
        if self.done:
            return []
        chunks = self._feed_text(self._text_decoder.decode(b"", final=True))
        if self._line_tail and not self.done:
            # The body ended inside a line: treat it as complete, then as if the blank line followed.
            self._take_line(chunks, "".join(self._line_tail))
        self._line_tail = []
        if not self.done:
            self._end_frame(chunks)
        return chunks

    def _feed_text(self, text: str) -> list[dict[str, Any]]:
        if self._skip_lf and text:
            self._skip_lf = False
            if text[0] == "\n":
                text = text[1:]
        # Most bodies end lines with LF only, and str.split is ten times faster than the regex.
        lines = _LINE_BREAK.split(text) if "\r" in text else text.split("\n")
        if len(lines) == 1:
            if text:
                self._line_tail.append(text)
            return []
        self._skip_lf = text[-1] == "\r"
        if self._line_tail:
            self._line_tail.append(lines[0])
            lines[0] = "".join(self._line_tail)
        tail = lines.pop()
        self._line_tail = [tail] if tail else []
        chunks: list[dict[str, Any]] = []
        for line in lines:
            self._take_line(chunks, line)
            if self.done:
                self._line_tail = []
                break
        return chunks

    def _take_line(self, chunks: list[dict[str, Any]], line: str) -> None:
        self._line_number += 1
        if not line:
            self._end_frame(chunks)
            return
        if line[0] == ":":
            return  # a comment: OpenRouter's `: OPENROUTER PROCESSING` keep-alives
        name, _, value = line.partition(":")
        if value[:1] == " ":
            value = value[1:]
        if name == "data":
            if not self._data_lines:
                self._data_line_number = self._line_number
            self._data_lines.append(value)
        elif name == "event":
            self._event = value
        # `id:` and `retry:` only matter for reconnecting, which a one-shot completion never does.

    def _end_frame(self, chunks: list[dict[str, Any]]) -> None:
        data_lines, event = self._data_lines, self._event
        self._data_lines, self._event = [], ""
        if not data_lines:
            return  # an `event:`-only frame or a run of blank lines
        data = "\n".join(data_lines)
        stripped = data.strip()
        if stripped == _DONE:
            self.done = True
        elif not stripped:
            return  # an empty `data:` keep-alive carries nothing
        elif event == "error":
            chunks.append(_error_event_chunk(data))
        else:
            chunks.append(_parse_chunk(data, self._data_line_number))


def iter_jsonl_chunks(lines: Iterable[str | bytes]) -> Iterator[dict[str, Any]]:
    """Chunks from JSONL, one chunk object per line; blank lines are skipped.

    A line may also be an SSE ``data: {...}`` line (logs pasted from a terminal); ``data: [DONE]`` ends
    the stream as it does in SSE. A malformed line yields an ``invalid_chunk`` error naming its number.
    """
    for line_number, line in enumerate(lines, start=1):
        text = (line.decode("utf-8", "replace") if isinstance(line, bytes) else line).strip()
        if text.startswith("data:"):
            text = text[len("data:") :].strip()
            if text == _DONE:
                return
        if text:
            yield _parse_chunk(text, line_number)


def _looks_like_sse_body(lines: list[bytes]) -> bool:
    """A raw SSE body has non-data fields, or data lines with blank frame separators between them.

    Consecutive ``data:`` lines without separators are JSONL with prefixes, not one multi-line frame.
    """
    if any(line.startswith(_SSE_FIELD_PREFIXES) for line in lines):
        return True
    has_data = any(line.startswith(b"data:") for line in lines)
    return has_data and any(not line.strip() for line in lines[:-1])


def read_chunk_file(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """All chunks of a recorded stream file, JSONL (the corpus format) or a raw SSE body."""
    return read_chunk_body(Path(path).read_bytes())


def read_chunk_body(body: bytes) -> list[dict[str, Any]]:
    """All chunks of a whole stream in memory (a file, stdin), JSONL or a raw SSE body."""
    body = body.removeprefix(codecs.BOM_UTF8)
    lines = body.splitlines()  # bytes split on CR / LF / CRLF only, never inside JSON text
    if not _looks_like_sse_body(lines):
        return list(iter_jsonl_chunks(lines))
    decoder = ChatSSEDecoder()
    return decoder.decode(body) + decoder.flush()
