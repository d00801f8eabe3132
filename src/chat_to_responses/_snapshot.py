"""A one-line-per-event text form of a Responses event stream, for snapshots and diffs.

Each line is `<sequence_number> <type> <details>`: `response.` is dropped from every type but the lifecycle
ones, `#N` is an output_index, `[N]` a content/summary index, texts are Python reprs (one line, escaped).
Volatile values (created_at, completed_at, obfuscation) never appear, so a snapshot changes only when the
stream does. The syrupy extension is defined only when syrupy is installed: it stays an optional import.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Final

from ._check import JSONObject, as_wire_event

_VOLATILE_KEYS: Final = frozenset({"created_at", "completed_at", "obfuscation"})
_LIFECYCLE_TYPES: Final = frozenset(
    {
        "response.created",
        "response.in_progress",
        "response.queued",
        "response.completed",
        "response.incomplete",
        "response.failed",
    }
)
_TERMINAL_TYPES: Final = frozenset({"response.completed", "response.incomplete", "response.failed"})


def format_events(events: Iterable[object]) -> str:
    """The stream as text, one line per event, newline-terminated. Accepts models, dicts or both."""
    lines = [_format_event(event) for event in events]
    return "".join(f"{line}\n" for line in lines)


def _format_event(raw: object) -> str:
    event = as_wire_event(raw)
    if event is None:
        return f"? <not an event: {type(raw).__name__}>"
    sequence = event.get("sequence_number")
    number = str(sequence) if isinstance(sequence, int) and not isinstance(sequence, bool) else "?"
    event_type = event.get("type")
    if not isinstance(event_type, str):
        return f"{number} <no type> {_compact_json(event)}"
    formatter = _FORMATTERS.get(event_type, _format_other)
    shown_type = event_type if event_type in _LIFECYCLE_TYPES else event_type.removeprefix("response.")
    return f"{number} {shown_type} {formatter(event_type, event)}".rstrip()


# --- value rendering --------------------------------------------------------------------------------


def _text(value: object) -> str:
    """A text as a one-line repr; anything else as JSON, so a wrong type shows up in the diff."""
    return repr(value) if isinstance(value, str) else _compact_json(value)


def _word(value: object) -> str:
    """An id, status or name: bare when it is a plain token, else as `_text`."""
    if isinstance(value, str) and value and value.isprintable() and " " not in value:
        return value
    return "?" if value is None else _text(value)


def _compact_json(value: object) -> str:
    try:
        return json.dumps(_without_volatile(value), sort_keys=True, separators=(",", ":"), default=_opaque)
    except (TypeError, ValueError, RecursionError):
        return f"<{type(value).__name__}>"


def _opaque(value: object) -> str:
    return f"<{type(value).__name__}>"  # never repr(): it may carry memory addresses


def _without_volatile(value: object) -> object:
    if isinstance(value, dict):
        return {key: _without_volatile(item) for key, item in value.items() if key not in _VOLATILE_KEYS}
    if isinstance(value, list):
        return [_without_volatile(item) for item in value]
    return value


def _obj(event: JSONObject, key: str) -> JSONObject:
    value = event.get(key)
    return value if isinstance(value, dict) else {}


def _where(event: JSONObject, index_key: str | None = "content_index") -> str:
    """`#<output_index> <item_id> [<index>]`, the address of a sub-event."""
    address = f"#{_word(event.get('output_index'))} {_word(event.get('item_id'))}"
    return address if index_key is None else f"{address} [{_word(event.get(index_key))}]"


# --- lifecycle --------------------------------------------------------------------------------------


def _format_lifecycle(event_type: str, event: JSONObject) -> str:
    response = _obj(event, "response")
    fields = [_word(response.get("id")), _word(response.get("status"))]
    output = response.get("output")
    if event_type in _TERMINAL_TYPES or not _is_empty_list(output):
        fields.append(f"output={_output_ids(output)}")
    if response.get("incomplete_details") is not None:
        fields.append(f"incomplete={_word(_obj(response, 'incomplete_details').get('reason'))}")
    if response.get("error") is not None:
        fields.append(f"error={_error(_obj(response, 'error'))}")
    if event_type in _TERMINAL_TYPES or response.get("usage") is not None:
        fields.append(f"usage={_usage(response.get('usage'))}")
    return " ".join(fields)


def _output_ids(output: object) -> str:
    if not isinstance(output, list):
        return _compact_json(output)
    return "[" + ", ".join(_output_ref(item) for item in output) + "]"


def _output_ref(item: object) -> str:
    if not isinstance(item, dict):
        return _compact_json(item)
    ref = _word(item.get("id") or item.get("type"))
    status = item.get("status")
    return ref if status in (None, "completed") else f"{ref}({_word(status)})"


def _error(error: JSONObject) -> str:
    return f"{_word(error.get('code'))}:{_text(error.get('message'))}"


def _usage(usage: object) -> str:
    if not isinstance(usage, dict):
        return _compact_json(usage)
    cached = _obj(usage, "input_tokens_details").get("cached_tokens")
    reasoning = _obj(usage, "output_tokens_details").get("reasoning_tokens")
    counts = {
        "in": usage.get("input_tokens"),
        "out": usage.get("output_tokens"),
        "total": usage.get("total_tokens"),
        "cached": cached,
        "reasoning": reasoning,
    }
    return " ".join(f"{name}:{_compact_json(count)}" for name, count in counts.items())


# --- output items -----------------------------------------------------------------------------------


def _format_item_event(event_type: str, event: JSONObject) -> str:
    item = _obj(event, "item")
    item_type = item.get("type")
    fields = [f"#{_word(event.get('output_index'))}", _word(item_type), _word(item.get("id"))]
    if item_type == "message":
        fields += _message_fields(event_type, item)
    elif item_type in ("function_call", "custom_tool_call"):
        fields += _function_call_fields(item)
    elif item_type == "reasoning":
        fields += _reasoning_fields(item)
    if item.get("status") is not None:
        fields.append(_word(item.get("status")))
    return " ".join(fields)


def _message_fields(event_type: str, item: JSONObject) -> list[str]:
    fields = [] if item.get("phase") is None else [f"phase={_word(item.get('phase'))}"]
    content = item.get("content")
    if event_type.endswith(".done") or not _is_empty_list(content):
        parts = content if isinstance(content, list) else [content]
        fields.append("content=[" + ", ".join(_content_part(part) for part in parts) + "]")
    return fields


def _content_part(part: object) -> str:
    """`output_text 'Hi' annotations=1`, `refusal 'No'`, `reasoning_text '…'`, else compact JSON."""
    if not isinstance(part, dict):
        return _compact_json(part)
    kind = part.get("type")
    if kind == "refusal":
        return f"refusal {_text(part.get('refusal'))}"
    if kind not in ("output_text", "reasoning_text", "summary_text"):
        return _compact_json(part)
    shown = f"{kind} {_text(part.get('text'))}{_annotations(part.get('annotations'))}"
    return shown + _logprobs(part.get("logprobs"), missing_ok=True)


def _annotations(annotations: object) -> str:
    if annotations is None or _is_empty_list(annotations):
        return ""
    count = len(annotations) if isinstance(annotations, list) else _compact_json(annotations)
    return f" annotations={count}"


def _is_empty_list(value: object) -> bool:
    return isinstance(value, list) and not value


def _logprobs(logprobs: object, *, missing_ok: bool = False) -> str:
    if isinstance(logprobs, list):
        return f" logprobs={len(logprobs)}" if logprobs else ""
    return "" if missing_ok and logprobs is None else f" logprobs={_compact_json(logprobs)}"


def _function_call_fields(item: JSONObject) -> list[str]:
    return [
        f"call_id={_word(item.get('call_id'))}",
        f"name={_word(item.get('name'))}",
        f"input={_text(item.get('input'))}"
        if item.get("type") == "custom_tool_call"
        else f"args={_text(item.get('arguments'))}",
    ]


def _reasoning_fields(item: JSONObject) -> list[str]:
    fields = [f"summary={_texts(item.get('summary'))}"]
    if item.get("content") is not None:
        fields.append(f"content={_texts(item.get('content'))}")
    encrypted = item.get("encrypted_content")
    if isinstance(encrypted, str):
        fields.append(f"encrypted_content=<{len(encrypted)} chars>")
    elif encrypted is not None:
        fields.append(f"encrypted_content={_compact_json(encrypted)}")
    return fields


def _texts(parts: object) -> str:
    """`['a', 'b']` for summary/reasoning parts whose type is the expected one, JSON otherwise."""
    if not isinstance(parts, list):
        return _compact_json(parts)
    return "[" + ", ".join(_reasoning_part(part) for part in parts) + "]"


def _reasoning_part(part: object) -> str:
    if isinstance(part, dict) and part.get("type") in ("summary_text", "reasoning_text"):
        return _text(part.get("text"))
    return _compact_json(part)


# --- parts, deltas, annotations, errors -------------------------------------------------------------


def _format_part_event(event_type: str, event: JSONObject) -> str:
    index_key = "summary_index" if "summary_part" in event_type else "content_index"
    return f"{_where(event, index_key)} {_content_part(event.get('part'))}"


def _text_field(field: str, *, index_key: str | None = "content_index") -> Callable[[str, JSONObject], str]:
    """A formatter for a delta/done event: its address, then the one text it carries."""

    def format_text(event_type: str, event: JSONObject) -> str:
        shown = f"{_where(event, index_key)} {_text(event.get(field))}"
        if event_type.startswith("response.output_text."):
            shown += _logprobs(event.get("logprobs"))
        return shown

    return format_text


def _format_annotation(event_type: str, event: JSONObject) -> str:
    annotation = event.get("annotation")
    details = dict(annotation) if isinstance(annotation, dict) else {"annotation": annotation}
    kind = details.pop("type", None)
    return f"{_where(event)} a{_word(event.get('annotation_index'))} {_word(kind)} {_compact_json(details)}"


def _format_error(event_type: str, event: JSONObject) -> str:
    # openai models the error event flat; Open Responses nests it under "error".
    error = _obj(event, "error") or event
    shown = f"code={_word(error.get('code'))} message={_text(error.get('message'))}"
    return shown if error.get("param") is None else f"{shown} param={_word(error.get('param'))}"


def _format_other(event_type: str, event: JSONObject) -> str:
    rest = {key: value for key, value in event.items() if key not in ("type", "sequence_number")}
    return _compact_json(rest)


_FORMATTERS: Final[dict[str, Callable[[str, JSONObject], str]]] = {
    **dict.fromkeys(_LIFECYCLE_TYPES, _format_lifecycle),
    "response.output_item.added": _format_item_event,
    "response.output_item.done": _format_item_event,
    "response.content_part.added": _format_part_event,
    "response.content_part.done": _format_part_event,
    "response.reasoning_summary_part.added": _format_part_event,
    "response.reasoning_summary_part.done": _format_part_event,
    "response.output_text.delta": _text_field("delta"),
    "response.output_text.done": _text_field("text"),
    "response.refusal.delta": _text_field("delta"),
    "response.refusal.done": _text_field("refusal"),
    "response.output_text.annotation.added": _format_annotation,
    "response.function_call_arguments.delta": _text_field("delta", index_key=None),
    "response.function_call_arguments.done": _text_field("arguments", index_key=None),
    "response.custom_tool_call_input.delta": _text_field("delta", index_key=None),
    "response.custom_tool_call_input.done": _text_field("input", index_key=None),
    "response.reasoning_summary_text.delta": _text_field("delta", index_key="summary_index"),
    "response.reasoning_summary_text.done": _text_field("text", index_key="summary_index"),
    "response.reasoning_text.delta": _text_field("delta"),
    "response.reasoning_text.done": _text_field("text"),
    "error": _format_error,
}


# --- syrupy -----------------------------------------------------------------------------------------

if TYPE_CHECKING or importlib.util.find_spec("syrupy") is not None:
    from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

    class ResponsesStreamSnapshotExtension(SingleFileSnapshotExtension):
        """Stores an event sequence as its `format_events` text, one `.txt` file per snapshot, so a
        regression reads as a line diff. A `str` is stored as is (already formatted)."""

        _write_mode = WriteMode.TEXT
        file_extension = "txt"  # syrupy >= 5
        _file_extension = "txt"  # syrupy 4

        def serialize(self, data: Any, **kwargs: Any) -> Any:
            text = data if isinstance(data, str) else format_events(data)
            return super().serialize(text, **kwargs)


# --- timeline: the snapshot form for a person, text deltas joined -----------------------------------


class Timeline:
    """The snapshot lines of a stream with each run of text deltas joined into one line.

    ``add(event)`` returns the lines it completes and ``flush()`` the last one, so a long stream is
    written as it is read. A joined run is numbered ``first-last`` and its text is the deltas in order.
    """

    def __init__(self) -> None:
        self._run: JSONObject | None = None
        self._run_key: tuple[object, ...] = ()
        self._parts: list[str] = []
        self._last_number: object = None

    def add(self, raw: object) -> list[str]:
        event = as_wire_event(raw)
        key = _delta_run_key(event)
        if event is not None and key is not None and self._run is not None and key == self._run_key:
            self._parts.append(str(event["delta"]))
            self._last_number = event.get("sequence_number")
            return []
        lines = self.flush()
        if event is not None and key is not None:
            self._run, self._run_key, self._parts = event, key, [str(event["delta"])]
            self._last_number = event.get("sequence_number")
            return lines
        lines.append(_format_event(raw if event is None else event))
        return lines

    def flush(self) -> list[str]:
        if self._run is None:
            return []
        run, first = self._run, self._run.get("sequence_number")
        line = _format_event({**run, "delta": "".join(self._parts)})
        if len(self._parts) > 1:  # `4-39 …`: the numbers of the first and the last delta joined
            line = f"{first}-{self._last_number}" + line[len(str(first)) :]
        self._run, self._parts = None, []
        return [line]


def _delta_run_key(event: JSONObject | None) -> tuple[object, ...] | None:
    """What deltas must share to be joined: their type and address; None for any other event."""
    if event is None or not isinstance(event.get("delta"), str):
        return None
    event_type = event.get("type")
    if not isinstance(event_type, str) or not event_type.endswith(".delta"):
        return None
    address = ("item_id", "output_index", "content_index", "summary_index")
    return (event_type, *(repr(event.get(key)) for key in address))
