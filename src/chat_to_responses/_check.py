"""Validate a Responses API event stream against the 20 rules of docs/responses-stream-rules.md.

Theory of operation
-------------------
`check_stream` makes one pass over the events. Each event is first normalised to its JSON wire form (an
openai event model is dumped with `model_dump(mode="json", by_alias=True)`, a dict is taken as is), then
`_StreamChecker.feed` checks the envelope (sequence number, position, after-terminal) and dispatches on the
event `type` to one handler per family: lifecycle, output items, content parts, text deltas, annotations,
function-call arguments, reasoning summary parts. All state lives in the checker: the response id, the
terminal seen, and one `_Item` per `output_index` holding the identity from `added`, the parts opened so
far with their accumulated deltas, and the argument chunks. A sub-event finds its item through one function
(`_target_item`), so "is this item open, of the right type, with this item_id" is decided in one place.
When the events run out, `finish` reports whole-stream problems (no terminal, items never done, an `error`
event never followed by `response.failed`).

Every problem becomes a `Violation(rule, index, message)`. The checker never raises on bad input: fields
are read through accessors that return None for a missing key or a wrong type, and the caller reports it.
Cost is linear in the stream: deltas are appended to lists and joined once, JSON values are compared by an
iterative walk that visits each node once.

Choices where the rules are silent
----------------------------------
- Rule numbers for malformed events: a non-object event or one without a string `type` is rule 1 (the
  envelope); a missing or mistyped field is reported under the rule that owns the field.
- An `error` event is a rule 3 violation unless a `response.failed` follows it (openai SDK and
  openai-agents raise on it otherwise). Its shape (flat, as openai models it, or nested under `error`, as
  Open Responses does) is not checked. Any other event with a truthy top-level `error` key is rule 3: the
  openai SDK raises `APIError` on it mid-stream, so the stream never reaches its terminal.
- `response.queued`, a repeated `response.created` / `response.in_progress` are rule 2.
- Items cut by the ending (rules 16, 18, 19): at `response.incomplete` or `response.failed`, the terminal
  `output` is the done items in order, then the items the ending cut, each with status `incomplete`; every
  item still open must be among those (nothing received is lost). At `response.failed` no item open at an
  `error` event may be announced done (Codex replays every item it is told is done); one closed earlier
  by a length cut stays done. At `response.incomplete` an open message or reasoning item must be closed
  as `incomplete`, a function call may stay open only if its arguments are not complete JSON, and a done
  call's arguments must be complete JSON; if the item with the highest `output_index` is done, its
  status is `incomplete`.
- Raw reasoning text may open its part with `content_part.added` (type `reasoning_text`) or implicitly with
  its first `reasoning_text.delta` / `.done`; either way `content_index` is dense from 0. The Open Responses
  spelling `response.reasoning.delta` and other event types this project never emits are not checked
  beyond the envelope.
- The full close sequence (`*.done`, part done, item done) is required for every item announced done,
  cut by a length or filter ending included.
- Usage (rule 20): each count must be a non-negative integer; `total_tokens` is not required to equal the
  sum, because some upstreams count it differently and the translator copies it.
- With `sse_frames`, the k-th data frame must carry the k-th event (same JSON, None vs missing ignored);
  frame violations are indexed by frame position.
- Strict JSON (rule 5): an event or frame holding NaN or ±Infinity, or a lone UTF-16 surrogate (which no
  UTF-8 encoder accepts), is a violation: strict parsers (Rust, Go) reject the one, stores the other.
"""

from __future__ import annotations

import json
import re
import reprlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final

from pydantic import BaseModel

JSONObject = dict[str, object]

_LIFECYCLE_STATUS: Final = {
    "response.created": "in_progress",
    "response.in_progress": "in_progress",
    "response.queued": "queued",
    "response.completed": "completed",
    "response.incomplete": "incomplete",
    "response.failed": "failed",
}
_OPENING_TYPES: Final = frozenset({"response.created", "response.in_progress", "response.queued"})
_TERMINAL_TYPES: Final = frozenset({"response.completed", "response.incomplete", "response.failed"})
_CUTTING_TYPES: Final = frozenset({"response.incomplete", "response.failed"})
_ID_PREFIX: Final = {
    "message": "msg_",
    "function_call": "fc_",
    "custom_tool_call": "ctc_",
    "reasoning": "rs_",
}
# Call items and the field their deltas build (rule 13 holds for both).
_CALL_FIELD: Final = {"function_call": "arguments", "custom_tool_call": "input"}
_INCOMPLETE_REASONS: Final = frozenset({"max_output_tokens", "content_filter"})
_DONE_STATUSES: Final = frozenset({"completed", "incomplete"})
_TEXT_FIELD: Final = {
    "output_text": "text",
    "refusal": "refusal",
    "reasoning_text": "text",
    "summary_text": "text",
}
_SSE_FRAME: Final = re.compile(r"event: ([^\r\n]*)\ndata: ([^\r\n]*)\n\n")
_SSE_DONE: Final = "data: [DONE]\n\n"

_shower = reprlib.Repr()
_shower.maxstring = 60
_shower.maxother = 60


@dataclass(frozen=True)
class Violation:
    """One broken rule: `rule` is its number in responses-stream-rules.md, `index` the offending event's
    position in the sequence (None for a whole-stream problem)."""

    rule: int
    index: int | None
    message: str

    def __str__(self) -> str:
        where = "stream" if self.index is None else f"event {self.index}"
        return f"rule {self.rule} at {where}: {self.message}"


# --- reading untrusted JSON -------------------------------------------------------------------------


def as_wire_event(event: object) -> JSONObject | None:
    """The JSON wire form of `event` (a dict, or an openai event model), None if it is neither."""
    if isinstance(event, dict):
        return event
    if isinstance(event, BaseModel):
        try:
            return event.model_dump(mode="json", by_alias=True, exclude_unset=False, warnings=False)
        except Exception:  # a model_construct()-ed model may hold values pydantic cannot serialise
            return None
    return None


def _int(obj: JSONObject, key: str) -> int | None:
    value = obj.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(obj: JSONObject, key: str) -> str | None:
    value = obj.get(key)
    return value if isinstance(value, str) else None


def _obj(obj: JSONObject, key: str) -> JSONObject | None:
    value = obj.get(key)
    return value if isinstance(value, dict) else None


def _list(obj: JSONObject, key: str) -> list[object] | None:
    value = obj.get(key)
    return value if isinstance(value, list) else None


def _is_empty_list(value: object) -> bool:
    return isinstance(value, list) and not value


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_truthy_json(value: object) -> bool:
    """Python truthiness restricted to JSON values, so a hostile object's __bool__ is never called."""
    if isinstance(value, (str, list, dict, bool)):
        return bool(value)
    if isinstance(value, (int, float)):
        return value != 0
    return value is not None


def show(value: object) -> str:
    """A short repr for messages: long texts are cut, odd objects never make it raise."""
    try:
        return _shower.repr(value)
    except Exception:
        return f"<{type(value).__name__}>"


def text_difference(expected: str, actual: str) -> str | None:
    """None if equal, else where `actual` parts ways with `expected`, the text built from the deltas
    (linear, and run only on a mismatch)."""
    if expected == actual:
        return None
    position = next((k for k, (a, b) in enumerate(zip(expected, actual, strict=False)) if a != b), None)
    if position is None:
        position = min(len(expected), len(actual))
    window = slice(position, position + 20)
    return (
        f"first difference at character {position}: the deltas give {show(expected[window])}, "
        f"it has {show(actual[window])} (lengths {len(expected)} vs {len(actual)})"
    )


def _same_scalar(left: object, right: object) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return left is right
    if isinstance(left, (int, float)) and isinstance(right, (int, float)):
        return left == right
    if isinstance(left, str) and isinstance(right, str):
        return left == right
    return left is right


def json_difference(left: object, right: object) -> str | None:
    """None if the two JSON values are equal, treating a key that is None on one side and missing on the
    other as equal (model dumps carry every optional field, hand-written JSON omits them); else the path
    of the first difference found. Iterative, so deep values cannot overflow the stack."""
    pending: list[tuple[str, object, object]] = [("", left, right)]
    while pending:
        path, a, b = pending.pop()
        if isinstance(a, dict) and isinstance(b, dict):
            keys = sorted(a.keys() | b.keys(), key=str, reverse=True)
            pending.extend((f"{path}.{key}", a.get(key), b.get(key)) for key in keys)
        elif isinstance(a, list) and isinstance(b, list):
            if len(a) != len(b):
                return f"{path or 'value'}: {len(a)} vs {len(b)} entries"
            pending.extend((f"{path}[{k}]", a[k], b[k]) for k in reversed(range(len(a))))
        elif not _same_scalar(a, b):
            return f"{path or 'value'}: {show(a)} vs {show(b)}"
    return None


# --- state ------------------------------------------------------------------------------------------


@dataclass
class _Part:
    """A content part (message text or refusal, raw reasoning text) or a reasoning summary part."""

    kind: str
    index: int
    opened_by_event: bool = True
    chunks: list[str] = field(default_factory=list)
    done_text: str | None = None
    closed: bool = False
    annotations: int = 0
    _joined: str | None = None

    @property
    def is_open(self) -> bool:
        # Raw reasoning opened by its first delta has no part.done; its text.done closes it.
        return not self.closed and (self.opened_by_event or self.done_text is None)

    def add(self, delta: str) -> None:
        self.chunks.append(delta)
        self._joined = None

    def built_text(self) -> str:
        if self._joined is None:
            self._joined = "".join(self.chunks)
        return self._joined


@dataclass
class _Item:
    """What the stream has said so far about one output item."""

    output_index: int
    type: str
    id: str | None
    call_id: str | None
    name: str | None
    added_at: int
    done_at: int | None = None
    done_item: JSONObject | None = None
    content: dict[int, _Part] = field(default_factory=dict)
    summary: dict[int, _Part] = field(default_factory=dict)
    arguments: list[str] = field(default_factory=list)
    arguments_done: str | None = None
    open_at_error: bool = False

    @property
    def label(self) -> str:
        return f"{self.type} {self.id or '<no id>'} (output_index {self.output_index})"

    def built_arguments(self) -> str:
        return "".join(self.arguments)


@dataclass(frozen=True)
class _PartSlot:
    """Where one kind of part lives in an item, and which rules govern it."""

    item_type: str
    key: str  # the event field indexing the part: content_index | summary_index
    kinds: tuple[str, ...]
    rule: int  # order: part added, deltas, text done, part done; dense index; one open at a time
    text_rule: int  # the texts along that chain are equal

    def parts(self, item: _Item) -> dict[int, _Part]:
        return item.summary if self.key == "summary_index" else item.content


_MESSAGE_CONTENT = _PartSlot("message", "content_index", ("output_text", "refusal"), 10, 11)
_REASONING_CONTENT = _PartSlot("reasoning", "content_index", ("reasoning_text",), 15, 15)
_REASONING_SUMMARY = _PartSlot("reasoning", "summary_index", ("summary_text",), 14, 14)


@dataclass(frozen=True)
class _TextStream:
    """One family of delta/done events: the slot it writes into and the part kind it expects."""

    slot: _PartSlot
    kind: str
    done_field: str


_OUTPUT_TEXT = _TextStream(_MESSAGE_CONTENT, "output_text", "text")
_REFUSAL = _TextStream(_MESSAGE_CONTENT, "refusal", "refusal")
_SUMMARY_TEXT = _TextStream(_REASONING_SUMMARY, "summary_text", "text")
_REASONING_TEXT = _TextStream(_REASONING_CONTENT, "reasoning_text", "text")
_TEXT_STREAMS: Final = {
    "response.output_text.delta": _OUTPUT_TEXT,
    "response.output_text.done": _OUTPUT_TEXT,
    "response.refusal.delta": _REFUSAL,
    "response.refusal.done": _REFUSAL,
    "response.reasoning_summary_text.delta": _SUMMARY_TEXT,
    "response.reasoning_summary_text.done": _SUMMARY_TEXT,
    "response.reasoning_text.delta": _REASONING_TEXT,
    "response.reasoning_text.done": _REASONING_TEXT,
}


def _content_slot(item: _Item) -> _PartSlot:
    return _MESSAGE_CONTENT if item.type == "message" else _REASONING_CONTENT


def _is_empty_part(kind: str, part: JSONObject) -> bool:
    if kind == "output_text":
        return part.get("text") == "" and _is_empty_list(part.get("annotations"))
    return part.get(_TEXT_FIELD[kind]) == ""


Handler = Callable[[str, JSONObject], None]


class _StreamChecker:
    def __init__(self) -> None:
        self.violations: list[Violation] = []
        self.index = -1
        self.last_sequence: int | None = None
        self.response_id: str | None = None
        self.terminal_at: int | None = None
        self.terminal_type: str | None = None
        self.items: dict[int, _Item] = {}
        self.open_items: dict[int, _Item] = {}
        self.next_output_index = 0
        self.item_ids: set[str] = set()
        self.call_ids: set[str] = set()
        self.unanswered_errors: list[int] = []
        self.handlers: dict[str, Handler] = {
            **dict.fromkeys(_LIFECYCLE_STATUS, self._on_lifecycle),
            **dict.fromkeys(_TEXT_STREAMS, self._on_text_event),
            "response.output_item.added": self._on_item_added,
            "response.output_item.done": self._on_item_done,
            "response.content_part.added": self._on_content_part_added,
            "response.content_part.done": self._on_content_part_done,
            "response.reasoning_summary_part.added": self._on_summary_part_added,
            "response.reasoning_summary_part.done": self._on_summary_part_done,
            "response.output_text.annotation.added": self._on_annotation,
            "response.function_call_arguments.delta": self._on_arguments_delta,
            "response.function_call_arguments.done": self._on_arguments_done,
            "response.custom_tool_call_input.delta": self._on_arguments_delta,
            "response.custom_tool_call_input.done": self._on_arguments_done,
            "error": self._on_error,
        }

    def report(self, rule: int, message: str) -> None:
        """A violation at the event being checked."""
        self.violations.append(Violation(rule, self.index, message))

    def report_at(self, rule: int, index: int | None, message: str) -> None:
        self.violations.append(Violation(rule, index, message))

    # --- envelope (rules 1-3) ---

    def feed(self, raw: object) -> JSONObject | None:
        self.index += 1
        event = as_wire_event(raw)
        if event is None:
            self.report(1, f"not a Responses event (a dict or an openai event model): {type(raw).__name__}")
            self.last_sequence = 0 if self.last_sequence is None else self.last_sequence + 1
            self._check_position(None)
            return None
        self._check_sequence(_int(event, "sequence_number"))
        event_type = _str(event, "type")
        self._check_position(event_type)
        if event_type is None:
            self.report(1, f"event has no string 'type': {show(event.get('type'))}")
            return event
        problem = _strict_json_problem(event)
        if problem is not None:
            self.report(5, f"{event_type} is not strict JSON: {problem}")
        if event_type != "error" and _is_truthy_json(event.get("error")):
            # The openai SDK raises APIError on any event JSON with a truthy "error" key, mid-stream.
            self.report(3, f"{event_type} has a truthy top-level 'error' key; the openai SDK aborts on it")
        handler = self.handlers.get(event_type)
        if handler is not None:
            handler(event_type, event)
        return event

    def _check_sequence(self, number: int | None) -> None:
        expected = 0 if self.last_sequence is None else self.last_sequence + 1
        if number is None:
            self.report(1, f"sequence_number missing or not an integer (expected {expected})")
            number = expected
        elif number != expected:
            self.report(1, f"sequence_number {number}, expected {expected}")
        self.last_sequence = number  # resync, so one gap is one violation

    def _check_position(self, event_type: str | None) -> None:
        shown = event_type or "a malformed event"
        if self.index == 0 and event_type != "response.created":
            self.report(2, f"first event is {shown}, not response.created")
        elif self.index == 1 and event_type != "response.in_progress":
            self.report(2, f"second event is {shown}, not response.in_progress")
        if self.terminal_at is not None:
            self.report(3, f"{shown} after the terminal {self.terminal_type} (event {self.terminal_at})")

    def finish(self) -> list[Violation]:
        if self.index < 0:
            self.report_at(2, None, "empty stream: no response.created")
        elif self.index == 0:
            self.report_at(2, None, "stream ends after its first event; response.in_progress must follow")
        if self.terminal_at is None:
            # Codex: "stream closed before response.completed"; the SDK raises on EOF.
            self.report_at(3, None, "no terminal response.completed / response.incomplete / response.failed")
        if self.terminal_type not in _CUTTING_TYPES:  # a cut ending's open items are checked there
            for item in self.open_items.values():
                # Codex builds its history from output_item.done: an item without one is lost.
                self.report_at(
                    9, None, f"{item.label} added at event {item.added_at} never gets output_item.done"
                )
        for index in self.unanswered_errors:
            # openai SDK get_final_response() and openai-agents raise on an error event.
            self.report_at(3, index, "error event not followed by response.failed")
        return self.violations

    # --- lifecycle (rules 2, 4, 16-20) ---

    def _on_lifecycle(self, event_type: str, event: JSONObject) -> None:
        response = _obj(event, "response")
        if response is None:
            self.report(4, f"{event_type} has no 'response' object")
            self._mark_terminal(event_type)
            return
        self._check_response_identity(event_type, response)
        self._check_usage(event_type, response)
        if event_type in _OPENING_TYPES:
            self._check_opening(event_type, response)
        else:
            self._on_terminal(event_type, response)

    def _check_response_identity(self, event_type: str, response: JSONObject) -> None:
        response_id = _str(response, "id")
        if response_id is None or not response_id.startswith("resp_") or response_id == "resp_":
            self.report(4, f"{event_type} response.id {show(response.get('id'))} is not a 'resp_…' id")
        if self.response_id is None:
            self.response_id = response_id
        elif response_id != self.response_id:
            # openai SDK: the response id must not change between lifecycle events.
            self.report(4, f"{event_type} response.id {show(response_id)} differs from {self.response_id!r}")
        expected = _LIFECYCLE_STATUS[event_type]
        if response.get("status") != expected:
            self.report(
                4, f"{event_type} has response.status {show(response.get('status'))}, not {expected!r}"
            )

    def _check_opening(self, event_type: str, response: JSONObject) -> None:
        if self.index > 1:  # at 0 and 1, _check_position already names the misplaced event
            self.report(2, f"{event_type} at event {self.index}; only created then in_progress open a stream")
        if not _is_empty_list(response.get("output")):
            # openai 2.x/1.x crash on a null output; an item here has no output_item.added.
            self.report(2, f"{event_type} response.output is {show(response.get('output'))}, expected []")

    def _check_usage(self, event_type: str, response: JSONObject) -> None:
        usage = response.get("usage")
        if usage is None:
            return
        if not isinstance(usage, dict):
            self.report(20, f"{event_type} response.usage is {show(usage)}, not an object")
            return
        missing = [
            key for key in ("input_tokens", "output_tokens", "total_tokens") if not _is_count(usage.get(key))
        ]
        details = {"input_tokens_details": "cached_tokens", "output_tokens_details": "reasoning_tokens"}
        for parent, key in details.items():
            section = _obj(usage, parent)
            if section is None or not _is_count(section.get(key)):
                missing.append(f"{parent}.{key}")
        if missing:
            self.report(20, f"{event_type} usage lacks non-negative integer {', '.join(missing)}")

    def _mark_terminal(self, event_type: str) -> None:
        if event_type in _TERMINAL_TYPES and self.terminal_at is None:
            self.terminal_at, self.terminal_type = self.index, event_type

    def _on_terminal(self, event_type: str, response: JSONObject) -> None:
        self._mark_terminal(event_type)
        self._check_final_output(event_type, response)
        if event_type == "response.failed":
            self._check_failed(response)
            return
        if response.get("error") is not None:
            self.report(16, f"{event_type} has response.error {show(response.get('error'))}, expected null")
        if event_type == "response.completed":
            self._check_completed(response)
        else:
            self._check_incomplete(response)

    def _done_items(self) -> list[_Item]:
        return [item for _, item in sorted(self.items.items()) if item.done_item is not None]

    def _check_final_output(self, event_type: str, response: JSONObject) -> None:
        output = _list(response, "output")
        if output is None:
            self.report(16, f"{event_type} response.output is {show(response.get('output'))}, not a list")
            return
        done = self._done_items()
        cut_ending = event_type in _CUTTING_TYPES
        if len(output) != len(done) and not (cut_ending and len(output) > len(done)):
            ids = ", ".join(item.id or "?" for item in done)
            self.report(
                16, f"{event_type} response.output has {len(output)} items, {len(done)} were done: [{ids}]"
            )
        if cut_ending:
            self._check_cut_output(event_type, output[len(done) :])
        for position, (final, item) in enumerate(zip(output, done, strict=False)):
            difference = json_difference(item.done_item, final)
            if difference is not None:
                self.report(
                    16, f"response.output[{position}] differs from the done {item.label}: {difference}"
                )
                self._check_final_texts(position, final, item)

    def _check_cut_output(self, event_type: str, cut: list[object]) -> None:
        """After the done items: what the ending cut, each ``incomplete``, every open item among them."""
        cut_ids = set()
        for entry in cut:
            status = entry.get("status") if isinstance(entry, dict) else None
            cut_ids.add(_str(entry, "id") if isinstance(entry, dict) else None)
            if status != "incomplete":
                self.report(16, f"{event_type} output {show(entry)} after the done items is not incomplete")
        for item in self.open_items.values():
            if item.id not in cut_ids:
                self.report(16, f"{item.label} was open at {event_type} but is missing from response.output")

    def _check_final_texts(self, position: int, final: object, item: _Item) -> None:
        content = _list(final, "content") if isinstance(final, dict) else None
        if item.type != "message" or content is None:
            return
        for part, entry in zip(item.content.values(), content, strict=False):
            text = entry.get(_TEXT_FIELD[part.kind]) if isinstance(entry, dict) else None
            if isinstance(text, str) and (difference := text_difference(part.built_text(), text)):
                self.report(11, f"response.output[{position}].content[{part.index}] text: {difference}")

    def _check_completed(self, response: JSONObject) -> None:
        if response.get("incomplete_details") is not None:
            details = show(response.get("incomplete_details"))
            self.report(17, f"response.completed has incomplete_details {details}, expected null")
        output = _list(response, "output") or []
        cut = {item.id for item in self._done_items() if _obj_status(item.done_item) == "incomplete"}
        cut |= {
            _str(entry, "id")
            for entry in output
            if isinstance(entry, dict) and entry.get("status") == "incomplete"
        }
        for item_id in sorted(str(item_id) for item_id in cut):
            self.report(17, f"item {item_id} has status 'incomplete' in a response.completed stream")

    def _check_incomplete(self, response: JSONObject) -> None:
        details = _obj(response, "incomplete_details")
        reason = _str(details, "reason") if details is not None else None
        if reason not in _INCOMPLETE_REASONS:
            shown = show(reason if details is not None else response.get("incomplete_details"))
            self.report(18, f"incomplete_details.reason is {shown}, not max_output_tokens/content_filter")
        for item in self.open_items.values():
            if item.type not in _CALL_FIELD:  # a cut call (function or custom) stays unannounced
                self.report(18, f"{item.label} is still open at response.incomplete; close it 'incomplete'")
            elif item.type == "function_call" and _is_json(item.built_arguments()):
                self.report(18, f"{item.label} has complete JSON arguments but is never announced done")
        for item in self._done_items():
            arguments = _str(item.done_item, "arguments") if item.done_item is not None else None
            if item.type == "function_call" and not _is_json(arguments or ""):
                # Codex and the tool loops execute every call announced done.
                self.report(18, f"{item.label} was cut inside its arguments but is announced done")
        if self.items:
            last = self.items[max(self.items)]
            status = _obj_status(last.done_item)
            if last.done_item is not None and status != "incomplete":
                self.report(18, f"{last.label} was cut ({reason}) but is done with status {show(status)}")

    def _check_failed(self, response: JSONObject) -> None:
        error = _obj(response, "error")
        code = _str(error, "code") if error is not None else None
        message = _str(error, "message") if error is not None else None
        if not code or not message:
            self.report(19, f"response.failed needs response.error with code and message, got {show(error)}")
        self.unanswered_errors.clear()

    def _on_error(self, event_type: str, event: JSONObject) -> None:
        if self.terminal_at is not None:
            return  # already reported as an event after the terminal
        self.unanswered_errors.append(self.index)
        for item in self.open_items.values():
            item.open_at_error = True

    # --- output items (rules 6-9) ---

    def _on_item_added(self, event_type: str, event: JSONObject) -> None:
        output_index, item = _int(event, "output_index"), _obj(event, "item")
        if output_index is None or item is None:
            self.report(
                6 if output_index is None else 8, "output_item.added needs integer output_index and an item"
            )
            return
        if output_index in self.items:
            first = self.items[output_index].added_at
            self.report(6, f"output_index {output_index} added again (first added at event {first})")
            return
        if output_index != self.next_output_index:
            self.report(
                6, f"output_index {output_index}, expected {self.next_output_index} (dense, in order)"
            )
        for other in self.open_items.values():
            # Items never overlap: consumers keep one "current item" and the SDK keys state by index.
            self.report(6, f"output_index {output_index} added while {other.label} is still open")
        record = self._register_item(output_index, item)
        self._check_added_item(record, item)

    def _register_item(self, output_index: int, item: JSONObject) -> _Item:
        item_type = _str(item, "type") or "<no type>"
        record = _Item(
            output_index, item_type, _str(item, "id"), _str(item, "call_id"), _str(item, "name"), self.index
        )
        self._check_item_ids(record)
        self.items[output_index] = self.open_items[output_index] = record
        self.next_output_index = output_index + 1
        return record

    def _check_item_ids(self, record: _Item) -> None:
        prefix = _ID_PREFIX.get(record.type, "")
        if not record.id or not record.id.startswith(prefix) or record.id == prefix:
            self.report(7, f"{record.label} needs a non-empty id starting with {prefix!r}")
        elif record.id in self.item_ids:
            self.report(7, f"item id {record.id!r} is used twice")
        self.item_ids.add(record.id or "")
        if record.type not in _CALL_FIELD:
            return
        # openai-agents matches tool outputs to calls by call_id: empty or repeated ids lose results.
        if not record.call_id:
            self.report(7, f"{record.label} has no call_id")
        elif record.call_id in self.call_ids:
            self.report(7, f"call_id {record.call_id!r} is used twice")
        self.call_ids.add(record.call_id or "")

    def _check_added_item(self, record: _Item, item: JSONObject) -> None:
        if record.type == "<no type>":
            self.report(8, f"output_item.added item has no type: {show(item)}")
        if item.get("status") != "in_progress":
            self.report(8, f"added {record.label} has status {show(item.get('status'))}, not 'in_progress'")
        if record.type == "message" and not _is_empty_list(item.get("content")):
            self.report(8, f"added {record.label} has content {show(item.get('content'))}, expected []")
        if record.type in _CALL_FIELD:
            field_name = _CALL_FIELD[record.type]
            if item.get(field_name) != "":
                self.report(
                    8, f"added {record.label} has {field_name} {show(item.get(field_name))}, expected ''"
                )
            if not record.name:
                self.report(8, f"added {record.label} has no name")
        if record.type == "reasoning":
            if not _is_empty_list(item.get("summary")):
                self.report(8, f"added {record.label} has summary {show(item.get('summary'))}, expected []")
            if item.get("content") not in (None, []):
                self.report(8, f"added {record.label} has content {show(item.get('content'))}, expected none")

    def _on_item_done(self, event_type: str, event: JSONObject) -> None:
        output_index, item = _int(event, "output_index"), _obj(event, "item")
        if output_index is None or item is None:
            self.report(9, "output_item.done needs integer output_index and an item")
            return
        record = self.items.get(output_index)
        if record is None:
            self.report(9, f"output_item.done for output_index {output_index}, which was never added")
            return
        if record.done_at is not None:
            self.report(9, f"second output_item.done for {record.label} (first at event {record.done_at})")
            return
        self._check_done_identity(record, item)
        self._check_done_status(record, item)
        self._check_built_item(record, item)
        record.done_at, record.done_item = self.index, item
        del self.open_items[output_index]

    def _check_done_identity(self, record: _Item, item: JSONObject) -> None:
        # The openai SDK and Codex match added to done by type + id (+ call_id for calls).
        keys = ("type", "id", "call_id", "name") if record.type in _CALL_FIELD else ("type", "id")
        added = {"type": record.type, "id": record.id, "call_id": record.call_id, "name": record.name}
        for key in keys:
            # A name missing at added is rule 8's; don't report it again as a change.
            if item.get(key) != added[key] and not (key == "name" and added[key] is None):
                self.report(
                    9, f"done {record.label} has {key} {show(item.get(key))}, added had {show(added[key])}"
                )

    def _check_done_status(self, record: _Item, item: JSONObject) -> None:
        status = item.get("status")
        if status not in _DONE_STATUSES:
            self.report(9, f"done {record.label} has status {show(status)}, not 'completed'/'incomplete'")
        elif record.open_at_error:
            self.report(19, f"{record.label} was open at the error event but is announced done")

    def _check_built_item(self, record: _Item, item: JSONObject) -> None:
        if record.type == "message":
            self._check_built_parts(record, _MESSAGE_CONTENT, item.get("content"))
        elif record.type in _CALL_FIELD:
            self._check_built_arguments(record, item)
        elif record.type == "reasoning":
            self._check_built_reasoning(record, item)

    def _check_built_arguments(self, record: _Item, item: JSONObject) -> None:
        field_name = _CALL_FIELD[record.type]
        if record.arguments_done is None:
            self.report(13, f"output_item.done for {record.label} before its {field_name} .done event")
        arguments = _str(item, field_name)
        if arguments is None:
            self.report(13, f"done {record.label} has no string {field_name}")
        elif difference := text_difference(record.built_arguments(), arguments):
            self.report(13, f"done {record.label} {field_name} differ from the deltas: {difference}")

    def _check_built_reasoning(self, record: _Item, item: JSONObject) -> None:
        self._check_built_parts(record, _REASONING_SUMMARY, item.get("summary"))
        content = item.get("content")
        if record.content or content is not None:
            self._check_built_parts(record, _REASONING_CONTENT, [] if content is None else content)
        encrypted = item.get("encrypted_content")
        if encrypted is not None and not isinstance(encrypted, str):
            self.report(15, f"done {record.label} encrypted_content is {show(encrypted)}, not a string")

    def _check_built_parts(self, record: _Item, slot: _PartSlot, final: object) -> None:
        """The done item's content/summary list equals the parts the events built, all closed."""
        parts = slot.parts(record)
        name = "summary" if slot is _REASONING_SUMMARY else "content"
        for part in parts.values():
            if part.is_open:
                self.report(
                    slot.rule, f"output_item.done for {record.label} while {slot.key} {part.index} is open"
                )
        if not isinstance(final, list):
            self.report(slot.text_rule, f"done {record.label} {name} is {show(final)}, not a list")
            return
        if len(final) != len(parts):
            count = f"{len(final)} {name} entries, the stream built {len(parts)}"
            self.report(slot.text_rule, f"done {record.label} has {count}")
        for part, entry in zip(parts.values(), final, strict=False):
            self._compare_part(slot.text_rule, f"done {record.label} {name}[{part.index}]", part, entry)

    def _compare_part(self, rule: int, where: str, part: _Part, final: object) -> None:
        if not isinstance(final, dict) or final.get("type") != part.kind:
            shown = show(final.get("type")) if isinstance(final, dict) else show(final)
            self.report(rule, f"{where} is {shown}, the stream built a {part.kind} part")
            return
        text = final.get(_TEXT_FIELD[part.kind])
        if not isinstance(text, str):
            self.report(rule, f"{where} has no string {_TEXT_FIELD[part.kind]}")
        elif difference := text_difference(part.built_text(), text):
            self.report(rule, f"{where} differs from the concatenated deltas: {difference}")

    # --- finding the item and part a sub-event writes into ---

    def _target_item(
        self, event_type: str, event: JSONObject, item_types: tuple[str, ...], rule: int
    ) -> _Item | None:
        output_index = _int(event, "output_index")
        if output_index is None:
            self.report(rule, f"{event_type} has no integer output_index")
            return None
        record = self.items.get(output_index)
        if record is None:
            # openai SDK: a delta naming an output_index never added raises.
            self.report(6, f"{event_type} names output_index {output_index}, which was never added")
            return None
        if record.done_at is not None:
            self.report(
                9, f"{event_type} for {record.label} after its output_item.done (event {record.done_at})"
            )
            return None
        if event.get("item_id") != record.id:
            self.report(
                7, f"{event_type} item_id {show(event.get('item_id'))} is not the id of {record.label}"
            )
        if record.type not in item_types:
            self.report(rule, f"{event_type} targets {record.label}, expected a {'/'.join(item_types)} item")
            return None
        return record

    def _open_part(
        self, record: _Item, slot: _PartSlot, index: int, kind: str, opened_by_event: bool
    ) -> _Part:
        parts = slot.parts(record)
        for part in parts.values():
            if part.is_open:
                # One part open at a time: consumers append deltas to "the current part".
                self.report(
                    slot.rule,
                    f"{slot.key} {index} of {record.label} opened while {slot.key} {part.index} is open",
                )
        part = _Part(kind, index, opened_by_event)
        parts[index] = part
        return part

    def _open_part_at(self, event_type: str, record: _Item, slot: _PartSlot, index: int) -> _Part | None:
        part = slot.parts(record).get(index)
        if part is None:
            # openai SDK indexes content[content_index]: a delta before its part.added raises.
            self.report(slot.rule, f"{event_type} for {slot.key} {index} of {record.label}, never added")
            return None
        if not part.is_open:
            self.report(slot.rule, f"{event_type} for {slot.key} {index} of {record.label}, already done")
            return None
        return part

    # --- content parts and summary parts (rules 10-12, 14, 15) ---

    def _on_content_part_added(self, event_type: str, event: JSONObject) -> None:
        record = self._target_item(event_type, event, ("message", "reasoning"), 10)
        if record is not None:
            self._add_part(event_type, event, record, _content_slot(record))

    def _on_content_part_done(self, event_type: str, event: JSONObject) -> None:
        record = self._target_item(event_type, event, ("message", "reasoning"), 10)
        if record is not None:
            self._close_part(event_type, event, record, _content_slot(record))

    def _on_summary_part_added(self, event_type: str, event: JSONObject) -> None:
        record = self._target_item(event_type, event, ("reasoning",), 14)
        if record is not None:
            self._add_part(event_type, event, record, _REASONING_SUMMARY)

    def _on_summary_part_done(self, event_type: str, event: JSONObject) -> None:
        record = self._target_item(event_type, event, ("reasoning",), 14)
        if record is not None:
            self._close_part(event_type, event, record, _REASONING_SUMMARY)

    def _add_part(self, event_type: str, event: JSONObject, record: _Item, slot: _PartSlot) -> None:
        index, part = _int(event, slot.key), _obj(event, "part")
        kind = _str(part, "type") if part is not None else None
        if index is None or part is None or kind is None or kind not in slot.kinds:
            expected = f"an integer {slot.key} and a {'/'.join(slot.kinds)} part"
            self.report(slot.rule, f"{event_type} on {record.label} needs {expected}, got {show(part)}")
            return
        if not _is_empty_part(kind, part):
            self.report(slot.rule, f"{event_type} part must be empty, got {show(part)}")
        parts = slot.parts(record)
        if index != len(parts):
            self.report(
                slot.rule, f"{event_type} {slot.key} {index} on {record.label}, expected {len(parts)}"
            )
        if index not in parts:
            self._open_part(record, slot, index, kind, opened_by_event=True)

    def _close_part(self, event_type: str, event: JSONObject, record: _Item, slot: _PartSlot) -> None:
        index = _int(event, slot.key)
        if index is None:
            self.report(slot.rule, f"{event_type} has no integer {slot.key}")
            return
        part = self._open_part_at(event_type, record, slot, index)
        if part is None:
            return
        where = f"{slot.key} {index} of {record.label}"
        if part.done_text is None:
            self.report(slot.rule, f"{event_type} for {where} before its text done event")
        final = event.get("part")
        self._compare_part(slot.text_rule, f"{event_type} part ({where})", part, final)
        if part.kind == "output_text" and isinstance(final, dict):
            self._check_annotation_count(record, part, final)
        part.closed = True

    # --- text deltas and dones (rules 10, 11, 14, 15) ---

    def _on_text_event(self, event_type: str, event: JSONObject) -> None:
        stream = _TEXT_STREAMS[event_type]
        part = self._text_part(event_type, event, stream)
        if part is None:
            return
        if stream.kind == "output_text" and not isinstance(event.get("logprobs"), list):
            self.report(11, f"{event_type} has logprobs {show(event.get('logprobs'))}, expected a list")
        if event_type.endswith(".delta"):
            self._on_delta(event_type, event, stream, part)
        else:
            self._on_text_done(event_type, event, stream, part)

    def _text_part(self, event_type: str, event: JSONObject, stream: _TextStream) -> _Part | None:
        slot = stream.slot
        record = self._target_item(event_type, event, (slot.item_type,), slot.rule)
        index = _int(event, slot.key)
        if record is None or index is None:
            if record is not None:
                self.report(slot.rule, f"{event_type} has no integer {slot.key}")
            return None
        if stream.kind == "reasoning_text" and index == len(record.content):
            return self._open_part(record, slot, index, stream.kind, opened_by_event=False)
        part = self._open_part_at(event_type, record, slot, index)
        if part is not None and part.kind != stream.kind:
            # openai SDK asserts the part type before it applies a delta.
            self.report(
                slot.rule, f"{event_type} into the {part.kind} part {slot.key} {index} of {record.label}"
            )
            return None
        if part is not None and part.done_text is not None:
            self.report(
                slot.rule, f"{event_type} after the text of {slot.key} {index} of {record.label} was done"
            )
            return None
        return part

    def _on_delta(self, event_type: str, event: JSONObject, stream: _TextStream, part: _Part) -> None:
        delta = _str(event, "delta")
        if delta is None:
            self.report(stream.slot.text_rule, f"{event_type} has no string delta")
        else:
            part.add(delta)

    def _on_text_done(self, event_type: str, event: JSONObject, stream: _TextStream, part: _Part) -> None:
        text = _str(event, stream.done_field)
        if text is None:
            self.report(stream.slot.text_rule, f"{event_type} has no string {stream.done_field}")
        elif difference := text_difference(part.built_text(), text):
            where = f"{stream.slot.key} {part.index}"
            self.report(
                stream.slot.text_rule, f"{event_type} differs from the deltas of {where}: {difference}"
            )
        part.done_text = part.built_text() if text is None else text

    # --- annotations (rule 12) ---

    def _on_annotation(self, event_type: str, event: JSONObject) -> None:
        record = self._target_item(event_type, event, ("message",), 12)
        index = _int(event, "content_index")
        if record is None or index is None:
            if record is not None:
                self.report(12, f"{event_type} has no integer content_index")
            return
        part = self._open_part_at(event_type, record, _MESSAGE_CONTENT, index)
        if part is None or part.kind != "output_text":
            if part is not None:
                self.report(12, f"{event_type} on a {part.kind} part of {record.label}")
            return
        annotation_index = _int(event, "annotation_index")
        if annotation_index != part.annotations:
            shown = show(event.get("annotation_index"))
            self.report(12, f"annotation_index {shown} on content_index {index}, expected {part.annotations}")
        if not isinstance(event.get("annotation"), dict):
            self.report(12, f"{event_type} has no annotation object")
        part.annotations += 1

    def _check_annotation_count(self, record: _Item, part: _Part, final: JSONObject) -> None:
        annotations = final.get("annotations")
        if not isinstance(annotations, list) or len(annotations) != part.annotations:
            shown = len(annotations) if isinstance(annotations, list) else show(annotations)
            where = f"content_index {part.index} of {record.label}"
            self.report(
                12, f"content_part.done for {where} has {shown} annotations, {part.annotations} were added"
            )

    # --- function calls (rule 13) ---

    def _on_arguments_delta(self, event_type: str, event: JSONObject) -> None:
        record = self._target_item(event_type, event, (_call_type(event_type),), 13)
        if record is None:
            return
        delta = _str(event, "delta")
        if record.arguments_done is not None:
            self.report(13, f"{event_type} for {record.label} after its .done event")
        elif delta is None:
            self.report(13, f"{event_type} has no string delta")
        else:
            record.arguments.append(delta)

    def _on_arguments_done(self, event_type: str, event: JSONObject) -> None:
        record = self._target_item(event_type, event, (_call_type(event_type),), 13)
        if record is None:
            return
        if record.arguments_done is not None:
            self.report(13, f"second {event_type} for {record.label}")
            return
        field_name = _CALL_FIELD[record.type]
        arguments = _str(event, field_name)
        if arguments is None:
            self.report(13, f"{event_type} has no string {field_name}")
        elif difference := text_difference(record.built_arguments(), arguments):
            self.report(13, f"{event_type} for {record.label} differs from the deltas: {difference}")
        record.arguments_done = record.built_arguments() if arguments is None else arguments
        name = event.get("name")  # openai 2.x carries the function name here too; 3.x does not
        if name is not None and record.name is not None and name != record.name:
            self.report(
                13, f"{event_type} names function {show(name)}, {record.label} is {show(record.name)}"
            )


def _call_type(event_type: str) -> str:
    custom = event_type.startswith("response.custom_tool_call_input.")
    return "custom_tool_call" if custom else "function_call"


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _obj_status(item: JSONObject | None) -> object:
    return item.get("status") if item is not None else None


# --- SSE framing (rule 5) ---------------------------------------------------------------------------


def _frame_text(frame: object) -> str | None:
    if isinstance(frame, str):
        return frame
    if isinstance(frame, (bytes, bytearray)):
        try:
            return bytes(frame).decode("utf-8")
        except UnicodeDecodeError:
            return None
    return None


def _frame_payload(text: str) -> tuple[str | None, JSONObject | None]:
    """(problem, payload) for one `event: <type>\\ndata: <json>\\n\\n` frame."""
    match = _SSE_FRAME.fullmatch(text)
    if match is None:
        return f"frame is not exactly 'event: <type>\\ndata: <json>\\n\\n': {show(text)}", None
    name, data = match.groups()
    try:
        payload = json.loads(data)
    except (ValueError, RecursionError):
        return f"data is not JSON: {show(data)}", None
    if not isinstance(payload, dict):
        return f"data is not a JSON object: {show(data)}", None
    problem = _strict_json_problem(payload)
    if problem is not None:
        return f"data is not strict JSON: {problem}", payload
    if payload.get("type") != name:
        # Open Responses compliance; the openai SDK also routes on the SSE event name.
        return f"'event: {name}' but the JSON type is {show(payload.get('type'))}", payload
    return None, payload


def _strict_json_problem(value: JSONObject) -> str | None:
    """Why ``value`` is not strict JSON that encodes as UTF-8, or None."""
    try:
        json.dumps(value, allow_nan=False, ensure_ascii=False).encode("utf-8")
    except ValueError as exc:  # UnicodeEncodeError is a ValueError too
        return "a lone surrogate" if isinstance(exc, UnicodeEncodeError) else "NaN or Infinity"
    except (TypeError, RecursionError):
        return None  # not JSON-ready at all: the rule that owns the field reports it
    return None


def check_sse_frames(frames: Sequence[bytes | str], events: Sequence[JSONObject | None]) -> list[Violation]:
    """Rule 5: each write is one frame, `event:` equals the JSON type, the k-th data frame carries the
    k-th event, and `data: [DONE]` may only come last."""
    violations: list[Violation] = []
    data_frames = 0
    for position, frame in enumerate(frames):
        text = _frame_text(frame)
        if text == _SSE_DONE:
            if position != len(frames) - 1:
                violations.append(Violation(5, position, "data: [DONE] before the last frame"))
            continue
        event = events[data_frames] if data_frames < len(events) else None
        problem = _frame_problem(frame, text, event, data_frames)
        if problem is not None:
            violations.append(Violation(5, position, problem))
        data_frames += 1
    if data_frames != len(events):
        violations.append(Violation(5, None, f"{data_frames} SSE data frames for {len(events)} events"))
    return violations


def _frame_problem(frame: object, text: str | None, event: JSONObject | None, event_index: int) -> str | None:
    if text is None:
        return f"frame is {type(frame).__name__}, not UTF-8 bytes or str"
    problem, payload = _frame_payload(text)
    if problem is None and payload is not None and event is not None:
        difference = json_difference(event, payload)
        problem = None if difference is None else f"frame does not carry event {event_index}: {difference}"
    return problem


# --- public entry points ----------------------------------------------------------------------------


def check_stream(
    events: Iterable[object], *, sse_frames: Sequence[bytes | str] | None = None
) -> list[Violation]:
    """Every rule of docs/responses-stream-rules.md the stream breaks, in event order ([] if none).

    `events` are openai `ResponseStreamEvent` models or their JSON wire dicts, mixed freely. With
    `sse_frames` (the bytes/str written to the wire, one per write), SSE framing (rule 5) is checked too.
    Never raises on malformed events: they are reported as violations.
    """
    checker = _StreamChecker()
    wire: list[JSONObject | None] = []
    try:
        iterator = iter(events)
    except TypeError:
        return [Violation(1, None, f"events is a {type(events).__name__}, not an iterable of events")]
    for event in iterator:
        fed = checker.feed(event)
        if sse_frames is not None:
            wire.append(fed)
    violations = checker.finish()
    if sse_frames is not None:
        violations += _check_frames_argument(sse_frames, wire)
    return sorted(violations, key=lambda v: (v.index is None, v.index or 0))  # stable: emission order kept


def _check_frames_argument(sse_frames: object, wire: list[JSONObject | None]) -> list[Violation]:
    if isinstance(sse_frames, (str, bytes)) or not isinstance(sse_frames, Iterable):
        return [Violation(5, None, f"sse_frames is a {type(sse_frames).__name__}, not a sequence of frames")]
    return check_sse_frames(list(sse_frames), wire)


def assert_stream_ok(events: Iterable[object], *, sse_frames: Sequence[bytes | str] | None = None) -> None:
    """Raise AssertionError listing every violation `check_stream` finds."""
    __tracebackhide__ = True  # pytest: show the caller's line, not this one
    violations = check_stream(events, sse_frames=sse_frames)
    if violations:
        listing = "\n".join(f"  - {violation}" for violation in violations)
        raise AssertionError(f"{len(violations)} Responses stream rule violation(s):\n{listing}")
