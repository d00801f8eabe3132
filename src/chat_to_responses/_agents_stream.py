"""openai-agents' contract for ``ChatCmplStreamHandler.handle_stream``: what agents' own models expect.

openai-agents' models (``OpenAIChatCompletionsModel``, ``LitellmModel``, ``AnyLLMModel``) and our
``ChatCmplModel`` call ``handle_stream`` with agents' keywords. The events are still the core's (unique
ids, every ``*.done``, arrival order); this layer adds what agents' Runner and converters read around them:

- **Endings, as agents' handler ends them.** The Runner raises on ``response.incomplete``, and agents
  returns a truncated answer instead: ``length`` / ``content_filter`` end ``response.completed`` with the
  text received. ``raise_on_length_truncation``: a ``length`` ending with nothing visible (no text, refusal
  or call) raises ``ModelBehaviorError``. A ``content_filter`` ending with nothing visible gets agents'
  refusal text. ``require_finish_reason`` (agents sets it for api.openai.com): a stream that ends without a
  ``finish_reason`` raises ``ModelBehaviorError`` (``ChatCmplModel``: ``response.failed`` with agents'
  message and every item received, then the Runner raises it). Before raising, the placeholder response
  gets the usage (or is counted as a request), as agents' handler does, so the caller can record it.
- **Audio output** is not supported by agents: ``AgentsException``, not an empty answer.
- ``strict_feature_validation``: several choices (or custom tool calls) raise ``UserError`` instead of a
  logged warning.
- The terminal ``Response`` carries the placeholder's ``_request_id``, the raw usage snapshot
  (``preserve_raw_usage``) and, without usage, agents' mark that one request was made.

Imported only when agents' keywords are used (openai-agents is installed then).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from typing import Any, Final

from agents.exceptions import AgentsException, ModelBehaviorError, UserError
from openai.types.chat import ChatCompletionChunk
from openai.types.chat.chat_completion_chunk import Choice, ChoiceDelta, ChoiceDeltaToolCall
from openai.types.responses import Response, ResponseStreamEvent, ResponseUsage

from . import _chunks as c
from ._carriers import decode_carriers
from ._completion import completion_to_chunk
from ._translator import Event, StreamTranslator

logger = logging.getLogger("chat_to_responses.agents")

CONTENT_FILTER_REFUSAL: Final = "Response withheld by the provider's content filter."
_CUT: Final = frozenset({"length", "max_tokens", "content_filter", "safety", "recitation"})
_LENGTH: Final = frozenset({"length", "max_tokens"})
AGENTS_KEYWORDS: Final = frozenset(
    {"strict_feature_validation", "preserve_raw_usage", "raise_on_length_truncation", "require_finish_reason"}
)

try:  # private helpers of openai-agents: the Runner reads what they set
    from agents.usage import _attach_raw_usage_snapshot, _mark_request_completed_without_usage
except ImportError:  # pragma: no cover - depends on the openai-agents version
    _attach_raw_usage_snapshot = None  # type: ignore[assignment]
    _mark_request_completed_without_usage = None  # type: ignore[assignment]


class AgentsEndings:
    """Sans-IO: chunks in (``chunk``), core events through (``events``), ``end()`` before the core's
    ``finish()``. Raises agents' exceptions where agents' handler raises."""

    def __init__(
        self,
        placeholder: Any,
        core: StreamTranslator,
        *,
        model: str | None = None,
        choice_index: int = 0,
        strict_feature_validation: bool = False,
        preserve_raw_usage: bool = False,
        raise_on_length_truncation: bool = False,
        require_finish_reason: bool = False,
        cut_fails: bool = False,
    ) -> None:
        self._placeholder = placeholder
        self._cut_fails = cut_fails
        self._core = core
        self._choice = choice_index
        self._strict = strict_feature_validation
        self._raw_usage_wanted = preserve_raw_usage
        self._raise_on_length = raise_on_length_truncation
        self._require_finish = require_finish_reason
        self._finish_reason: str | None = None
        self._usage: Any = None
        self._visible = False
        self._warned_choices = False
        self._provider_data: dict[str, Any] = {"model": model} if model else {}
        self._call_signatures: dict[str, str] = {}
        self._blocks = _ThinkingBlocks()
        self._all_blocks: list[dict[str, Any]] = []
        self._ignored: set[Any] = set()  # tool call indexes of custom tool calls: every fragment is ignored

    # ------------------------------------------------------------------ chunks

    def chunk(self, chunk: Any) -> Any:
        """The chunk to feed the core: a cut (``length``/``content_filter``) finishes as ``stop`` there."""
        fields = c.fields_of(chunk)
        self._note_origin(fields)
        usage = fields.get("usage")
        if usage is not None:
            self._usage = usage
        choices = fields.get("choices")
        if not isinstance(choices, list) or not choices:
            return chunk
        if len(choices) > 1 or any(c.fields_of(ch).get("index", 0) != self._choice for ch in choices):
            self._other_choices()
        for position, choice in enumerate(choices):
            choice_fields = c.fields_of(choice)
            if choice_fields.get("index", 0) != self._choice:
                continue
            delta = c.fields_of(choice_fields.get("delta"))
            if isinstance(delta.get("thinking_blocks"), list):
                self._blocks.add(delta["thinking_blocks"])
            if delta.get("audio"):
                raise AgentsException("Audio is not currently supported")
            if self._custom_calls(delta.get("tool_calls")):
                chunk = _without_calls(chunk, position, self._ignored)  # agents ignores them
            reason = choice_fields.get("finish_reason")
            if isinstance(reason, str) and self._finish_reason is None:
                self._finish_reason = reason
                if reason in _CUT:
                    return _with_finish(chunk, position, "stop")
        return chunk

    def _custom_calls(self, tool_calls: Any) -> bool:
        """Whether ``tool_calls`` has fragments of custom tool calls (agents' converter has no item for
        them: ``UserError`` under strict validation, else they are ignored, with every later fragment of
        their index)."""
        if not isinstance(tool_calls, list):
            return False
        found = False
        for call in tool_calls:
            fields = c.fields_of(call)
            if fields.get("type") == "custom":
                if self._strict:
                    raise UserError("Custom tool calls are not supported by the Chat Completions converter")
                self._ignored.add(fields.get("index"))
            found = found or fields.get("index") in self._ignored
        return found

    @property
    def origin_known(self) -> bool:
        """The model and chunk id agents records on every item are known (later chunks cannot change them)."""
        return "response_id" in self._provider_data and "model" in self._provider_data

    def _note_origin(self, fields: Mapping[str, Any]) -> None:
        """The model (unless named by the caller) and chunk id, as agents records them on every item."""
        model, chunk_id = fields.get("model"), fields.get("id")
        if "model" not in self._provider_data and isinstance(model, str) and model:
            self._provider_data["model"] = model
        if isinstance(chunk_id, str) and chunk_id:
            self._provider_data.setdefault("response_id", chunk_id)

    def _other_choices(self) -> None:
        message = (
            "Chat Completions streaming with multiple choices or nonzero choice indexes is not fully "
            f"supported; only choice index {self._choice} can be processed."
        )
        if self._strict:
            raise UserError(message)
        if not self._warned_choices:
            self._warned_choices = True
            logger.warning(
                "%s Ignoring the other choices; enable strict feature validation to raise.", message
            )

    # ------------------------------------------------------------------ events

    def events(self, events: list[Event]) -> list[Event]:
        for event in events:
            kind = event["type"]
            if kind in _TERMINAL_TYPES:
                self._leftover_blocks(event["response"])
            if kind in ("response.output_text.delta", "response.refusal.delta"):
                self._visible = self._visible or bool(event.get("delta"))
            elif kind in ("response.output_item.added", "response.output_item.done"):
                item = event["item"]
                self._visible = self._visible or item.get("type") == "function_call"
                self._add_provider_data(item)
        return events

    def _add_provider_data(self, item: dict[str, Any]) -> None:
        """agents' converter replays signatures from ``provider_data`` (ours from ``encrypted_content``):
        the item's origin, Gemini's signature on its call, Anthropic's signed ``thinking_blocks``. The done
        item is also the terminal response's, so the terminal output gets it too."""
        data = dict(self._provider_data)
        kind = item.get("type")
        if kind == "reasoning" and item.get("encrypted_content"):
            for carrier in decode_carriers(item["encrypted_content"]):
                if carrier.get("kind") == "thought_signature" and carrier.get("call_id"):
                    self._call_signatures[carrier["call_id"]] = carrier["signature"]
        if kind == "reasoning" and item.get("status") != "in_progress":
            # A signed block ends its item (the next text opens another). agents' converter replays the
            # blocks of the last reasoning item before the answer: each item has every block up to it.
            self._all_blocks += self._blocks.take_closed()
            if self._all_blocks:
                data["thinking_blocks"] = list(self._all_blocks)
        elif kind == "function_call" and item.get("call_id") in self._call_signatures:
            data["thought_signature"] = self._call_signatures[item["call_id"]]
        if data:
            item["provider_data"] = data

    def _leftover_blocks(self, response: dict[str, Any]) -> None:
        """Blocks still held at the end (an unsigned last block) go with the last reasoning item."""
        reasoning = [item for item in response.get("output") or [] if item.get("type") == "reasoning"]
        blocks = self._blocks.take_closed(all_blocks=True)
        if reasoning and blocks:
            self._all_blocks += blocks
            data = reasoning[-1].setdefault("provider_data", dict(self._provider_data))
            data["thinking_blocks"] = list(self._all_blocks)

    def end(self) -> tuple[list[Any], BaseException | None]:
        """At the end of the chunks, before the core's ``finish()``: the chunks to feed first, and the error
        to finish with (a cut stream: ``response.failed`` with agents' message, every item kept). Raises
        where agents raises without a terminal event."""
        reason = self._finish_reason
        if self._require_finish and reason is None:
            cut = ModelBehaviorError(
                "Chat Completions stream ended before receiving a finish_reason for choice 0."
            )
            if not self._cut_fails:
                self._keep_usage_on_placeholder()
                raise cut
            return [], cut
        if reason in _LENGTH and self._raise_on_length and not self._visible:
            self._keep_usage_on_placeholder()
            raise ModelBehaviorError(
                "Chat Completions stream terminated with finish_reason='length' "
                "but produced no assistant text, tool call, or refusal."
            )
        if reason in _CUT and reason not in _LENGTH and not self._visible:
            return [
                {"choices": [{"index": self._choice, "delta": {"refusal": CONTENT_FILTER_REFUSAL}}]}
            ], None
        return [], None

    def _keep_usage_on_placeholder(self) -> None:
        if not isinstance(self._placeholder, Response):
            return
        usage = response_usage(self._usage)
        if usage is not None:
            self._placeholder.usage = usage
        elif _mark_request_completed_without_usage is not None:
            _mark_request_completed_without_usage(self._placeholder)
        if self._raw_usage_wanted and self._usage is not None and _attach_raw_usage_snapshot is not None:
            _attach_raw_usage_snapshot(self._placeholder, self._usage)

    def terminal(self, response: Response) -> None:
        """What agents' Runner reads off the terminal response, besides its fields."""
        request_id = getattr(self._placeholder, "_request_id", None)
        if request_id is not None:
            response._request_id = request_id
        if self._raw_usage_wanted and _attach_raw_usage_snapshot is not None:
            _attach_raw_usage_snapshot(response, self._usage)
        if response.usage is None and _mark_request_completed_without_usage is not None:
            _mark_request_completed_without_usage(response)


class _ThinkingBlocks:
    """Anthropic thinking blocks as agents' converter replays them (LiteLLM streams them): a block's text
    comes in pieces and its signature ends it; a redacted block comes whole and is kept as it came."""

    def __init__(self) -> None:
        self.blocks: list[dict[str, Any]] = []
        self._texts: list[list[str]] = []  # each block's text pieces, joined once by finished()

    def add(self, deltas: list[Any]) -> None:
        for raw in deltas:
            delta = dict(c.fields_of(raw))
            kind = delta.pop("type", "thinking")
            if kind == "redacted_thinking":
                self._open({"type": kind, **delta})
            elif kind == "thinking":
                self._fold(delta)

    def _open(self, block: dict[str, Any]) -> dict[str, Any]:
        self.blocks.append(block)
        self._texts.append([])
        return block

    def _fold(self, delta: dict[str, Any]) -> None:
        text, signature = delta.pop("thinking", None), delta.pop("signature", None)
        text = text if isinstance(text, str) else ""
        signature = signature if isinstance(signature, str) else ""
        if not (text or signature or delta):
            return
        last = self.blocks[-1] if self.blocks else None
        if last is None or last["type"] != "thinking" or "signature" in last:
            last = self._open({"type": "thinking"})
        last.update(delta)  # provider metadata (cache_control…) stays with its block
        self._texts[-1].append(text)
        if signature:  # a signature ends its block: later text starts the next one
            last["signature"] = signature

    def take_closed(self, *, all_blocks: bool = False) -> list[dict[str, Any]]:
        """The blocks ended so far (signed, or redacted), or ``all_blocks``, each text joined once; they are
        no longer held. An unsigned block still streaming stays for the next reasoning item."""
        count = len(self.blocks)
        if (
            not all_blocks
            and count
            and self.blocks[-1]["type"] == "thinking"
            and "signature" not in self.blocks[-1]
        ):
            count -= 1
        taken = [
            {**block, "thinking": "".join(texts)} if block["type"] == "thinking" else dict(block)
            for block, texts in zip(self.blocks[:count], self._texts[:count], strict=True)
        ]
        del self.blocks[:count], self._texts[:count]
        return taken


def response_usage(chat_usage: Any) -> ResponseUsage | None:
    """A chat ``usage`` object as Responses usage (the core's mapping); ``None`` without one."""
    usage = c._read_usage(chat_usage, None) if chat_usage is not None else None
    return ResponseUsage.model_validate(usage) if usage is not None else None


def _without_calls(chunk: Any, position: int, ignored: set[Any]) -> Any:
    """A copy of ``chunk`` whose choice at ``position`` has no tool call fragment of an ``ignored`` index."""

    def kept(calls: list[Any]) -> list[Any] | None:
        return [t for t in calls if c.fields_of(t).get("index") not in ignored] or None

    if isinstance(chunk, Mapping):
        choices = list(chunk["choices"])
        delta = dict(choices[position].get("delta") or {})
        delta["tool_calls"] = kept(delta["tool_calls"])
        choices[position] = {**choices[position], "delta": delta}
        return {**chunk, "choices": choices}
    choices = list(chunk.choices)
    old = choices[position].delta
    delta = old.model_copy(update={"tool_calls": kept(old.tool_calls)})
    choices[position] = choices[position].model_copy(update={"delta": delta})
    return chunk.model_copy(update={"choices": choices})


def _with_finish(chunk: Any, position: int, reason: str) -> Any:
    """A copy of ``chunk`` whose choice at ``position`` finishes with ``reason`` (the input is unchanged)."""
    if isinstance(chunk, Mapping):
        choices = list(chunk["choices"])
        choices[position] = {**choices[position], "finish_reason": reason}
        return {**chunk, "choices": choices}
    choices = list(chunk.choices)
    choices[position] = choices[position].model_copy(update={"finish_reason": reason})
    return chunk.model_copy(update={"choices": choices})


# ---------------------------------------------------------------------------------------------- buffering


async def buffer_tool_call_stream(stream: AsyncIterable[Any]) -> AsyncIterator[Any]:
    """agents' opt-in pre-buffer (``buffer_streamed_tool_calls``): function-call fragments of choice 0 are
    held back and come as one chunk of whole calls after the stream; everything else passes as it came
    (a finishing choice with its delta emptied). Custom tool calls and dict chunks are not buffered."""
    buffer = _CallBuffer()
    last: Any = None
    async for chunk in stream:
        last = chunk
        out = buffer.strip(chunk)
        if out is not None:
            yield out
    if last is not None and buffer.calls:
        yield buffer.chunk_of_calls(last)


class _CallBuffer:
    def __init__(self) -> None:
        self.calls: dict[int, dict[str, Any]] = {}
        self._passthrough: set[int] = set()
        self._saw_passthrough_call = False

    def strip(self, chunk: Any) -> Any:
        """The chunk without its bufferable fragments; ``None`` when nothing of it is left to pass."""
        if not isinstance(chunk, ChatCompletionChunk) or not chunk.choices:
            return chunk
        kept: list[Choice] = []
        for choice in chunk.choices:
            if choice.index != 0:
                self._saw_passthrough_call |= bool(choice.delta and choice.delta.tool_calls)
                kept.append(choice)
                continue
            delta = choice.delta
            if delta is not None and delta.tool_calls:
                rest = [call for call in delta.tool_calls if not self._hold(call)]
                delta = delta.model_copy(update={"tool_calls": rest or None})
                choice = choice.model_copy(update={"delta": delta})
            if _has_output(choice.delta):
                kept.append(choice)
            elif choice.finish_reason is not None:
                if choice.finish_reason == "tool_calls" and not self.calls and not self._saw_passthrough_call:
                    raise ModelBehaviorError(
                        "Chat Completions stream finished with finish_reason='tool_calls' but did not "
                        "include any streamed tool call deltas."
                    )
                kept.append(choice.model_copy(update={"delta": ChoiceDelta()}))
        if not kept and chunk.usage is None:
            return None
        return chunk.model_copy(update={"choices": kept})

    def _hold(self, call: ChoiceDeltaToolCall) -> bool:
        if call.index in self._passthrough or getattr(call, "type", None) not in (None, "function"):
            self._passthrough.add(call.index)
            self._saw_passthrough_call = True
            return False
        held = self.calls.setdefault(call.index, {"index": call.index, "arguments": []})
        if call.id:
            held["id"] = call.id
        if call.function is not None:
            if call.function.name:
                held["name"] = call.function.name
            if call.function.arguments:
                held["arguments"].append(call.function.arguments)
        for key in ("provider_specific_fields", "extra_content"):
            value = getattr(call, key, None)
            if isinstance(value, dict):
                held[key] = _merged(held.get(key), value)
        return True

    def chunk_of_calls(self, template: ChatCompletionChunk) -> ChatCompletionChunk:
        calls = []
        for index, held in sorted(self.calls.items()):
            if not held.get("id") or not held.get("name"):
                missing = "tool call id" if not held.get("id") else "function name"
                raise ModelBehaviorError(
                    f"Buffered Chat Completions tool call stream ended without a {missing}."
                )
            call = ChoiceDeltaToolCall.model_validate(
                {
                    "index": index,
                    "id": held["id"],
                    "type": "function",
                    "function": {"name": held["name"], "arguments": "".join(held["arguments"])},
                }
            )
            for key in ("provider_specific_fields", "extra_content"):
                if key in held:
                    setattr(call, key, held[key])
            calls.append(call)
        choice = Choice(index=0, delta=ChoiceDelta(tool_calls=calls), finish_reason=None)
        return template.model_copy(update={"choices": [choice], "usage": None})


def _has_output(delta: ChoiceDelta | None) -> bool:
    if delta is None:
        return False
    if delta.content is not None or delta.tool_calls:
        return True
    fields = c.fields_of(delta)
    return any(
        fields.get(key)
        for key in ("refusal", "reasoning_content", "reasoning", "thinking_blocks", "annotations", "audio")
    )


def _merged(current: dict[str, Any] | None, incoming: dict[str, Any]) -> dict[str, Any]:
    """Provider metadata of several fragments: nested objects merge, and an empty one erases nothing."""
    merged = dict(current or {})
    for key, value in incoming.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merged(merged[key], value)
        elif not (isinstance(value, dict) and not value and key in merged):
            merged[key] = value
    return merged


def handle_as_agents(
    handler: Any,
    placeholder: Any,
    stream: AsyncIterable[Any],
    model: str | None,
    agents_options: dict[str, Any],
    *,
    cut_fails: bool = False,
) -> AsyncIterator[ResponseStreamEvent]:
    """``handle_stream`` under agents' contract, for ``handler`` (a ``ChatCmplStreamHandler`` built without
    ``require_finish_reason``: agents' check replaces it). ``cut_fails``: a stream cut before its finish
    reason ends ``response.failed`` instead of raising."""
    from ._handler import to_event_model

    endings = AgentsEndings(
        placeholder,
        handler._core,
        model=model,
        choice_index=handler._core._choice_index,
        cut_fails=cut_fails,
        **agents_options,
    )
    return drive(handler._core, endings, stream, to_event_model)


async def drive(
    core: StreamTranslator, endings: AgentsEndings, chunks: AsyncIterable[Any], to_model: Any
) -> AsyncIterator[ResponseStreamEvent]:
    """``handle_stream`` under agents' contract: the core's events, agents' endings."""
    try:
        async for chunk in chunks:
            # One text or reasoning delta and nothing else (no usage, finish reason, other choice, thinking
            # block, audio or custom call) has nothing for agents' endings: the core reads it once.
            plain = core.feed_plain(chunk, tools=False) if endings.origin_known else None
            events = plain if plain is not None else core.feed(endings.chunk(chunk))
            for wire_event in endings.events(events):
                yield _typed(wire_event, endings, to_model)
            if core.done:
                return
    except (AgentsException, UserError):
        raise
    except Exception as exc:
        for wire_event in endings.events(core.finish(error=exc)):
            yield _typed(wire_event, endings, to_model)
        return
    extras, error = endings.end()
    for extra in extras:
        for wire_event in endings.events(core.feed(extra)):
            yield _typed(wire_event, endings, to_model)
    for wire_event in endings.events(core.finish(error=error)):
        yield _typed(wire_event, endings, to_model)


def _typed(wire_event: Event, endings: AgentsEndings, to_model: Any) -> ResponseStreamEvent:
    event = to_model(wire_event)
    if wire_event["type"] in _TERMINAL_TYPES:  # before any getattr: a missing one costs an exception
        response = getattr(event, "response", None)
        if isinstance(response, Response):
            endings.terminal(response)
    return event  # type: ignore[no-any-return]


_TERMINAL_TYPES: Final = frozenset({"response.completed", "response.incomplete", "response.failed"})


def complete_as_agents(
    completion: Any, template: Mapping[str, Any], *, strict_feature_validation: bool = False, **options: Any
) -> Response:
    """A non-streamed completion as the ``Response`` agents' contract gives (the same endings as a stream
    of it: a cut answer completes with its text, a ``length`` cut with nothing visible raises)."""
    core = StreamTranslator(response=template, **options)
    endings = AgentsEndings(
        None,
        core,
        model=template.get("model"),
        strict_feature_validation=strict_feature_validation,
        raise_on_length_truncation=True,
    )
    events = endings.events(core.feed(endings.chunk(completion_to_chunk(completion))))
    if not core.done:
        extras, error = endings.end()
        for extra in extras:
            events += endings.events(core.feed(extra))
        events += endings.events(core.finish(error=error))
    return Response.model_validate(events[-1]["response"])
