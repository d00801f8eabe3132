"""The edge: one provider chunk in, one small vendor-neutral :class:`ChunkView` out.

Every provider quirk in ``docs/provider-quirks.md`` is mapped here, so the state machine in
``_translator.py`` never asks "is this Gemini?". A chunk may be a raw ``dict`` (real chunks often fail SDK
validation: Azure ``object: ""``, Mistral content arrays, tool calls without ``index``, ``finish_reason:
"eos"``, null usage fields) or an ``openai`` ``ChatCompletionChunk`` (whose provider extras such as
``reasoning_content`` are reachable as attributes). Both are read through :func:`fields_of`, never
validated, and a field of the wrong type is ignored rather than trusted.

A view holds, for the selected choice, the *parts* of its delta in the order they are to be emitted:

    ("reasoning", text)   raw chain of thought (reasoning_content, reasoning, reasoning_details text,
                           thinking blocks, Mistral thinking parts)
    ("summary", text)     a reasoning summary (OpenRouter ``reasoning.summary``)
    ("carrier", dict)     an opaque provider object that must survive a history replay (signatures,
                           encrypted reasoning); see ``_carriers`` below for the shapes
    ("text", text)        assistant text (may still hold ``<think>`` tags: the translator parses those)
    ("refusal", text)
    ("tool", ToolFragment)  a ``tool_calls`` entry (a function or a custom tool call), or a legacy
                           ``delta.function_call`` (no index, no id: the translator synthesises the call_id)
    ("annotation", dict)  a Responses ``url_citation`` annotation
    ("unsupported", str)  output the Responses API cannot carry (audio): the translator fails the response

A signed block ends where its signature comes: a ``thinking_signature``, ``redacted_thinking`` or signed
``reasoning.text`` carrier closes the reasoning it signs, so several blocks of one response each keep their
own text and signature. A thought signature on the delta itself (Gemini 3 signs the last text part of an
answer with no tool call) is a ``thought_signature`` carrier without ``call_id``.

Reasoning is never duplicated: providers that send the same text in two fields (OpenRouter ``reasoning`` +
``reasoning_details``, Avian ``reasoning_content`` + ``reasoning_details``, LiteLLM ``reasoning_content`` +
``thinking_blocks``) contribute it once, from the first field in the order listed above.

Nine chunks in ten carry one plain text, reasoning or tool-call fragment and nothing else.
:func:`read_plain_part` answers those without building a view (about half the cost), and declines
(``None``) whenever ``read_chunk`` could say anything more; the translator then asks ``read_chunk``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

Part = tuple[str, Any]

REASONING: Final = "reasoning"
SUMMARY: Final = "summary"
CARRIER: Final = "carrier"
TEXT: Final = "text"
REFUSAL: Final = "refusal"
TOOL: Final = "tool"
ANNOTATION: Final = "annotation"
UNSUPPORTED: Final = "unsupported"


def fields_of(obj: Any) -> Mapping[str, Any]:
    """What can be read from a provider object: a dict itself, the fields and provider extras of an SDK model.

    Read once per object, then looked up with ``.get``: ``getattr`` on a pydantic model for a missing name
    goes through ``__getattr__`` and an exception, and most keys asked here are missing. Pydantic keeps
    declared fields in ``__dict__`` and the others in ``__pydantic_extra__``, never a name in both, so
    the two merge without conflict. Anything else (str, int, list, None…) has nothing to read.
    """
    if type(obj) is dict:
        return obj
    if isinstance(obj, Mapping):  # an OrderedDict (json.loads with object_pairs_hook) or any other mapping
        return obj
    fields = getattr(obj, "__dict__", None)
    if fields is None:
        return _NOTHING
    extra = getattr(obj, "__pydantic_extra__", None)
    return {**fields, **extra} if extra else fields


_NOTHING: Final[Mapping[str, Any]] = MappingProxyType({})


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


class ToolFragment:
    """One entry of ``delta.tool_calls``: any of its fields may be missing (see docs/provider-quirks.md)."""

    __slots__ = ("arguments", "call_id", "carrier", "custom", "index", "name")

    def __init__(
        self,
        index: int | None,
        call_id: str | None,
        name: str | None,
        arguments: str,
        carrier: dict[str, Any] | None,
        custom: bool = False,
    ) -> None:
        self.index = index
        self.call_id = call_id
        self.name = name
        self.arguments = arguments  # for a custom tool call: its free-form ``input``
        self.carrier = carrier
        self.custom = custom  # ``type: "custom"``: a custom_tool_call, whose input is not JSON

    def __repr__(self) -> str:
        return (
            f"ToolFragment(index={self.index!r}, call_id={self.call_id!r}, name={self.name!r}, "
            f"arguments={self.arguments!r}, carrier={self.carrier!r}, custom={self.custom!r})"
        )


class ChunkView:
    """What one chunk says about the response and about the selected choice."""

    __slots__ = ("citations", "created", "error", "finish_reason", "logprobs", "model", "parts", "usage")

    def __init__(self) -> None:
        self.parts: list[Part] = []
        self.finish_reason: str | None = None
        self.usage: dict[str, Any] | None = None
        self.error: dict[str, Any] | None = None
        self.model: str | None = None
        self.created: int | None = None
        self.logprobs: list[dict[str, Any]] | None = None
        self.citations: list[str] | None = None


def read_plain_part(chunk: Any, choice_index: int) -> Part | None:
    """The fast path for nine chunks in ten: the one ``text``, ``reasoning`` or ``tool`` part of a chunk
    that holds nothing else, or None when it may hold anything else (then ask :func:`read_chunk`).

    When it answers, ``read_chunk`` would have returned a view with just that part: no finish reason,
    usage, error, citations or logprobs (``model`` and ``created`` are not read: they matter only for the
    first chunks, which the translator reads in full).
    """
    fields = fields_of(chunk)
    choices = fields.get("choices")
    if (
        type(choices) is not list
        or len(choices) != 1
        or fields.get("error") is not None
        or fields.get("usage") is not None
        or fields.get("x_groq") is not None
        or fields.get("citations")
    ):
        return None
    choice = fields_of(choices[0])
    index = choice.get("index")
    delta_obj = choice.get("delta")
    if (
        (index if isinstance(index, int) else 0) != choice_index
        or choice.get("finish_reason")
        or choice.get("logprobs") is not None
        or delta_obj is None
    ):
        return None
    delta = fields_of(delta_obj)
    if delta.get("refusal") or delta.get("annotations"):
        return None
    if not _RARE_FIELDS.isdisjoint(delta) and _has_rare_field(delta):  # one C-level check for raw dicts
        return None
    content, tool_calls = delta.get("content"), delta.get("tool_calls")
    if tool_calls:
        return _plain_tool_part(delta, content, tool_calls)
    if _REASONING_FIELDS.isdisjoint(delta):
        return (TEXT, content) if type(content) is str and content else None
    reasoning = delta.get("reasoning_content") or delta.get("reasoning")
    if content or delta.get("reasoning_details") or delta.get("thinking_blocks"):
        return None
    return (REASONING, reasoning) if type(reasoning) is str and reasoning else None


_RARE_FIELDS: Final = frozenset({"function_call", "audio", "extra_content", "provider_specific_fields"})


def _has_rare_field(delta: Mapping[str, Any]) -> bool:
    """A field only :func:`read_chunk` reads (SDK deltas hold ``function_call: None``, hence the values)."""
    return bool(
        delta.get("function_call")
        or delta.get("audio")
        or delta.get("extra_content")
        or delta.get("provider_specific_fields")
    )


def _plain_tool_part(delta: Mapping[str, Any], content: Any, tool_calls: Any) -> Part | None:
    """One tool call fragment and nothing else (how arguments stream), for :func:`read_plain_part`."""
    if (
        content
        or type(tool_calls) is not list
        or len(tool_calls) != 1
        or not _REASONING_FIELDS.isdisjoint(delta)
    ):
        return None
    fragment = _read_tool_call(tool_calls[0])
    return None if fragment is None else (TOOL, fragment)


def read_chunk(chunk: Any, choice_index: int) -> ChunkView:
    """Normalise one chunk. Never raises for a dict or SDK chunk, whatever its fields hold."""
    view = ChunkView()
    fields = fields_of(chunk)
    error = fields.get("error")
    if error is not None and error is not False:
        view.error = _read_error(error)
    model = fields.get("model")
    if isinstance(model, str) and model:
        view.model = model
    created = fields.get("created")
    # A float must hold it exactly (``created_at`` is a number in the SDK; 400 digits broke the typed path).
    if isinstance(created, int) and not isinstance(created, bool) and 0 < created < 2**53:
        view.created = created
    usage, x_groq = fields.get("usage"), fields.get("x_groq")
    if usage is not None or x_groq is not None:
        view.usage = _read_usage(usage, x_groq)
    citations = fields.get("citations")  # Perplexity repeats the full list on every chunk
    if isinstance(citations, list) and all(isinstance(c, str) for c in citations):
        view.citations = citations
    choices = fields.get("choices")
    if isinstance(choices, list):
        for choice in choices:
            choice_fields = fields_of(choice)
            index = choice_fields.get("index")
            # A choice without ``index`` (some gateways) is the only choice.
            if (index if isinstance(index, int) else 0) == choice_index:
                _read_choice(choice_fields, view)
    return view


def _read_error(error: Any) -> dict[str, Any]:
    """A provider error object (``{"error": {...}}``, Groq ``event: error``, OpenRouter mid-stream)."""
    if isinstance(error, str):
        return {"message": error}
    fields = fields_of(error)
    message = fields.get("message")
    out: dict[str, Any] = {"message": message if isinstance(message, str) and message else repr(error)}
    for key in ("code", "type", "param", "status_code", "failed_generation"):
        value = fields.get(key)
        if value is not None:
            out[key] = value
    return out


# Most deltas carry none of these (one C-level check skips them all).
_REASONING_FIELDS: Final = frozenset(
    {"reasoning_content", "reasoning", "reasoning_details", "thinking_blocks"}
)


def _read_choice(choice: Mapping[str, Any], view: ChunkView) -> None:
    finish = choice.get("finish_reason")
    if isinstance(finish, str) and finish:
        view.finish_reason = finish
    delta_obj = choice.get("delta")
    if delta_obj is None:
        delta_obj = choice.get("message")  # Writer's non-standard accumulator; only when there is no delta
        if delta_obj is None:
            return  # Azure's trailing content_filter_offsets choice has no delta at all
    delta = fields_of(delta_obj)
    parts = view.parts
    if not _REASONING_FIELDS.isdisjoint(delta):
        _read_reasoning(delta, parts)
    content = delta.get("content")
    if type(content) is str:
        if content:
            parts.append((TEXT, content))
    elif content is not None:
        _read_content_parts(content, parts)
    if delta.get("refusal") or delta.get("tool_calls") or delta.get("annotations"):  # SDK deltas hold Nones
        _read_refusal_tools_annotations(delta, parts)
    if not _RARE_FIELDS.isdisjoint(delta) and _has_rare_field(delta):
        _read_rare_fields(delta, parts)
    logprobs = choice.get("logprobs")
    if logprobs is not None:
        content_logprobs = fields_of(logprobs).get("content")
        if isinstance(content_logprobs, list) and content_logprobs:
            view.logprobs = [_read_logprob(lp) for lp in content_logprobs]


def _read_refusal_tools_annotations(delta: Mapping[str, Any], parts: list[Part]) -> None:
    refusal = _str(delta.get("refusal"))
    if refusal:
        parts.append((REFUSAL, refusal))
    for raw in _list(delta.get("tool_calls")):
        fragment = _read_tool_call(raw)
        if fragment is not None:
            parts.append((TOOL, fragment))
    for raw in _list(delta.get("annotations")):
        annotation = _read_annotation(raw)
        if annotation is not None:
            parts.append((ANNOTATION, annotation))


def _read_rare_fields(delta: Mapping[str, Any], parts: list[Part]) -> None:
    """Shapes few streams bring: the legacy functions API, audio output, a signature on the text."""
    legacy = delta.get("function_call")
    if legacy is not None:
        fragment = _read_function(fields_of(legacy), index=None, call_id=None, carrier=None)
        if fragment is not None:
            parts.append((TOOL, fragment))
    audio = delta.get("audio")
    if audio is not None and fields_of(audio):
        parts.append((UNSUPPORTED, _AUDIO_UNSUPPORTED))
    carrier = _thought_signature(delta)
    if carrier is not None:  # Gemini 3 signs the last text part of an answer that has no tool call
        parts.append((CARRIER, carrier))


_AUDIO_UNSUPPORTED: Final = (
    "unsupported_output: the upstream streamed audio output (delta.audio); audio output is not supported "
    "(a Responses output item cannot hold audio): request text output (no 'audio' in modalities)"
)


def _read_reasoning(delta: Mapping[str, Any], parts: list[Part]) -> None:
    blocks = _list(delta.get("thinking_blocks"))
    if blocks and any(_str(fields_of(b).get("thinking")) for b in blocks):
        # The blocks hold the same text as reasoning_content, but split where each signature goes.
        _read_thinking_blocks(blocks, parts)
        return
    text = _str(delta.get("reasoning_content")) or _str(delta.get("reasoning"))
    details = _list(delta.get("reasoning_details"))
    has_summary = any(fields_of(d).get("type") == "reasoning.summary" for d in details)
    if text and not has_summary:
        # OpenRouter sends the summary twice (``reasoning`` and a ``reasoning.summary`` detail); the detail
        # says which kind it is, so it wins.
        parts.append((REASONING, text))
    for detail in details:
        _read_reasoning_detail(detail, parts, text_already_sent=bool(text))
    _read_thinking_blocks(blocks, parts, text_already_sent=bool(text))


def _read_reasoning_detail(raw: Any, parts: list[Part], *, text_already_sent: bool) -> None:
    detail = fields_of(raw)
    kind = detail.get("type")
    if kind == "reasoning.text":
        text = _str(detail.get("text"))
        if text and not text_already_sent:
            parts.append((REASONING, text))
        signature = _str(detail.get("signature"))
        if signature:  # Anthropic via OpenRouter/Vercel: the block's signature, on its last delta
            parts.append((CARRIER, {"kind": "reasoning_detail", "detail": _plain(raw, drop=("text",))}))
    elif kind == "reasoning.summary":
        summary = _str(detail.get("summary"))
        if summary:
            parts.append((SUMMARY, summary))
    elif kind == "reasoning.encrypted" and _str(detail.get("data")):
        # OpenAI o-series encrypted reasoning, or a Gemini thought signature (format google-gemini-v1,
        # ``id`` = the tool call it belongs to). Kept whole: the history replay sends it back verbatim.
        parts.append((CARRIER, {"kind": "reasoning_detail", "detail": _plain(raw)}))


def ends_block(carrier: Mapping[str, Any]) -> bool:
    """Whether a carrier is the signature that ends a block of reasoning (see the module docstring)."""
    kind = carrier.get("kind")
    if kind in ("thinking_signature", "redacted_thinking"):
        return True
    detail = carrier.get("detail") if kind == "reasoning_detail" else None
    if not isinstance(detail, dict):
        return False
    return detail.get("type") == "reasoning.text" and bool(detail.get("signature"))


def _read_thinking_blocks(blocks: list[Any], parts: list[Part], *, text_already_sent: bool = False) -> None:
    for block in blocks:
        _read_thinking_block(fields_of(block), parts, text_already_sent=text_already_sent)


def _read_thinking_block(block: Mapping[str, Any], parts: list[Part], *, text_already_sent: bool) -> None:
    """LiteLLM's Anthropic ``thinking_blocks``: text (usually also in reasoning_content) + signature. A block
    without a ``type`` is a thinking block (as openai-agents reads it): skipping it lost the whole delta."""
    kind = block.get("type", "thinking")
    if kind == "thinking":
        text = _str(block.get("thinking"))
        if text and not text_already_sent:
            parts.append((REASONING, text))
        signature = _str(block.get("signature"))
        if signature:
            parts.append((CARRIER, {"kind": "thinking_signature", "signature": signature}))
    elif kind == "redacted_thinking":
        data = _str(block.get("data"))
        if data:
            parts.append((CARRIER, {"kind": "redacted_thinking", "data": data}))


def _read_content_parts(content: Any, parts: list[Part]) -> None:
    """Mistral (magistral, small) and Databricks send content as an array of typed parts."""
    if isinstance(content, str):  # a str subclass
        if content:
            parts.append((TEXT, content))
        return
    for part_obj in _list(content):
        part = fields_of(part_obj)
        kind = part.get("type")
        if kind == "text":
            text = _str(part.get("text"))
            if text:
                parts.append((TEXT, text))
        elif kind == "thinking":
            for inner in _list(part.get("thinking")):
                text = _str(fields_of(inner).get("text"))
                if text:
                    parts.append((REASONING, text))
        elif kind == "reasoning":  # Databricks
            text = _str(part.get("text")) or _str(part.get("reasoning"))
            if text:
                parts.append((REASONING, text))


def _read_tool_call(raw: Any) -> ToolFragment | None:
    """``None`` for an entry that is not an object or carries nothing (no id, name, arguments, signature)."""
    if raw is None or isinstance(raw, (str, int, float, list)):
        return None
    fields = fields_of(raw)
    index = fields.get("index")
    index = index if isinstance(index, int) and not isinstance(index, bool) else None
    call_id = _str(fields.get("id")) or None  # DashScope repeats ``id: ""`` on continuation fragments
    carrier = _thought_signature(fields)
    custom = fields.get("custom")
    if custom is not None or fields.get("type") == "custom":
        return _read_custom(fields_of(custom), index, call_id, carrier)
    function = fields.get("function")
    function_fields = fields_of(function) if function is not None else _NOTHING
    return _read_function(function_fields, index, call_id, carrier)


def _read_function(
    function: Mapping[str, Any], index: int | None, call_id: str | None, carrier: dict[str, Any] | None
) -> ToolFragment | None:
    """A ``function`` of a tool call, or a legacy ``delta.function_call`` (same two fields)."""
    name = _str(function.get("name"))
    arguments = function.get("arguments")
    if not isinstance(arguments, str):
        # A few servers send already-parsed arguments; keep them as JSON text rather than lose them.
        arguments = "" if arguments is None else _json_text(arguments)
    if not (call_id or name or arguments or carrier):
        return None
    # zai-glm repeats ``name: ""``
    return ToolFragment(index, call_id, name or None, arguments, carrier)


def _read_custom(
    custom: Mapping[str, Any], index: int | None, call_id: str | None, carrier: dict[str, Any] | None
) -> ToolFragment | None:
    """A custom tool call (``type: "custom"``, ``custom: {name, input}``): free-form input, not JSON."""
    name = _str(custom.get("name"))
    tool_input = custom.get("input")
    if not isinstance(tool_input, str):
        tool_input = "" if tool_input is None else _json_text(tool_input)
    if not (call_id or name or tool_input or carrier or index is not None):
        return None
    return ToolFragment(index, call_id, name or None, tool_input, carrier, custom=True)


def _thought_signature(raw: Mapping[str, Any]) -> dict[str, Any] | None:
    """A Gemini thought signature carried on the tool call itself (two of its three carriers)."""
    extra = raw.get("extra_content")
    google = fields_of(extra).get("google") if extra is not None else None
    signature = _str(fields_of(google).get("thought_signature")) if google is not None else None
    if signature:
        return {"kind": "thought_signature", "source": "extra_content", "signature": signature}
    provider_fields = raw.get("provider_specific_fields")  # LiteLLM
    signature = (
        _str(fields_of(provider_fields).get("thought_signature")) if provider_fields is not None else None
    )
    if signature:
        return {"kind": "thought_signature", "source": "provider_specific_fields", "signature": signature}
    return None


def _read_annotation(raw: Any) -> dict[str, Any] | None:
    """Chat ``{"type":"url_citation","url_citation":{...}}`` → Responses ``url_citation`` annotation."""
    fields = fields_of(raw)
    if fields.get("type") != "url_citation":
        return None
    inner = fields_of(fields.get("url_citation") or raw)
    url = _str(inner.get("url"))
    if not url:
        return None
    start, end = inner.get("start_index"), inner.get("end_index")
    return {
        "type": "url_citation",
        "url": url,
        "title": _str(inner.get("title")) or "",
        "start_index": start if isinstance(start, int) else 0,
        "end_index": end if isinstance(end, int) else 0,
    }


def _read_logprob(raw: Any) -> dict[str, Any]:
    fields = fields_of(raw)
    top = []
    for top_raw in _list(fields.get("top_logprobs")):
        top_fields = fields_of(top_raw)
        top.append(
            {
                "token": _str(top_fields.get("token")) or "",
                "logprob": _float(top_fields.get("logprob")),
                "bytes": _bytes(top_fields),
            }
        )
    return {
        "token": _str(fields.get("token")) or "",
        "logprob": _float(fields.get("logprob")),
        "bytes": _bytes(fields),
        "top_logprobs": top,
    }


# OpenAI's own floor for a token with no probability to speak of: what -Infinity (or NaN, or a number too
# large for a float) becomes, since strict JSON has no such numbers.
LOGPROB_FLOOR: Final = -9999.0


def _float(value: Any) -> float:
    """A logprob as a finite float: +Infinity is 0.0 (certain), -Infinity and NaN the floor, junk 0.0."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return 0.0
    try:
        number = float(value)
    except OverflowError:  # an integer of hundreds of digits
        return 0.0 if value > 0 else LOGPROB_FLOOR
    if math.isfinite(number):
        return number
    return 0.0 if number > 0 else LOGPROB_FLOOR


def _bytes(fields: Mapping[str, Any]) -> list[int]:
    value = fields.get("bytes")
    return [b for b in value if isinstance(b, int)] if isinstance(value, list) else []


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _read_usage(usage: Any, x_groq: Any) -> dict[str, Any] | None:
    """Chat usage → Responses usage. Null fields count as 0 (Neon sends nulls until the last chunk)."""
    if usage is None and x_groq is not None:
        usage = fields_of(x_groq).get("usage")
    if usage is None or isinstance(usage, (str, int, float, list, bool)):
        return None
    fields = fields_of(usage)
    prompt = _int(fields.get("prompt_tokens"))
    completion = _int(fields.get("completion_tokens"))
    total = _int(fields.get("total_tokens")) or prompt + completion
    prompt_details = fields_of(fields.get("prompt_tokens_details"))
    cached = (
        _int(prompt_details.get("cached_tokens"))
        or _int(fields.get("cached_tokens"))  # Moonshot: top level
        or _int(fields.get("prompt_cache_hit_tokens"))  # DeepSeek
    )
    cache_write = _int(prompt_details.get("cache_write_tokens"))
    reasoning = _int(fields_of(fields.get("completion_tokens_details")).get("reasoning_tokens"))
    return {
        "input_tokens": prompt,
        # openai 3.x requires cache_write_tokens; 2.x ignores it as an extra field.
        "input_tokens_details": {"cached_tokens": cached, "cache_write_tokens": cache_write},
        "output_tokens": completion,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": total,
    }


def _plain(obj: Any, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    """A JSON-ready copy of a provider object (dict or SDK model), without the keys in ``drop``."""
    if isinstance(obj, Mapping):
        return {k: v for k, v in obj.items() if k not in drop}
    dump = getattr(obj, "model_dump", None)
    data = dump(mode="json") if callable(dump) else {}
    return {k: v for k, v in data.items() if k not in drop} if isinstance(data, dict) else {}


def _json_text(value: Any) -> str:
    import json

    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError):
        return str(value)
