"""The core: a sans-IO state machine from Chat Completions chunks to Responses stream events.

Theory of operation
-------------------
``feed(chunk)`` normalises the chunk (``_chunks.read_chunk``) and applies its parts in order; a chunk that
is one plain delta (``_chunks.read_plain_part``, nine in ten) goes straight to that part's handler, as
``_apply`` would send it. ``finish(error=...)`` ends the response. Both return the events they produced,
as plain JSON-ready dicts (the wire form); ``ChatCmplStreamHandler`` turns them into
``openai.types.responses`` models.

One item is open at a time (``self._current``): a message, a reasoning item or a function call. Whatever
arrives decides what is open: text or a refusal needs a message, reasoning needs a reasoning item, a tool
call fragment needs its call. Anything of another kind first closes the open item, through the one
function that closes items (``_close_current``), so items never overlap and output order is arrival order:
reasoning that resumes after text opens a new reasoning item, text after a tool call a new message.

Tool calls are tracked apart from items, because providers do not stream them one after another:
fragments may lack an ``index`` (Gemini, Mistral), reuse an index for a new id, bring the id late, or
interleave two calls. Every fragment goes to its call (``_call_for``); a call becomes an item only when it
has a name and id and the item before it can close — a streaming call closes early only once its
arguments are complete JSON. Until then its fragments are buffered, never dropped. Anything else
(text, reasoning, a finish reason, the end) flushes the calls still waiting, synthesising a ``call_id`` for
a provider that never sent one. A custom tool call is a call whose free-form input is never judged
complete; a function call that closes with no arguments at all gets ``{}`` (always JSON, as the API sends).
A call with no function name yet is set aside by a flush, not emitted: it waits again once its name comes;
if it never does, a response that would complete fails at its end, once (a cut stays ``incomplete``).
Whether a call's arguments are complete JSON is followed incrementally (``_json_end``), so a call waiting
behind a long streaming one costs nothing per fragment.

Every upstream string goes through ``_unicode.valid_text`` on the way in (an emoji cut between two deltas
is joined by ``_join_half``, any other lone surrogate becomes U+FFFD) and every logprob is a finite number
(``_chunks``), so each event is strict JSON that encodes as UTF-8.

The response ends exactly once (``_terminate``): ``completed`` on ``stop``/``tool_calls`` or a clean end,
``incomplete`` on ``length``/``content_filter``, ``failed`` on an error object in the stream, an exception
passed to ``finish``, a stream that ends inside a call's arguments with no ``finish_reason`` (or with none
at all, under ``require_finish_reason``), output it cannot carry (audio), or input that is not a chunk.
An item is announced done (``response.output_item.done``) only when the upstream finished it, because
Codex executes and replays every item it is told is done: a failure announces nothing more, and a length
or filter cut closes the open message or reasoning as ``incomplete`` but never a call whose arguments are
not complete JSON. What the ending cut goes into the terminal response's ``output`` after
the done items, status ``incomplete`` (``_cut_open_items``), so everything received so far is kept.
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import Mapping
from typing import Any, Final, Literal

from . import _chunks as c
from ._carriers import encode_carriers
from ._ids import IdFactory, random_id
from ._json_end import JsonEnd
from ._think import ThinkTagParser
from ._unicode import valid_json, valid_json_document, valid_text

Event = dict[str, Any]
ReasoningMode = Literal["summary", "text"]

_REPLACEMENT: Final = "\ufffd"
_STREAMED_TEXT: Final = frozenset({c.REASONING, c.SUMMARY, c.REFUSAL})  # parts that stream in deltas

# finish_reason → (response status, incomplete reason). Anything unknown ends the response as completed.
_FINISH: dict[str, tuple[str, str | None]] = {
    "length": ("incomplete", "max_output_tokens"),
    "max_tokens": ("incomplete", "max_output_tokens"),
    "content_filter": ("incomplete", "content_filter"),
    "safety": ("incomplete", "content_filter"),  # Gemini native names, passed through by some gateways
    "recitation": ("incomplete", "content_filter"),
    # vLLM reports an aborted request as finish_reason "abort": that is a broken upstream, not an answer.
    "function_call": ("completed", None),  # the legacy functions API
    "abort": ("failed", None),
    "error": ("failed", None),
}

_TEMPLATE_DEFAULTS: dict[str, Any] = {
    "instructions": None,
    "metadata": {},
    "parallel_tool_calls": True,
    "temperature": None,
    "tool_choice": "auto",
    "tools": [],
    "top_p": None,
}


class TextBuffer:
    """Streamed text, joined once: pieces are folded into ~1 KB blocks as they come.

    A plain list of 100k deltas costs ~50 bytes of object header per delta, 15× the text itself; blocks
    keep memory close to the text while every character is still copied only a bounded number of times.
    """

    __slots__ = ("_blocks", "_pieces", "length")
    _FOLD = 64

    def __init__(self) -> None:
        self._blocks: list[str] = []
        self._pieces: list[str] = []
        self.length = 0

    def __bool__(self) -> bool:
        return self.length > 0

    def append(self, text: str) -> None:
        self._pieces.append(text)
        self.length += len(text)
        if len(self._pieces) >= self._FOLD:
            self._blocks.append("".join(self._pieces))
            self._pieces.clear()

    def value(self) -> str:
        """The whole text; afterwards the buffer holds just that one string."""
        if self._pieces:
            self._blocks.append("".join(self._pieces))
            self._pieces.clear()
        if len(self._blocks) > 1:
            self._blocks = ["".join(self._blocks)]
        return self._blocks[0] if self._blocks else ""

    def since(self, offset: int) -> str:
        """The text from ``offset`` on; costs the length of that tail, not of the whole text."""
        tail: list[str] = []
        end = self.length
        for piece in itertools.chain(reversed(self._pieces), reversed(self._blocks)):  # lazily: few needed
            if end <= offset:
                break
            start = end - len(piece)
            tail.append(piece[offset - start :] if offset > start else piece)
            end = start
        return "".join(reversed(tail))


class _Message:
    __slots__ = ("annotations", "id", "index", "logprobs", "part_kind", "parts", "text")

    def __init__(self, item_id: str, index: int) -> None:
        self.id, self.index = item_id, index
        self.parts: list[dict[str, Any]] = []  # closed content parts
        self.part_kind: str | None = None  # "output_text" | "refusal" while a part is open
        self.text = TextBuffer()
        self.logprobs: list[dict[str, Any]] = []
        self.annotations: list[dict[str, Any]] = []


class _Reasoning:
    __slots__ = ("carriers", "id", "index", "raw", "sealed", "summary", "summary_open")

    def __init__(self, item_id: str, index: int) -> None:
        self.id, self.index = item_id, index
        self.summary = TextBuffer()
        self.summary_open = False
        self.raw = TextBuffer()
        self.carriers: list[dict[str, Any]] = []
        self.sealed = False  # its block's signature came: more reasoning is another block, another item


class _Call:
    __slots__ = (
        "args",
        "call_id",
        "carrier",
        "checked_len",
        "custom",
        "end",
        "id",
        "index",
        "name",
        "state",
    )

    # NAMELESS: flushed while it still had no function name, so set aside rather than emitted; it waits
    # again once its name comes; if it never does, a response that would complete fails (``_terminate``).
    PENDING, OPEN, DONE, NAMELESS = 0, 1, 2, 3

    def __init__(self, fragment: c.ToolFragment) -> None:
        self.call_id = fragment.call_id
        self.name = fragment.name
        self.carrier = fragment.carrier
        self.custom = fragment.custom  # a custom_tool_call: ``args`` is its free-form input
        self.args = TextBuffer()
        self.state = _Call.PENDING
        self.id = ""
        self.index = -1
        self.end = JsonEnd()  # whether the arguments are complete JSON, followed lazily (_args_complete)
        self.checked_len = 0


Item = _Message | _Reasoning | _Call


class StreamTranslator:
    """Chat Completions chunks in, Responses events (dicts) out. One instance per response."""

    def __init__(
        self,
        *,
        response: Mapping[str, Any] | None = None,
        ids: IdFactory | None = None,
        reasoning: ReasoningMode = "summary",
        think_tags: bool = True,
        choice_index: int = 0,
        require_finish_reason: bool = False,
    ) -> None:
        if reasoning not in ("summary", "text"):
            raise ValueError(f"reasoning must be 'summary' or 'text', not {reasoning!r}")
        self._ids: IdFactory = ids or random_id
        self._raw_as_summary = reasoning == "summary"
        self._choice_index = choice_index
        self._require_finish_reason = require_finish_reason
        # Echoed in every lifecycle event: a lone surrogate from the caller (a request's instructions) would
        # make each of them unencodable, as one from the upstream would.
        self._template = valid_json_document(dict(response or {}))
        template_id = self._template.get("id")
        self.response_id = (
            template_id
            if isinstance(template_id, str) and template_id.startswith("resp_")
            else self._ids("resp")
        )
        self._think: ThinkTagParser | None = ThinkTagParser() if think_tags else None
        self._held_logprobs: list[dict[str, Any]] = []
        self._half: tuple[str | _Call, str] | None = None  # (channel, high surrogate) held back
        self._seq = 0
        self._out: list[Event] = []
        self._started = False
        self.done = False
        self.status: str | None = None
        self._output: list[dict[str, Any]] = []  # items announced done, in output_index order
        self._cut: list[dict[str, Any]] = []  # items the ending cut: in the terminal output, never done
        self._current: Item | None = None
        self._calls_by_index: dict[int, _Call] = {}
        self._calls_by_id: dict[str, _Call] = {}
        self._last_call: _Call | None = None
        self._waiting: deque[_Call] = deque()  # calls seen but not yet items, in arrival order
        self._nameless: list[_Call] = []  # calls set aside by a flush for want of a name
        self._finish_reason: str | None = None
        self._usage: dict[str, Any] | None = None
        self._citations: list[str] = []
        self._cited: set[str] = set()
        self._model: str = str(self._template.get("model") or "")
        self._created_at: float | None = self._template.get("created_at")

    # ------------------------------------------------------------------ public surface

    def feed(self, chunk: Any) -> list[Event]:
        """Apply one chunk (dict or SDK model); returns the events it produced."""
        plain = self.feed_plain(chunk)
        return plain if plain is not None else self._feed_whole(chunk)

    def feed_plain(self, chunk: Any, *, tools: bool = True) -> list[Event] | None:
        """``feed`` for a chunk that is one plain delta (text, reasoning or, with ``tools``, a tool call
        fragment) and nothing else: nine chunks in ten. ``None``, having done nothing, for any other chunk
        (then ``feed`` it): a caller that must look at every other chunk reads the plain ones only once."""
        if self.done or not (self._started and self._model):
            return None
        plain = c.read_plain_part(chunk, self._choice_index)
        if plain is None or (not tools and plain[0] == c.TOOL):
            return None
        out: list[Event] = []
        self._out = out
        try:  # what _apply would do with a view of just that part
            kind, value = plain
            if kind == c.TEXT:
                self._on_text(value, None)
            elif kind == c.TOOL:
                self._on_tool(value)
            else:
                self._on_other(kind, value)
        except Exception as exc:  # the core never raises on input: a bug must not lose the stream
            self._fail_internal(exc)
        return out

    def _feed_whole(self, chunk: Any) -> list[Event]:
        if self.done:
            return []
        out: list[Event] = []
        self._out = out
        try:
            if not isinstance(chunk, Mapping) and not hasattr(chunk, "choices"):
                self._start(None)
                self._terminate_failed(
                    "server_error",
                    f"invalid_chunk: expected a chat completion chunk object, got {chunk!r:.200}",
                )
                return out
            view = c.read_chunk(chunk, self._choice_index)
            if not self._started:
                self._start(view)
            self._apply(view)
        except Exception as exc:  # the core never raises on input: a bug must not lose the stream
            self._fail_internal(exc)
        return out

    def finish(self, *, error: BaseException | None = None) -> list[Event]:
        """End of the upstream stream; ``error`` when it broke (exception, disconnect)."""
        if self.done:
            return []
        out: list[Event] = []
        self._out = out
        try:
            self._start(None)
            if error is not None:
                self._terminate_failed(*_describe_exception(error))
            elif self._finish_reason is None and self._inside_arguments():
                # No finish_reason and a call's JSON still open: the stream was cut, not finished.
                self._terminate_failed(
                    "server_error",
                    "the upstream stream ended inside a tool call's arguments (no finish_reason)",
                )
            elif self._finish_reason is None and self._require_finish_reason:
                self._terminate_failed(
                    "server_error",
                    "upstream stream ended without a finish_reason (require_finish_reason is on): it was cut",
                )
            else:
                status, reason = _FINISH.get(self._finish_reason or "stop", ("completed", None))
                if status == "failed":
                    self._terminate_failed("server_error", f"upstream finished with {self._finish_reason!r}")
                else:
                    self._terminate(status, incomplete_reason=reason)
        except Exception as exc:
            self._fail_internal(exc)
        return out

    # ------------------------------------------------------------------ dispatch

    def _start(self, view: c.ChunkView | None) -> None:
        if self._started:
            return
        self._started = True
        if view is not None:
            self._model = self._model or valid_text(view.model or "")
            if self._created_at is None and view.created:
                self._created_at = view.created
        if self._created_at is None:
            self._created_at = int(time.time())
        self._emit({"type": "response.created", "response": self._response("in_progress")})
        self._emit({"type": "response.in_progress", "response": self._response("in_progress")})

    def _apply(self, view: c.ChunkView) -> None:
        if view.model and not self._model:
            self._model = valid_text(view.model)  # Azure's first chunk has model ""
        if view.usage is not None:  # the last non-null usage wins (Groq sends it twice, Neon every chunk)
            self._usage = view.usage
        if view.citations:
            self._citations = valid_json(view.citations)
        logprobs = view.logprobs
        for kind, value in view.parts:
            if kind == c.TEXT:
                self._on_text(value, logprobs)
                logprobs = None
            elif kind == c.TOOL:
                self._on_tool(value)
            else:
                self._on_other(kind, value)
            if self.done:
                return
        if view.error is not None:
            self._terminate_failed(*_describe_provider_error(view.error))
        elif view.finish_reason and self._finish_reason is None:
            self._finish_reason = view.finish_reason
            status, _ = _FINISH.get(view.finish_reason, ("completed", None))
            # Close everything now, not at [DONE]: a tool loop can start the calls while usage still streams.
            # A failed ending (vLLM abort) closes nothing: finish() cuts what is open.
            if status != "failed":
                self._close_all(status)

    def _on_other(self, kind: str, value: Any) -> None:
        if isinstance(value, str):
            if self._half is not None or not value.isascii():  # else: nothing to join or replace
                value = self._join_half(kind, value, hold=kind in _STREAMED_TEXT)
            if not value:
                return  # only half of an emoji: it waits for its other half
        else:
            self._settle_half()
            value = valid_json(value)
        self._release_think()
        if kind == c.REASONING:
            self._append_reasoning(value, summary=self._raw_as_summary)
        elif kind == c.SUMMARY:
            self._append_reasoning(value, summary=True)
        elif kind == c.CARRIER:
            self._on_carrier(value)
        elif kind == c.REFUSAL:
            self._append_to_message("refusal", value, None)
        elif kind == c.ANNOTATION:
            self._on_annotation(value)
        elif kind == c.UNSUPPORTED:
            self._terminate_failed("server_error", value)

    def _on_text(self, text: str, logprobs: list[dict[str, Any]] | None) -> None:
        if self._half is not None or not text.isascii():  # else: nothing to join or replace
            text = self._join_half(c.TEXT, text, hold=not logprobs)  # a half with logprobs is not held back
        if logprobs:
            logprobs = valid_json(logprobs)  # tokens are text too: a token may be half an emoji
        elif not text:
            return  # only half of an emoji: it waits for its other half
        self._route_text(text, logprobs)

    def _route_text(self, text: str, logprobs: list[dict[str, Any]] | None) -> None:
        """Content to the message, or to reasoning inside leading ``<think>`` tags."""
        think = self._think
        if think is None:
            self._append_to_message("output_text", text, logprobs)
            return
        held = self._held_logprobs  # extended in place: blank deltas may pile up before the first tag
        if logprobs:
            held.extend(logprobs)
        self._held_logprobs = []
        for kind, piece in think.feed(text):
            if kind == c.REASONING:
                self._append_reasoning(piece, summary=self._raw_as_summary)
            else:
                self._append_to_message("output_text", piece, held)
                held = []
        if think.holding_start:
            self._held_logprobs = held  # "<" may still turn out to be text: its logprobs go with it
        if think.done:
            self._think = None  # past the start of the content: no more tag parsing, no more cost

    def _join_half(self, channel: str | _Call, text: str, *, hold: bool = True) -> str:
        """Upstream text of one channel (text, reasoning, summary, refusal, a call's arguments) made valid.

        A JavaScript server slicing its UTF-16 strings may end a delta on the first half of an emoji and
        start the next delta of the same channel with the second: a trailing high surrogate is held back
        for that next delta, where the pair is joined. Anything else first settles it (``_settle_half``).
        """
        if self._half is not None:
            if self._half[0] == channel:
                text, self._half = self._half[1] + text, None
            else:
                self._settle_half()
        if text.isascii():
            return text
        if hold and "\ud800" <= text[-1] <= "\udbff":
            self._half, text = (channel, text[-1]), text[:-1]
        return valid_text(text)

    def _settle_half(self) -> None:
        """The held half of an emoji got no second half: it is emitted in its channel as U+FFFD."""
        if self._half is None:
            return
        channel, self._half = self._half[0], None
        if isinstance(channel, _Call):
            self._append_arguments(channel, _REPLACEMENT)
        elif channel == c.TEXT:
            self._route_text(_REPLACEMENT, None)
        elif channel == c.REFUSAL:
            self._append_to_message("refusal", _REPLACEMENT, None)
        else:
            self._append_reasoning(_REPLACEMENT, summary=channel == c.SUMMARY or self._raw_as_summary)

    def _release_think(self) -> None:
        """Another kind of output arrived: what the tag parser held back comes first (arrival order)."""
        think = self._think
        if think is None or not think.holding:
            return  # nothing held back (logprobs are only ever held with held-back text)
        held, self._held_logprobs = self._held_logprobs, []
        for kind, piece in think.flush():
            if kind == c.REASONING:
                self._append_reasoning(piece, summary=self._raw_as_summary)
            else:
                self._append_to_message("output_text", piece, held)
        if think.done:
            self._think = None

    # ------------------------------------------------------------------ emission helpers

    def _emit(self, event: Event) -> None:
        event["sequence_number"] = self._seq
        self._seq += 1
        self._out.append(event)

    def _response(self, status: str) -> dict[str, Any]:
        response = {**_TEMPLATE_DEFAULTS, **self._template}
        response.update(
            id=self.response_id,
            object="response",
            created_at=self._created_at,
            model=self._model,
            status=status,
            output=[] if status == "in_progress" else [*self._output, *self._cut],
            error=None,
            incomplete_details=None,
            usage=None if status == "in_progress" else self._usage,
        )
        return response

    # ------------------------------------------------------------------ messages

    def _message(self) -> _Message:
        current = self._current
        if isinstance(current, _Message):
            return current
        self._flush_calls("completed")
        self._close_current("completed")
        message = _Message(self._ids("msg"), len(self._output))
        self._current = message
        self._emit_item_added(
            {
                "type": "message",
                "id": message.id,
                "status": "in_progress",
                "role": "assistant",
                "content": [],
            },
            message.index,
        )
        return message

    def _append_to_message(self, part_kind: str, text: str, logprobs: list[dict[str, Any]] | None) -> None:
        message = self._current
        if not (isinstance(message, _Message) and message.part_kind == part_kind):  # else: the common case
            message = self._message()
            self._open_part(message, part_kind)
        message.text.append(text)
        if part_kind == "refusal":
            self._emit(
                {
                    "type": "response.refusal.delta",
                    "item_id": message.id,
                    "output_index": message.index,
                    "content_index": len(message.parts),
                    "delta": text,
                }
            )
            return
        if logprobs:
            message.logprobs.extend(logprobs)
        self._emit(
            {
                "type": "response.output_text.delta",
                "item_id": message.id,
                "output_index": message.index,
                "content_index": len(message.parts),
                "delta": text,
                "logprobs": [_delta_logprob(lp) for lp in logprobs] if logprobs else [],
            }
        )

    def _open_part(self, message: _Message, part_kind: str) -> None:
        if message.part_kind == part_kind:
            return
        if message.part_kind is not None:
            self._close_part(message)
        message.part_kind = part_kind
        empty = (
            {"type": "refusal", "refusal": ""}
            if part_kind == "refusal"
            else {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
        )
        self._emit(
            {
                "type": "response.content_part.added",
                "item_id": message.id,
                "output_index": message.index,
                "content_index": len(message.parts),
                "part": empty,
            }
        )

    def _close_part(self, message: _Message) -> None:
        kind = message.part_kind
        if kind is None:
            return
        location = {"item_id": message.id, "output_index": message.index, "content_index": len(message.parts)}
        if kind == "output_text":
            self._cite(message, message.text.value(), location)
        part = _open_part_so_far(message)
        if kind == "refusal":
            self._emit({"type": "response.refusal.done", **location, "refusal": part["refusal"]})
        else:
            self._emit(
                {
                    "type": "response.output_text.done",
                    **location,
                    "text": part["text"],
                    "logprobs": [_delta_logprob(lp) for lp in message.logprobs],
                }
            )
        self._emit({"type": "response.content_part.done", **location, "part": part})
        message.parts.append(part)
        message.part_kind, message.text, message.logprobs, message.annotations = None, TextBuffer(), [], []

    def _on_annotation(self, annotation: dict[str, Any]) -> None:
        message = self._message()
        self._open_part(message, "output_text")
        self._add_annotation(message, annotation)

    def _add_annotation(self, message: _Message, annotation: dict[str, Any]) -> None:
        self._emit(
            {
                "type": "response.output_text.annotation.added",
                "item_id": message.id,
                "output_index": message.index,
                "content_index": len(message.parts),
                "annotation_index": len(message.annotations),
                "annotation": annotation,
            }
        )
        message.annotations.append(annotation)

    def _cite(self, message: _Message, text: str, location: dict[str, Any]) -> None:
        """Perplexity's ``citations`` (URLs the text cites as [1], [2]…) as url_citation annotations."""
        for number, url in enumerate(self._citations, start=1):
            if url in self._cited:
                continue
            self._cited.add(url)
            marker = f"[{number}]"
            start = text.find(marker)
            span = (start, start + len(marker)) if start >= 0 else (0, 0)
            annotation = {
                "type": "url_citation",
                "url": url,
                "title": url,
                "start_index": span[0],
                "end_index": span[1],
            }
            self._add_annotation(message, annotation)

    # ------------------------------------------------------------------ reasoning

    def _reasoning(self) -> _Reasoning:
        current = self._current
        if isinstance(current, _Reasoning) and not current.sealed:
            return current
        self._flush_calls("completed")
        return self._start_reasoning()

    def _start_reasoning(self) -> _Reasoning:
        self._close_current("completed")
        item = _Reasoning(self._ids("rs"), len(self._output))
        self._current = item
        self._emit_item_added(
            {"type": "reasoning", "id": item.id, "summary": [], "status": "in_progress"}, item.index
        )
        return item

    def _append_reasoning(self, text: str, *, summary: bool) -> None:
        item = self._reasoning()
        if not summary:
            item.raw.append(text)
            self._emit(
                {
                    "type": "response.reasoning_text.delta",
                    "item_id": item.id,
                    "output_index": item.index,
                    "content_index": 0,
                    "delta": text,
                }
            )
            return
        if not item.summary_open:
            item.summary_open = True
            self._emit(
                {
                    "type": "response.reasoning_summary_part.added",
                    "item_id": item.id,
                    "output_index": item.index,
                    "summary_index": 0,
                    "part": {"type": "summary_text", "text": ""},
                }
            )
        item.summary.append(text)
        self._emit(
            {
                "type": "response.reasoning_summary_text.delta",
                "item_id": item.id,
                "output_index": item.index,
                "summary_index": 0,
                "delta": text,
            }
        )

    def _on_carrier(self, carrier: dict[str, Any]) -> None:
        # A signature belongs with the reasoning it signs; one with no reasoning open gets its own item.
        item = self._reasoning()
        item.carriers.append(carrier)
        item.sealed = c.ends_block(carrier)

    def _close_reasoning(self, item: _Reasoning, status: str) -> dict[str, Any]:
        location = {"item_id": item.id, "output_index": item.index}
        done = _reasoning_item(item, status)
        if item.summary_open:
            part = done["summary"][0]
            self._emit(
                {
                    "type": "response.reasoning_summary_text.done",
                    **location,
                    "summary_index": 0,
                    "text": part["text"],
                }
            )
            self._emit(
                {"type": "response.reasoning_summary_part.done", **location, "summary_index": 0, "part": part}
            )
        if item.raw:
            text = done["content"][0]["text"]
            self._emit({"type": "response.reasoning_text.done", **location, "content_index": 0, "text": text})
        return done

    # ------------------------------------------------------------------ tool calls

    def _on_tool(self, fragment: c.ToolFragment) -> None:
        if fragment.call_id or fragment.name or fragment.carrier is not None:  # most carry arguments only
            _make_valid(fragment)
        if self._half is not None and not isinstance(self._half[0], _Call):
            self._settle_half()  # half an emoji of text or reasoning: it came before this fragment
        self._release_think()  # before _call_for: flushing text flushes the calls waiting until now
        call = self._call_for(fragment)
        arguments = fragment.arguments
        if self._half is not None or not arguments.isascii():
            arguments = self._join_half(call, arguments)  # joins its own half, settles another's
        if fragment.call_id and not call.call_id:
            call.call_id = fragment.call_id  # the id arrived late (after name or arguments)
        if fragment.name and not call.name:
            call.name = fragment.name
            if call.state == _Call.NAMELESS:  # its name came after all: it can become an item now
                call.state = _Call.PENDING
                self._waiting.append(call)
        if fragment.carrier is not None and call.carrier is None:
            call.carrier = fragment.carrier
        if fragment.custom and call.state == _Call.PENDING:
            call.custom = True  # the type may come on any fragment before the call is an item
        if arguments:
            self._append_arguments(call, arguments)
            if self.done:
                return
        self._advance_calls()

    def _call_for(self, fragment: c.ToolFragment) -> _Call:
        """The call a fragment belongs to; a new one when nothing says it continues an earlier call."""
        call: _Call | None = None
        if fragment.index is not None:
            call = self._calls_by_index.get(fragment.index)
            if call is not None and fragment.call_id and call.call_id and fragment.call_id != call.call_id:
                call = None  # the index is reused by a new id: another call
            if call is None and fragment.call_id:
                call = self._calls_by_id.get(fragment.call_id)
        elif fragment.call_id:
            call = self._calls_by_id.get(fragment.call_id)
        else:
            # No index, no id (Gemini compat sends each call whole in its own chunk): it continues the
            # latest call, unless it names a function of its own and the latest call is already whole.
            last = self._last_call
            starts_new = bool(fragment.name and last is not None and last.name and _args_complete(last))
            if last is not None and not starts_new:
                call = last
        if call is None:
            call = _Call(fragment)
            self._waiting.append(call)
        if fragment.index is not None:
            self._calls_by_index[fragment.index] = call
        if fragment.call_id:
            self._calls_by_id.setdefault(fragment.call_id, call)
        self._last_call = call
        return call

    def _append_arguments(self, call: _Call, arguments: str) -> None:
        if call.state == _Call.DONE:
            if arguments.strip():
                self._terminate_failed(
                    "server_error",
                    f"tool call {call.call_id!r} ({call.name!r}) got more arguments after it was closed: "
                    f"{arguments!r:.200}",
                )
            return
        call.args.append(arguments)
        if call.state == _Call.OPEN:
            self._emit_arguments_delta(call, arguments)

    def _emit_arguments_delta(self, call: _Call, delta: str) -> None:
        kind = "custom_tool_call_input" if call.custom else "function_call_arguments"
        self._emit(
            {"type": f"response.{kind}.delta", "item_id": call.id, "output_index": call.index, "delta": delta}
        )

    def _advance_calls(self) -> None:
        """Turn waiting calls into items as far as the stream allows without risking a lost fragment."""
        while self._waiting:
            call = self._waiting[0]
            if not (call.call_id and call.name):
                return  # wait for the id or name; a flush synthesises them if they never come
            current = self._current
            if isinstance(current, _Call) and not _args_complete(current):
                return  # the streaming call may still get fragments: it cannot close yet
            self._waiting.popleft()
            self._open_call(call)
            if self.done:
                return

    def _flush_calls(self, status: str) -> None:
        """Emit every waiting call now (something else must be emitted, or the response ends)."""
        self._open_waiting()
        if isinstance(self._current, _Call):
            self._close_current(status)

    def _open_waiting(self) -> None:
        while self._waiting:
            self._open_or_set_aside(self._waiting.popleft())

    def _open_or_set_aside(self, call: _Call) -> None:
        if call.name:
            self._open_call(call)
        else:
            # No consumer can run a call without a name, and inventing one would lie. Failing here, in the
            # middle of closing items, would end the response twice: it is set aside, and fails the
            # response at its end unless its name comes by then (``_terminate``).
            call.state = _Call.NAMELESS
            self._nameless.append(call)

    def _open_call(self, call: _Call) -> None:
        if not (isinstance(self._current, _Reasoning) and call.carrier is not None):
            self._close_current("completed")
        if not call.call_id:
            call.call_id = self._ids("call")  # the Runner and Codex need a non-empty, unique call_id
        if call.carrier is not None:
            # The signature goes right before its call: into the reasoning item just streamed, if one is open.
            current = self._current
            reasoning = current if isinstance(current, _Reasoning) else self._start_reasoning()
            reasoning.carriers.append({**call.carrier, "call_id": call.call_id})
        self._close_current("completed")
        call.id = self._ids("ctc" if call.custom else "fc")
        call.index, call.state = len(self._output), _Call.OPEN
        self._current = call
        self._emit_item_added(_call_item(call, "in_progress", ""), call.index)
        if call.args:
            self._emit_arguments_delta(call, call.args.value())

    def _close_call(self, call: _Call, status: str) -> dict[str, Any]:
        call.state = _Call.DONE
        arguments = call.args.value()
        location = {"item_id": call.id, "output_index": call.index}
        if call.custom:
            self._emit({"type": "response.custom_tool_call_input.done", **location, "input": arguments})
            return _call_item(call, status, arguments)
        if status == "completed" and not arguments.strip():
            # A tool without parameters streams ``arguments: ""``; the Responses API always sends JSON.
            self._emit_arguments_delta(call, "{}")
            arguments += "{}"
        self._emit(
            {
                "type": "response.function_call_arguments.done",
                **location,
                "name": call.name or "",
                "arguments": arguments,
            }
        )
        return _call_item(call, status, arguments)

    # ------------------------------------------------------------------ closing and ending

    def _emit_item_added(self, item: dict[str, Any], index: int) -> None:
        self._emit({"type": "response.output_item.added", "output_index": index, "item": item})

    def _close_current(self, status: str) -> None:
        """The one place an item is closed, whatever closes it."""
        current = self._current
        if current is None:
            return
        self._current = None
        if isinstance(current, _Message):
            self._close_part(current)
            item = _message_item(current, current.parts, status)
        elif isinstance(current, _Reasoning):
            item = self._close_reasoning(current, status)
        else:
            item = self._close_call(current, status)
        self._output.append(item)
        self._emit({"type": "response.output_item.done", "output_index": current.index, "item": item})

    def _close_all(self, status: str) -> None:
        """The answer ended (``completed`` or ``incomplete``): close what the upstream finished.

        A length or filter cut closes the open message or reasoning as ``incomplete`` (the model really said
        that), but a call whose arguments are not complete JSON was not finished: it and every call after it
        are cut, never announced done (clients execute every call they are told is done).
        """
        self._settle_half()
        self._release_think()
        item_status = "completed" if status == "completed" else "incomplete"
        cut = item_status == "incomplete"
        while self._waiting and not self.done and not (cut and self._call_unfinished()):
            self._open_or_set_aside(self._waiting.popleft())
        if self.done:
            return
        if cut and self._call_unfinished():
            self._cut_open_items()
        else:
            self._close_current(item_status)

    def _call_unfinished(self) -> bool:
        current = self._current
        return isinstance(current, _Call) and not _args_complete(current)

    def _inside_arguments(self) -> bool:
        """Whether a call's arguments so far are not complete JSON (the open call or one still waiting)."""
        calls = [*self._waiting, self._current] if isinstance(self._current, _Call) else self._waiting
        # A custom call's free-form input gives no sign of its end: only a finish_reason could say it was cut.
        return any(call.args and not call.custom and not _args_complete(call) for call in calls)

    def _cut_open_items(self) -> None:
        """The ending cut the open item and the calls still waiting: output only, status ``incomplete``."""
        current, self._current = self._current, None
        if isinstance(current, _Message):
            parts = [*current.parts, _open_part_so_far(current)] if current.part_kind else current.parts
            self._cut.append(_message_item(current, parts, "incomplete"))
        elif isinstance(current, _Reasoning):
            self._cut.append(_reasoning_item(current, "incomplete"))
        elif isinstance(current, _Call):
            self._cut.append(_call_item(current, "incomplete"))
        while self._waiting:
            self._cut_call(self._waiting.popleft())

    def _cut_call(self, call: _Call) -> None:
        """A call that never became an item: in the terminal output only, status ``incomplete``."""
        call.id, call.call_id = self._ids("ctc" if call.custom else "fc"), call.call_id or self._ids("call")
        self._cut.append(_call_item(call, "incomplete"))

    def _terminate(
        self, status: str, *, incomplete_reason: str | None = None, error: dict[str, Any] | None = None
    ) -> None:
        if self.done:
            return  # one terminal event, whatever asks for a second
        self._settle_half()
        if status == "failed":
            self._release_think()  # text held back by the think-tag parser was received: keep it
            self._cut_open_items()
        else:
            self._close_all(status)
        nameless = [call for call in self._nameless if call.state == _Call.NAMELESS]
        if nameless and status == "completed":  # a cut (length, filter) explains a call left unfinished
            status = "failed"
            error = {"code": "server_error", "message": _nameless_message(nameless)}
        for call in nameless:  # never an item, but received: kept in the terminal response's output
            self._cut_call(call)
        response = self._response(status)
        if incomplete_reason is not None:
            response["incomplete_details"] = {"reason": incomplete_reason}
        if error is not None:
            response["error"] = {**error, "message": valid_text(error["message"])}
        self.done = True
        self.status = status
        self._emit({"type": f"response.{status}", "response": response})

    def _terminate_failed(self, code: str, message: str) -> None:
        self._terminate("failed", error={"code": code, "message": message})

    def _fail_internal(self, exc: Exception) -> None:
        if self.done:
            return
        message = f"internal error while translating the stream: {type(exc).__name__}: {exc}"
        try:
            self._start(None)  # an error on the first chunk: consumers still need response.created first
            self._terminate_failed("server_error", message)
        except Exception:  # pragma: no cover - a second failure while closing: end with what we have
            self.done, self.status = True, "failed"
            response = self._response("failed")
            response["error"] = {"code": "server_error", "message": message}
            self._emit({"type": "response.failed", "response": response})


def _nameless_message(calls: list[_Call]) -> str:
    first = calls[0]
    more = f" (and {len(calls) - 1} more)" if len(calls) > 1 else ""
    return (
        f"the upstream sent a tool call without a function name{more}: call_id {first.call_id!r}, "
        f"arguments {first.args.value()!r:.200}"
    )


def _make_valid(fragment: c.ToolFragment) -> None:
    """A tool call fragment's id, name and signature made encodable (arguments: ``_join_half``)."""
    if fragment.call_id:
        fragment.call_id = valid_text(fragment.call_id)
    if fragment.name:
        fragment.name = valid_text(fragment.name)
    if fragment.carrier is not None:
        fragment.carrier = valid_json(fragment.carrier)


def _open_part_so_far(message: _Message) -> dict[str, Any]:
    """The message's open content part as it stands (closing it, or cutting it at a failure)."""
    text = message.text.value()
    if message.part_kind == "refusal":
        return {"type": "refusal", "refusal": text}
    return {
        "type": "output_text",
        "text": text,
        "annotations": message.annotations,
        "logprobs": message.logprobs,
    }


def _message_item(message: _Message, parts: list[dict[str, Any]], status: str) -> dict[str, Any]:
    return {"type": "message", "id": message.id, "status": status, "role": "assistant", "content": parts}


def _reasoning_item(item: _Reasoning, status: str) -> dict[str, Any]:
    done: dict[str, Any] = {"type": "reasoning", "id": item.id, "summary": [], "status": status}
    if item.summary_open:
        done["summary"] = [{"type": "summary_text", "text": item.summary.value()}]
    if item.raw:
        done["content"] = [{"type": "reasoning_text", "text": item.raw.value()}]
    if item.carriers:
        done["encrypted_content"] = encode_carriers(item.carriers)
    return done


def _call_item(call: _Call, status: str, arguments: str | None = None) -> dict[str, Any]:
    """A function_call item, or a custom_tool_call item (whose free-form ``input`` holds the arguments)."""
    if arguments is None:
        arguments = call.args.value()
    if call.custom:
        return {
            "type": "custom_tool_call",
            "id": call.id,
            "call_id": call.call_id,
            "name": call.name or "",
            "input": arguments,
            "status": status,
        }
    return {
        "type": "function_call",
        "id": call.id,
        "call_id": call.call_id,
        "name": call.name or "",
        "arguments": arguments,
        "status": status,
    }


def _args_complete(call: _Call) -> bool:
    """Whether a call's arguments so far are a complete JSON value (then it may close early).

    Never for a custom tool call: its free-form input gives no sign of its end.
    """
    if call.custom:
        return False
    args = call.args
    if args.length != call.checked_len:
        call.end.feed(args.since(call.checked_len))  # only what came since the last check
        call.checked_len = args.length
    return call.end.complete(args.value)


def _delta_logprob(logprob: dict[str, Any]) -> dict[str, Any]:
    """Delta events carry logprobs without ``bytes`` (the ``output_text`` part keeps them)."""
    return {
        "token": logprob["token"],
        "logprob": logprob["logprob"],
        "top_logprobs": [{"token": t["token"], "logprob": t["logprob"]} for t in logprob["top_logprobs"]],
    }


def _describe_exception(error: BaseException) -> tuple[str, str]:
    status = getattr(error, "status_code", None)
    code = "rate_limit_exceeded" if status == 429 else "server_error"
    message = f"upstream stream broke: {type(error).__name__}: {error}"
    cause = error.__cause__ or error.__context__
    if cause is not None:  # openai 3 wraps a dropped connection as "APIConnectionError: Connection error."
        message += f" (caused by {type(cause).__name__}: {cause})"
    return code, message


def _describe_provider_error(error: dict[str, Any]) -> tuple[str, str]:
    """A provider error object → Responses ``error`` (its code must be one the schema knows)."""
    raw_code = error.get("code") or error.get("type")
    status = error.get("status_code") or (raw_code if isinstance(raw_code, int) else None)
    rate_limited = status == 429 or (isinstance(raw_code, str) and "rate_limit" in raw_code)
    detail = f" ({raw_code})" if raw_code not in (None, "") else ""
    return (
        "rate_limit_exceeded" if rate_limited else "server_error"
    ), f"upstream error{detail}: {error['message']}"
