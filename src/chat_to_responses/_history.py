"""Conversation history between the two APIs: Responses items ⇄ Chat Completions messages.

Shared by the tool loop, the openai-agents model provider and the ``POST /v1/responses`` server. Pure
functions, no I/O. Items may be plain dicts (the JSON a client sends) or ``openai.types.responses`` models;
messages come out as plain JSON-ready dicts.

:func:`items_to_messages` — the rules, and why
----------------------------------------------
- **One leading system message.** ``instructions`` and every ``system`` / ``developer`` message, wherever it
  appears, are merged in order (joined with a blank line) into ONE ``system`` message placed first: many
  chat templates reject a system message that is not first, and ``developer`` is unknown to most
  upstreams. Codex sends two ``developer`` messages on every turn.
- **One assistant message per assistant turn.** Reasoning items, assistant message items and
  ``function_call`` items that follow each other form one turn, ended by a user or system/developer message.
  Its text parts become ``content`` (``None`` when there is no message but there are tool calls), its calls
  ``tool_calls`` in order — parallel calls split over several assistant messages break Gemini (only the
  first call of a parallel set carries a signature) and confuse most templates. A call's ``namespace`` is
  ignored: the name is kept as is.
- **Tool results right after their call.** A ``function_call_output`` becomes a ``tool`` message placed
  right after the assistant message holding its call, in call order, wherever it appeared in the input.
- **Append-only: one assistant message per model response.** Codex 0.169.0 and the Agents SDK Runner both
  record a response's calls before their outputs: a parallel pair as ``fc1, fc2, out1, out2``, two calls
  made one after the other as ``fc1, out1, fc2, out2``. So a ``function_call`` after a tool output starts a
  new turn (``calls_after_outputs="new_turn"``, the default): sequential calls stay separate assistant
  messages, and each request's messages are the previous request's, plus the assistant message the
  upstream produced, plus the new results — an upstream's prefix cache keeps hitting. After a tool output
  only a reasoning item that just carries signatures for the turn's calls continues the turn (OpenRouter /
  Vercel send a Gemini signature after the call). Clients that interleave a parallel pair as ``fc1, out1,
  fc2, out2`` (older Codex versions) can ask for ``calls_after_outputs="same_turn"``; its cost: sequential
  calls with nothing between them are replayed as parallel calls of one turn. An output whose call is
  unknown still becomes a ``tool`` message, in place. No client round-trips item ids (Codex drops them),
  so item order is the one signal both clients keep.
- **Reasoning goes back only as received** — strict upstreams (OpenAI) reject unknown message fields:

  * ``reasoning_content``: the reasoning items' text (``reasoning_text`` content if present, else the
    summary), on turns with tool calls only by default — DeepSeek requires it on tool-call turns and says
    not to send it otherwise (option ``reasoning_content="always"`` / ``"never"``).
  * Gemini thought signatures (a ``thought_signature`` carrier, or a ``google-gemini-v1``
    ``reasoning.encrypted`` detail whose ``id`` is the call id) → ``extra_content.google.thought_signature``
    on that tool call — Gemini 3 rejects the turn without it. A detail with no ``id`` (Vercel) signs the
    first call of its turn, where Gemini puts a step's signature. One received from LiteLLM
    (``provider_specific_fields``) is put back there too, as well as in ``extra_content``.
  * ``reasoning_detail`` carriers → ``reasoning_details`` in order (OpenRouter / Vercel want them back as
    they came); a signed Anthropic ``reasoning.text`` detail gets the reasoning item's text back.
  * ``thinking_signature`` / ``redacted_thinking`` carriers → ``thinking_blocks`` (LiteLLM's Anthropic form).
  * A thought signature that came on the text of an answer (no ``call_id``: Gemini 3 signs the last text
    part when there is no tool call) → ``extra_content.google.thought_signature`` on the assistant message.
  * An ``encrypted_content`` that is not ours (no ``c2r1.`` prefix) means nothing to a chat upstream:
    dropped (and reported).

  The core gives each signed block its own reasoning item (and :func:`messages_to_items` does too); when
  one reasoning item still holds several, its text cannot be split back: the first block gets it all, the
  others ``""``.
- ``custom_tool_call`` items → chat tool calls ``{"type": "custom", "custom": {"name", "input"}}``, their
  ``custom_tool_call_output`` → a ``tool`` message, grouped like function calls (and back in
  :func:`messages_to_items`).
- ``item_reference``, hosted-tool items and unknown types are skipped; pass ``dropped=[]`` to learn what was
  skipped. Ids on input items are ignored. A function call without ``call_id`` or ``name`` cannot be
  replayed and is skipped too.
- Content parts: text, ``output_text`` and ``refusal`` → text; ``input_image`` with ``image_url`` → chat
  ``image_url`` (``detail`` kept when it is one chat knows); an ``input_image`` by ``file_id`` or an
  ``input_file`` → chat ``file`` (``file_data`` / ``file_id`` / ``filename``); ``input_audio`` as is. User
  content that is only text becomes a plain string (the form every upstream accepts), parts joined by a
  newline; assistant and system content is always a string.
- Input must be a ``str`` (one user message) or a ``list`` / ``tuple`` of items, else ``ValueError``;
  anything inside is read tolerantly and never raises.

:func:`messages_to_items` is the inverse (best effort), putting signatures back into our carrier format so
``items_to_messages(messages_to_items(m)) == m`` for messages this module produced.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

from ._carriers import PREFIX, REASONING_TEXT, decode_carriers, encode_carriers

__all__ = ["ReasoningContentMode", "items_to_messages", "messages_to_items", "output_items_to_message"]

ReasoningContentMode = Literal["tool_turns", "always", "never"]
ReplayReasoning = Callable[[dict[str, Any]], bool]
"""Per reasoning item (as a JSON dict): whether its text goes back as ``reasoning_content``."""
CallsAfterOutputs = Literal["new_turn", "same_turn"]
"""Where a ``function_call`` that follows a tool output goes: Codex 0.169.0 and the Agents SDK Runner
record each response's calls before their outputs, so a call after an output starts the next model turn
(``new_turn``, the default); older Codex interleaved ``call, output, call, output`` within one response
(``same_turn``)."""
Json = dict[str, Any]

_TEXT_PARTS = frozenset({"input_text", "output_text", "text"})
_CHAT_IMAGE_DETAIL = frozenset({"auto", "low", "high"})
_GEMINI_FORMAT = "google-gemini-v1"


NON_TEXT_TOOL_OUTPUT = "non-text tool output part"
"""How a ``dropped`` note about a tool output part replaced by a placeholder starts."""


class UnpairedOutputError(ValueError):
    """A tool output that names no call (``items_to_messages(..., unpaired_outputs="raise")``)."""


# ---------------------------------------------------------------------------------------------- helpers


def _obj(value: Any) -> Json | None:
    """A JSON object from a dict or an SDK model; ``None`` for anything else."""
    if isinstance(value, BaseModel):
        dumped = value.model_dump(mode="json", exclude_none=True)
        return dumped if isinstance(dumped, dict) else None
    if isinstance(value, Mapping):
        return dict(value)
    return None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _json_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(value)


def _join(texts: list[str], sep: str) -> str:
    return sep.join(t for t in texts if t)


def _check_input(value: Any, what: str) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return list(value)
    raise ValueError(f"{what} must be a list of items (or a str), not {type(value).__name__}")


def _check_mode(mode: ReasoningContentMode | ReplayReasoning) -> None:
    if callable(mode):
        return
    if mode not in ("tool_turns", "always", "never"):
        raise ValueError(f"reasoning_content must be 'tool_turns', 'always' or 'never', not {mode!r}")


# ---------------------------------------------------------------------------------------------- content


def _type(obj: Json) -> str | None:
    return _str(obj.get("type"))


def _part_text(part: Json) -> str | None:
    """The text of a text-like part (text, output_text, refusal); ``None`` for other parts."""
    kind = _type(part)
    if kind in _TEXT_PARTS:
        return _str(part.get("text")) or ""
    if kind == "refusal":
        return _str(part.get("refusal")) or ""
    return None


def _image_part(part: Json, notes: list[str]) -> Json | None:
    url, file_id = _str(part.get("image_url")), _str(part.get("file_id"))
    if url:
        image: Json = {"url": url}
        if _str(part.get("detail")) in _CHAT_IMAGE_DETAIL:
            image["detail"] = part["detail"]
        return {"type": "image_url", "image_url": image}
    if file_id:
        return {"type": "file", "file": {"file_id": file_id}}
    notes.append("input_image part without image_url or file_id")
    return None


def _file_part(part: Json, notes: list[str]) -> Json | None:
    file = {k: part[k] for k in ("file_data", "file_id", "filename") if isinstance(part.get(k), str)}
    if "file_data" in file or "file_id" in file:
        return {"type": "file", "file": file}
    notes.append("input_file part without file_data or file_id (file_url has no chat equivalent)")
    return None


def _media_part(part: Json, notes: list[str]) -> Json | None:
    kind = _type(part)
    if kind == "input_image":
        return _image_part(part, notes)
    if kind == "input_file":
        return _file_part(part, notes)
    if kind == "image_url":  # a raw chat part in a Responses input: kept as it is (the Agents SDK accepts it)
        image = _obj(part.get("image_url")) or {}
        if _str(image.get("url")):
            return {"type": "image_url", "image_url": image}
    if kind == "input_audio" and _obj(part.get("input_audio")) is not None:
        return {"type": "input_audio", "input_audio": _obj(part.get("input_audio"))}
    notes.append(f"content part {kind!r}")
    return None


def _parts(content: Any) -> list[Json]:
    """Content as a list of part dicts (a string is one text part; a bare string in a list too)."""
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    out: list[Json] = []
    for raw in _list(content):
        part = {"type": "text", "text": raw} if isinstance(raw, str) else _obj(raw)
        if part is not None:
            out.append(part)
    return out


def _text_only(content: Any, notes: list[str], where: str) -> str:
    """Text of system / developer / assistant content; other parts are reported and dropped."""
    texts: list[str] = []
    for part in _parts(content):
        text = _part_text(part)
        if text is None:
            notes.append(f"{part.get('type')!r} part in {where} content")
        else:
            texts.append(text)
    return "\n".join(texts)


def _user_content(content: Any, notes: list[str]) -> str | list[Json]:
    chat: list[Json] = []
    for part in _parts(content):
        text = _part_text(part)
        converted = {"type": "text", "text": text} if text is not None else _media_part(part, notes)
        if converted is not None:
            chat.append(converted)
    if all(p["type"] == "text" for p in chat):
        return "\n".join(p["text"] for p in chat)
    return chat


def _output_text(output: Any, notes: list[str] | None = None) -> str:
    """A ``function_call_output``'s output as tool message text; non-text parts are described (and noted:
    a chat tool message carries text only)."""
    if isinstance(output, str):
        return output
    if not isinstance(output, list):
        return "" if output is None else _json_text(output)
    texts: list[str] = []
    for part in _parts(output):
        text = _part_text(part)
        if text is not None:
            texts.append(text)
        elif part.get("type") == "input_image":
            texts.append("[image]")
        elif part.get("type") == "input_file":
            name = _str(part.get("filename"))
            texts.append(f"[file: {name}]" if name else "[file]")
        else:
            texts.append(f"[{part.get('type')}]")
        if text is None and notes is not None:
            notes.append(f"{NON_TEXT_TOOL_OUTPUT}: {part.get('type')!r} sent as {texts[-1]!r}")
    return "\n".join(texts)


# ---------------------------------------------------------------------------------------------- turns


@dataclass
class _Reasoning:
    text: str
    carriers: list[Json]
    item: Json = field(default_factory=dict)  # as received: a replay predicate judges it


@dataclass
class _Turn:
    texts: list[str] = field(default_factory=list)
    has_message: bool = False
    calls: list[Json] = field(default_factory=list)  # chat tool calls, signatures not yet applied
    reasoning: list[_Reasoning] = field(default_factory=list)
    answered: bool = False  # a tool output came after it

    @property
    def call_ids(self) -> list[str]:
        return [c["id"] for c in self.calls]


@dataclass
class _User:
    message: Json


@dataclass
class _ToolOutput:
    call_id: str
    content: str


_Block = _Turn | _User | _ToolOutput


def _reasoning_text(item: Json) -> str:
    """Raw reasoning (``reasoning_text`` content) if present, else the summary: never both, no duplicate."""
    content = [_str(p.get("text")) or "" for p in _parts(item.get("content"))]
    summary = [_str(p.get("text")) or "" for p in _parts(item.get("summary"))]
    return _join(content, "\n\n") or _join(summary, "\n\n")


def _read_reasoning(item: Json, notes: list[str]) -> _Reasoning:
    encrypted = _str(item.get("encrypted_content"))
    if encrypted and not encrypted.startswith(PREFIX):
        notes.append("reasoning encrypted_content not produced by this bridge")
    carriers = decode_carriers(encrypted)
    # The text kept in encrypted_content (include reasoning.encrypted_content) is exact: it wins.
    kept = [c.get("text") for c in carriers if c.get("kind") == REASONING_TEXT]
    text = next((t for t in kept if isinstance(t, str)), None)
    signatures = [c for c in carriers if c.get("kind") != REASONING_TEXT]
    return _Reasoning(_reasoning_text(item) if text is None else text, signatures, item)


def _gemini_signature(carrier: Json) -> tuple[str | None, str] | None:
    """(call id or ``None``, signature) of a ``google-gemini-v1`` ``reasoning.encrypted`` detail carrier."""
    detail = _obj(carrier.get("detail")) or {}
    data = _str(detail.get("data"))
    if detail.get("type") != "reasoning.encrypted" or detail.get("format") != _GEMINI_FORMAT or not data:
        return None
    return _str(detail.get("id")) or None, data


def _signature_only(reasoning: _Reasoning) -> bool:
    """No text, only Gemini signatures: the tail of a step whose signature came after its call (Vercel)."""
    gemini = [_gemini_signature(c) for c in reasoning.carriers]
    return not reasoning.text and bool(gemini) and all(g is not None for g in gemini)


def _named_calls(reasoning: _Reasoning) -> set[str]:
    """The call ids a reasoning item carries Gemini signatures for."""
    names: set[str] = set()
    for carrier in reasoning.carriers:
        gemini = _gemini_signature(carrier)
        name = _str(carrier.get("call_id")) or (gemini[0] if gemini is not None else None)
        if name:
            names.add(name)
    return names


def _read_call(item: Json, notes: list[str]) -> Json | None:
    call_id, name = _str(item.get("call_id")), _str(item.get("name"))
    if not call_id or not name:
        notes.append(f"{_kind(item)} without call_id or name")
        return None
    if _kind(item) == "custom_tool_call":
        tool_input = _str(item.get("input")) or ""
        return {"id": call_id, "type": "custom", "custom": {"name": name, "input": tool_input}}
    arguments = item.get("arguments")
    arguments = "{}" if arguments is None else _json_text(arguments)
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


_CALL_ITEMS = frozenset({"function_call", "custom_tool_call"})


def _kind(item: Json) -> str | None:
    kind = item.get("type")
    return "message" if kind is None and "role" in item else _str(kind)


class _Grouper:
    """First pass: system texts apart, and the conversation as user messages, turns and tool outputs."""

    def __init__(
        self, notes: list[str], calls_after_outputs: CallsAfterOutputs = "new_turn", *, unpaired: str = "drop"
    ) -> None:
        self.notes = notes
        self.unpaired = unpaired
        self.calls_join_answered_turn = calls_after_outputs == "same_turn"
        self.system: list[str] = []
        self.blocks: list[_Block] = []
        self.turn: _Turn | None = None

    def add(self, raw: Any) -> None:
        item = _obj(raw)
        kind = _kind(item) if item is not None else None
        if item is None:
            self.notes.append(f"not an item: {type(raw).__name__}")
        elif kind == "message":
            self._message(item)
        elif kind == "reasoning":
            reasoning = _read_reasoning(item, self.notes)
            self._open_turn(joins=self._continues_turn(reasoning))
            self._turn().reasoning.append(reasoning)
        elif kind in _CALL_ITEMS:
            call = _read_call(item, self.notes)
            if call is not None:
                self._open_turn(joins=self.calls_join_answered_turn)
                self._turn().calls.append(call)
        elif kind in ("function_call_output", "custom_tool_call_output"):
            self._tool_output(item)
        else:
            self.notes.append(kind or f"item without a type: {list(item)[:5]!r}")

    def _turn(self) -> _Turn:
        assert self.turn is not None
        return self.turn

    def _open_turn(self, *, joins: bool) -> None:
        """Make sure a turn is open; after a tool output, only ``joins`` items continue the same turn."""
        if self.turn is None or (self.turn.answered and not joins):
            self.turn = _Turn()
            self.blocks.append(self.turn)

    def _continues_turn(self, reasoning: _Reasoning) -> bool:
        """After a tool output, a reasoning item continues the turn only if it just signs its calls."""
        names = _named_calls(reasoning)
        if not names:
            return _signature_only(reasoning)
        return self.turn is not None and names <= set(self.turn.call_ids)

    def _message(self, item: Json) -> None:
        role = item.get("role")
        if role in ("system", "developer"):
            self.turn = None
            self.system.append(_text_only(item.get("content"), self.notes, str(role)))
        elif role == "user":
            self.turn = None
            content = _user_content(item.get("content"), self.notes)
            self.blocks.append(_User({"role": "user", "content": content}))
        elif role == "assistant":
            self._open_turn(joins=False)
            self._turn().has_message = True
            self._turn().texts.append(_text_only(item.get("content"), self.notes, "assistant"))
        else:
            self.notes.append(f"message with role {role!r}")

    def _tool_output(self, item: Json) -> None:
        call_id = _str(item.get("call_id"))
        if not call_id:
            if self.unpaired == "raise":
                raise UnpairedOutputError(
                    f"function_call_output without call_id: {_output_text(item.get('output'))!r:.100}"
                )
            self.notes.append(f"{_kind(item)} without call_id")
            return
        self.blocks.append(_ToolOutput(call_id, _output_text(item.get("output"), self.notes)))
        if self.turn is not None:
            self.turn.answered = True


# ---------------------------------------------------------------------------------------------- replay


def _signatures(turns: list[_Turn]) -> dict[str, tuple[str, str]]:
    """call id → (Gemini thought signature, source) from every carrier of the conversation.

    A ``thought_signature`` carrier wins over a ``google-gemini-v1`` detail naming the call, which wins over
    a detail naming no call (Vercel sends those, after the call): that one goes to the first call of its
    turn, where Gemini puts the signature of a step.
    """
    named: dict[str, tuple[str, str]] = {}
    unnamed: dict[str, tuple[str, str]] = {}
    explicit: dict[str, tuple[str, str]] = {}
    for turn in turns:
        for carrier in (c for r in turn.reasoning for c in r.carriers):
            call_id, signature = _str(carrier.get("call_id")), _str(carrier.get("signature"))
            gemini = _gemini_signature(carrier)
            if carrier.get("kind") == "thought_signature" and call_id and signature:
                explicit[call_id] = (signature, _str(carrier.get("source")) or "extra_content")
            elif gemini is not None and gemini[0] is not None:
                named.setdefault(gemini[0], (gemini[1], "reasoning_details"))
            elif gemini is not None and turn.calls:
                unnamed.setdefault(turn.calls[0]["id"], (gemini[1], "reasoning_details"))
    return {**unnamed, **named, **explicit}


def _signed_call(call: Json, signatures: Mapping[str, tuple[str, str]]) -> Json:
    signed = signatures.get(call["id"])
    if signed is None:
        return call
    signature, source = signed
    call = {**call, "extra_content": {"google": {"thought_signature": signature}}}
    if source == "provider_specific_fields":
        call["provider_specific_fields"] = {"thought_signature": signature}
    return call


def _reasoning_details(reasoning: list[_Reasoning]) -> list[Json]:
    details: list[Json] = []
    for item in reasoning:
        text = item.text
        for carrier in item.carriers:
            detail = _obj(carrier.get("detail")) if carrier.get("kind") == "reasoning_detail" else None
            if detail is None:
                continue
            if detail.get("type") == "reasoning.text" and detail.get("signature") and "text" not in detail:
                detail["text"], text = text, ""  # the text was not stored; the first signed block gets it
            details.append(detail)
    return details


def _thinking_blocks(reasoning: list[_Reasoning]) -> list[Json]:
    blocks: list[Json] = []
    for item in reasoning:
        text = item.text
        for carrier in item.carriers:
            kind = carrier.get("kind")
            if kind == "thinking_signature" and _str(carrier.get("signature")):
                blocks.append({"type": "thinking", "thinking": text, "signature": carrier["signature"]})
                text = ""
            elif kind == "redacted_thinking" and _str(carrier.get("data")):
                blocks.append({"type": "redacted_thinking", "data": carrier["data"]})
    return blocks


def _assistant_message(
    turn: _Turn, mode: ReasoningContentMode | ReplayReasoning, signatures: Mapping[str, tuple[str, str]]
) -> Json | None:
    if not turn.has_message and not turn.calls:
        return None
    message: Json = {"role": "assistant", "content": _join(turn.texts, "\n\n") if turn.has_message else None}
    if turn.calls:
        message["tool_calls"] = [_signed_call(c, signatures) for c in turn.calls]
    if callable(mode):
        replayed = [r for r in turn.reasoning if mode(r.item)]
    else:
        replayed = turn.reasoning if mode == "always" or (mode == "tool_turns" and turn.calls) else []
    text = _join([r.text for r in replayed], "\n\n")
    if text:
        message["reasoning_content"] = text
    details = _reasoning_details(turn.reasoning)
    if details:
        message["reasoning_details"] = details
    blocks = _thinking_blocks(turn.reasoning)
    if blocks:
        message["thinking_blocks"] = blocks
    return _signed_text(message, turn.reasoning)


def _signed_text(message: Json, reasoning: list[_Reasoning]) -> Json:
    """A thought signature that came on the text (no ``call_id``) goes back on the message, as it came."""
    for carrier in (c for r in reasoning for c in r.carriers):
        signature = _str(carrier.get("signature"))
        if carrier.get("kind") != "thought_signature" or carrier.get("call_id") or not signature:
            continue
        message["extra_content"] = {"google": {"thought_signature": signature}}
        if carrier.get("source") == "provider_specific_fields":
            message["provider_specific_fields"] = {"thought_signature": signature}
    return message


def _tool_message(output: _ToolOutput) -> Json:
    return {"role": "tool", "tool_call_id": output.call_id, "content": output.content}


def _emit(blocks: list[_Block], mode: ReasoningContentMode | ReplayReasoning, notes: list[str]) -> list[Json]:
    """Second pass: messages in order, each tool output moved right after the turn holding its call."""
    turns = [b for b in blocks if isinstance(b, _Turn)]
    owner: dict[str, _Turn] = {}
    for turn in turns:
        for call_id in turn.call_ids:
            owner.setdefault(call_id, turn)
    outputs: dict[int, list[_ToolOutput]] = {id(t): [] for t in turns}
    for block in blocks:
        if isinstance(block, _ToolOutput) and block.call_id in owner:
            outputs[id(owner[block.call_id])].append(block)
    signatures = _signatures(turns)
    messages: list[Json] = []
    for block in blocks:
        if isinstance(block, _User):
            messages.append(block.message)
        elif isinstance(block, _ToolOutput):
            if block.call_id not in owner:
                messages.append(_tool_message(block))
        else:
            message = _assistant_message(block, mode, signatures)
            if message is None:
                notes.append("assistant turn with neither text nor tool calls (reasoning only)")
                continue
            messages.append(message)
            order = block.call_ids
            for output in sorted(outputs[id(block)], key=lambda o: order.index(o.call_id)):
                messages.append(_tool_message(output))
    return messages


def items_to_messages(
    items: Any,
    *,
    instructions: str | None = None,
    reasoning_content: ReasoningContentMode | ReplayReasoning = "tool_turns",
    dropped: list[str] | None = None,
    calls_after_outputs: CallsAfterOutputs = "new_turn",
    unpaired_outputs: Literal["drop", "raise"] = "drop",
) -> list[Json]:
    """Responses input / output items (or a ``str`` input) → Chat Completions ``messages``.

    ``dropped``, if given, receives a short description of everything skipped (``item_reference``, hosted
    tool items, foreign ``encrypted_content``, unsupported parts). Raises ``ValueError`` only when ``items``
    is neither a ``str`` nor a ``list`` / ``tuple``, or for an unknown ``reasoning_content`` mode.
    ``calls_after_outputs`` says which history convention the caller follows (see :data:`CallsAfterOutputs`).
    ``reasoning_content`` may also be a predicate over each reasoning item (a JSON dict): its text goes
    back as ``reasoning_content`` when it returns true (openai-agents' ``should_replay_reasoning_content``).
    ``unpaired_outputs="raise"``: a ``function_call_output`` without ``call_id`` (no chat ``tool`` message can
    say which call it answers) raises :class:`UnpairedOutputError` instead of being dropped.
    """
    _check_mode(reasoning_content)
    notes = dropped if dropped is not None else []
    if isinstance(items, str):
        items = [{"role": "user", "content": items}]
    grouper = _Grouper(notes, calls_after_outputs, unpaired=unpaired_outputs)
    for raw in _check_input(items, "items"):
        grouper.add(raw)
    messages = _emit(grouper.blocks, reasoning_content, notes)
    system = _join([instructions or "", *grouper.system], "\n\n")
    return [{"role": "system", "content": system}, *messages] if system else messages


_ASSISTANT_OUTPUT = frozenset({"reasoning", *_CALL_ITEMS})


def _is_assistant_message(item: Json) -> bool:
    return _kind(item) == "message" and item.get("role") == "assistant"


def output_items_to_message(
    items: Any, *, reasoning_content: ReasoningContentMode = "tool_turns", dropped: list[str] | None = None
) -> Json:
    """The one assistant message for the output items of one response (what a tool loop appends).

    Every reasoning, assistant message and function_call item goes into that one message, whatever their
    order; other items are skipped (reported in ``dropped``). No text and no calls gives ``content: ""``.
    """
    _check_mode(reasoning_content)
    notes = dropped if dropped is not None else []
    grouper = _Grouper(notes)
    grouper.turn = _Turn()
    for raw in _check_input(items, "items"):
        item = _obj(raw)
        kind = _kind(item) if item is not None else None
        if item is not None and (kind in _ASSISTANT_OUTPUT or _is_assistant_message(item)):
            grouper.add(item)
        else:
            notes.append(f"not an assistant output item: {kind or type(raw).__name__}")
    message = _assistant_message(grouper.turn, reasoning_content, _signatures([grouper.turn]))
    return message if message is not None else {"role": "assistant", "content": ""}


# ---------------------------------------------------------------------------------------------- inverse


def _input_part(part: Json) -> Json | None:
    kind = _type(part)
    if kind == "text":
        return {"type": "input_text", "text": _str(part.get("text")) or ""}
    image = _obj(part.get("image_url"))
    if kind == "image_url" and image is not None and _str(image.get("url")):
        return {"type": "input_image", "image_url": image["url"], "detail": image.get("detail", "auto")}
    file = _obj(part.get("file"))
    if kind == "file" and file is not None:
        return {"type": "input_file", **{k: v for k, v in file.items() if isinstance(v, str)}}
    if kind == "image_url":  # a raw chat part in a Responses input: kept as it is (the Agents SDK accepts it)
        image = _obj(part.get("image_url")) or {}
        if _str(image.get("url")):
            return {"type": "image_url", "image_url": image}
    if kind == "input_audio" and _obj(part.get("input_audio")) is not None:
        return {"type": "input_audio", "input_audio": _obj(part.get("input_audio"))}
    return None


def _input_message(role: str, content: Any) -> Json:
    parts = [p for p in map(_input_part, _parts(content)) if p is not None]
    return {"type": "message", "role": role, "content": parts}


def _detail_carriers(message: Json, texts: list[str]) -> list[Json]:
    carriers: list[Json] = []
    for detail in (d for d in map(_obj, _list(message.get("reasoning_details"))) if d is not None):
        kind = _type(detail)
        if kind == "reasoning.text" and detail.get("signature"):
            texts.append(_str(detail.get("text")) or "")
            carriers.append(
                {"kind": "reasoning_detail", "detail": {k: v for k, v in detail.items() if k != "text"}}
            )
        elif kind == "reasoning.encrypted" and _str(detail.get("data")):
            carriers.append({"kind": "reasoning_detail", "detail": detail})
        elif kind in ("reasoning.text", "reasoning.summary"):
            texts.append(_str(detail.get("text")) or _str(detail.get("summary")) or "")
    return carriers


def _block_carriers(message: Json, texts: list[str]) -> list[Json]:
    carriers: list[Json] = []
    for block in (b for b in map(_obj, _list(message.get("thinking_blocks"))) if b is not None):
        kind = _type(block)
        if kind == "thinking":
            texts.append(_str(block.get("thinking")) or "")
            if _str(block.get("signature")):
                carriers.append({"kind": "thinking_signature", "signature": block["signature"]})
        elif kind == "redacted_thinking" and _str(block.get("data")):
            carriers.append({"kind": "redacted_thinking", "data": block["data"]})
    return carriers


def _call_signature(call: Json) -> tuple[str, str] | None:
    fields = _obj(call.get("provider_specific_fields")) or {}
    google = _obj((_obj(call.get("extra_content")) or {}).get("google")) or {}
    if _str(fields.get("thought_signature")):
        return fields["thought_signature"], "provider_specific_fields"
    if _str(google.get("thought_signature")):
        return google["thought_signature"], "extra_content"
    return None


def _call_carriers(calls: list[Json], carriers: list[Json]) -> list[Json]:
    """Thought signatures on tool calls, minus those a Gemini ``reasoning.encrypted`` detail already holds."""
    held = {g for g in map(_gemini_signature, carriers) if g is not None}
    out: list[Json] = []
    for index, call in enumerate(calls):
        signed, call_id = _call_signature(call), _str(call.get("id"))
        if signed is None or not call_id:
            continue
        signature, source = signed
        if source == "extra_content" and (
            (call_id, signature) in held or (index == 0 and (None, signature) in held)
        ):
            continue
        out.append(
            {"kind": "thought_signature", "source": source, "signature": signature, "call_id": call_id}
        )
    return out


def _function_call(call: Json) -> Json | None:
    custom = _obj(call.get("custom"))
    if custom is not None or call.get("type") == "custom":
        return _custom_tool_call(call, custom or {})
    function = _obj(call.get("function")) or {}
    call_id, name = _str(call.get("id")), _str(function.get("name"))
    if not call_id or not name:
        return None
    arguments = function.get("arguments")
    return {
        "type": "function_call",
        "call_id": call_id,
        "name": name,
        "arguments": "{}" if arguments is None else _json_text(arguments),
    }


def _custom_tool_call(call: Json, custom: Json) -> Json | None:
    call_id, name = _str(call.get("id")), _str(custom.get("name"))
    if not call_id or not name:
        return None
    tool_input = _str(custom.get("input")) or ""
    return {"type": "custom_tool_call", "call_id": call_id, "name": name, "input": tool_input}


def _text_carriers(message: Json) -> list[Json]:
    """A thought signature on the message itself (Gemini signs the text of an answer without calls)."""
    signed = _call_signature(message)
    if signed is None:
        return []
    return [{"kind": "thought_signature", "source": signed[1], "signature": signed[0]}]


def _signed_blocks(message: Json) -> list[tuple[str, Json]] | None:
    """Each signed block (thinking, redacted, signed ``reasoning.text``) with its own text, when there are
    several and nothing else holds reasoning text; else ``None`` (one reasoning item holds it all)."""
    blocks: list[tuple[str, Json]] = []
    for detail in (d for d in map(_obj, _list(message.get("reasoning_details"))) if d is not None):
        if _type(detail) in ("reasoning.text", "reasoning.summary") and not detail.get("signature"):
            return None
        if _type(detail) == "reasoning.text":
            bare = {k: v for k, v in detail.items() if k != "text"}
            blocks.append((_str(detail.get("text")) or "", {"kind": "reasoning_detail", "detail": bare}))
    for block in (b for b in map(_obj, _list(message.get("thinking_blocks"))) if b is not None):
        texts: list[str] = []
        carriers = _block_carriers({"thinking_blocks": [block]}, texts)
        if not carriers and any(texts):
            return None
        blocks.extend(("".join(texts), carrier) for carrier in carriers)
    return blocks if len(blocks) > 1 else None


def _reasoning_item(text: str, carriers: list[Json]) -> Json:
    item: Json = {"type": "reasoning", "summary": [{"type": "summary_text", "text": text}] if text else []}
    if carriers:
        item["encrypted_content"] = encode_carriers(carriers)
    return item


def _block_reasoning_items(message: Json, calls: list[Json], blocks: list[tuple[str, Json]]) -> list[Json]:
    """One reasoning item per signed block, in order, then one for the other signatures (if any)."""
    items = [_reasoning_item(text, [carrier]) for text, carrier in blocks]
    details = _detail_carriers(message, [])
    others = [c for c in details if (_obj(c.get("detail")) or {}).get("type") == "reasoning.encrypted"]
    others += _call_carriers(calls, others) + _text_carriers(message)
    if others:
        items.append(_reasoning_item("", others))
    return items


def _assistant_items(message: Json) -> list[Json]:
    calls = [c for c in map(_obj, _list(message.get("tool_calls"))) if c is not None]
    blocks = _signed_blocks(message)
    if blocks is not None:
        return _block_reasoning_items(message, calls, blocks) + _answer_items(message, calls)
    detail_texts: list[str] = []
    block_texts: list[str] = []
    carriers = _detail_carriers(message, detail_texts) + _block_carriers(message, block_texts)
    carriers += _call_carriers(calls, carriers) + _text_carriers(message)
    # One text for the reasoning item: the same thought usually comes in several of these fields.
    text = _str(message.get("reasoning_content")) or _join(detail_texts, "\n\n") or _join(block_texts, "\n\n")
    items = [_reasoning_item(text, carriers)] if text or carriers else []
    return items + _answer_items(message, calls)


def _answer_items(message: Json, calls: list[Json]) -> list[Json]:
    """The assistant message item (text, refusal) and the call items of a chat assistant message."""
    items: list[Json] = []
    content = message.get("content")
    if content is not None or _str(message.get("refusal")):
        parts: list[Json] = []
        if content is not None:
            parts.append(
                {"type": "output_text", "text": _text_only(content, [], "assistant"), "annotations": []}
            )
        if _str(message.get("refusal")):
            parts.append({"type": "refusal", "refusal": message["refusal"]})
        items.append({"type": "message", "role": "assistant", "content": parts})
    items.extend(i for i in map(_function_call, calls) if i is not None)
    return items


def messages_to_items(messages: Any) -> list[Json]:
    """Chat Completions messages → Responses input items (best effort inverse of :func:`items_to_messages`).

    ``reasoning_content``, ``reasoning_details``, ``thinking_blocks`` and tool-call thought signatures go into
    one reasoning item (summary text + our ``encrypted_content`` carriers) placed before the assistant's
    message and function calls. Unknown roles and malformed messages are skipped. Raises ``ValueError``
    when ``messages`` is not a ``list`` / ``tuple``.
    """
    items: list[Json] = []
    for message in (m for m in map(_obj, _check_input(messages, "messages")) if m is not None):
        role = message.get("role")
        if role in ("system", "developer", "user"):
            items.append(_input_message(str(role), message.get("content")))
        elif role == "assistant":
            items.extend(_assistant_items(message))
        elif role == "tool" and _str(message.get("tool_call_id")):
            output = _text_only(message.get("content"), [], "tool")
            items.append(
                {"type": "function_call_output", "call_id": message["tool_call_id"], "output": output}
            )
    return items
