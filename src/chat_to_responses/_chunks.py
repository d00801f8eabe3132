"""The edge: one provider chunk in, one small vendor-neutral :class:`ChunkView` out.

Every provider quirk from ``provider-quirks.md`` is mapped here, so the state machine in
``_translator.py`` never asks "is this Gemini?". A chunk may be a raw ``dict`` (real chunks often fail SDK
validation: Azure ``object: ""``, Mistral content arrays, tool calls without ``index``, ``finish_reason:
"eos"``, null usage fields) or an ``openai`` ``ChatCompletionChunk`` (whose provider extras such as
``reasoning_content`` are reachable as attributes). Both are read through :func:`get`, never validated, and
a field of the wrong type is ignored rather than trusted.

A view holds, for the selected choice, the *parts* of its delta in the order they are to be emitted:

    ("reasoning", text)   raw chain of thought (reasoning_content, reasoning, reasoning_details text,
                           thinking blocks, Mistral thinking parts)
    ("summary", text)     a reasoning summary (OpenRouter ``reasoning.summary``)
    ("carrier", dict)     an opaque provider object that must survive a history replay (signatures,
                           encrypted reasoning); see ``_carriers`` below for the shapes
    ("text", text)        assistant text (may still hold ``<think>`` tags: the translator parses those)
    ("refusal", text)
    ("tool", ToolFragment)
    ("annotation", dict)  a Responses ``url_citation`` annotation

Reasoning is never duplicated: providers that send the same text in two fields (OpenRouter ``reasoning`` +
``reasoning_details``, Avian ``reasoning_content`` + ``reasoning_details``, LiteLLM ``reasoning_content`` +
``thinking_blocks``) contribute it once, from the first field in the order listed above.
"""

from __future__ import annotations

from typing import Any, Final

Part = tuple[str, Any]

REASONING: Final = "reasoning"
SUMMARY: Final = "summary"
CARRIER: Final = "carrier"
TEXT: Final = "text"
REFUSAL: Final = "refusal"
TOOL: Final = "tool"
ANNOTATION: Final = "annotation"


def get(obj: Any, key: str) -> Any:
    """``obj[key]`` for a dict, the field or provider extra ``key`` of an SDK model; ``None`` when absent.

    Models are read through ``__dict__`` and ``__pydantic_extra__``: ``getattr`` on a pydantic model for a
    missing name goes through ``__getattr__`` and an exception, and most keys asked here are missing.
    """
    if type(obj) is dict:
        return obj.get(key)
    fields = getattr(obj, "__dict__", None)
    if fields is None:
        return None  # str, int, list, None…: nothing to read
    value = fields.get(key)
    if value is None:
        extra = getattr(obj, "__pydantic_extra__", None)
        if extra:
            value = extra.get(key)
    return value


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


class ToolFragment:
    """One entry of ``delta.tool_calls``: any of its fields may be missing (see provider-quirks.md)."""

    __slots__ = ("arguments", "call_id", "carrier", "index", "name")

    def __init__(
        self,
        index: int | None,
        call_id: str | None,
        name: str | None,
        arguments: str,
        carrier: dict[str, Any] | None,
    ) -> None:
        self.index = index
        self.call_id = call_id
        self.name = name
        self.arguments = arguments
        self.carrier = carrier

    def __repr__(self) -> str:
        return (
            f"ToolFragment(index={self.index!r}, call_id={self.call_id!r}, name={self.name!r}, "
            f"arguments={self.arguments!r}, carrier={self.carrier!r})"
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


def read_chunk(chunk: Any, choice_index: int) -> ChunkView:
    """Normalise one chunk. Never raises for a dict or SDK chunk, whatever its fields hold."""
    view = ChunkView()
    error = get(chunk, "error")
    if error is not None and error is not False:
        view.error = _read_error(error)
    model = _str(get(chunk, "model"))
    view.model = model or None
    created = get(chunk, "created")
    if isinstance(created, int) and not isinstance(created, bool) and created > 0:
        view.created = created
    view.usage = _read_usage(get(chunk, "usage"), get(chunk, "x_groq"))
    citations = get(chunk, "citations")  # Perplexity repeats the full list on every chunk
    if isinstance(citations, list) and all(isinstance(c, str) for c in citations):
        view.citations = citations
    for choice in _list(get(chunk, "choices")):
        index = get(choice, "index")
        # A choice without ``index`` (some gateways) is the only choice.
        if (index if isinstance(index, int) else 0) == choice_index:
            _read_choice(choice, view)
    return view


def _read_error(error: Any) -> dict[str, Any]:
    """A provider error object (``{"error": {...}}``, Groq ``event: error``, OpenRouter mid-stream)."""
    if isinstance(error, str):
        return {"message": error}
    message = get(error, "message")
    out: dict[str, Any] = {"message": message if isinstance(message, str) and message else repr(error)}
    for key in ("code", "type", "param", "status_code", "failed_generation"):
        value = get(error, key)
        if value is not None:
            out[key] = value
    return out


def _read_choice(choice: Any, view: ChunkView) -> None:
    finish = get(choice, "finish_reason")
    if isinstance(finish, str) and finish:
        view.finish_reason = finish
    delta = get(choice, "delta")
    if delta is None:
        delta = get(choice, "message")  # Writer's non-standard accumulator; only when there is no delta
        if delta is None:
            return  # Azure's trailing content_filter_offsets choice has no delta at all
    _read_reasoning(delta, view.parts)
    _read_content(get(delta, "content"), view.parts)
    refusal = _str(get(delta, "refusal"))
    if refusal:
        view.parts.append((REFUSAL, refusal))
    for raw in _list(get(delta, "tool_calls")):
        fragment = _read_tool_call(raw)
        if fragment is not None:
            view.parts.append((TOOL, fragment))
    for raw in _list(get(delta, "annotations")):
        annotation = _read_annotation(raw)
        if annotation is not None:
            view.parts.append((ANNOTATION, annotation))
    logprobs = get(choice, "logprobs")
    if logprobs is not None:
        content_logprobs = get(logprobs, "content")
        if isinstance(content_logprobs, list) and content_logprobs:
            view.logprobs = [_read_logprob(lp) for lp in content_logprobs]


def _read_reasoning(delta: Any, parts: list[Part]) -> None:
    text = _str(get(delta, "reasoning_content")) or _str(get(delta, "reasoning"))
    details = _list(get(delta, "reasoning_details"))
    has_summary = any(get(d, "type") == "reasoning.summary" for d in details)
    if text and not has_summary:
        # OpenRouter sends the summary twice (``reasoning`` and a ``reasoning.summary`` detail); the detail
        # says which kind it is, so it wins.
        parts.append((REASONING, text))
    for detail in details:
        _read_reasoning_detail(detail, parts, text_already_sent=bool(text))
    for block in _list(get(delta, "thinking_blocks")):
        _read_thinking_block(block, parts, text_already_sent=bool(text))


def _read_reasoning_detail(detail: Any, parts: list[Part], *, text_already_sent: bool) -> None:
    kind = get(detail, "type")
    if kind == "reasoning.text":
        text = _str(get(detail, "text"))
        if text and not text_already_sent:
            parts.append((REASONING, text))
        signature = _str(get(detail, "signature"))
        if signature:  # Anthropic via OpenRouter/Vercel: the block's signature, on its last delta
            parts.append((CARRIER, {"kind": "reasoning_detail", "detail": _plain(detail, drop=("text",))}))
    elif kind == "reasoning.summary":
        summary = _str(get(detail, "summary"))
        if summary:
            parts.append((SUMMARY, summary))
    elif kind == "reasoning.encrypted" and _str(get(detail, "data")):
        # OpenAI o-series encrypted reasoning, or a Gemini thought signature (format google-gemini-v1,
        # ``id`` = the tool call it belongs to). Kept whole: the history replay sends it back verbatim.
        parts.append((CARRIER, {"kind": "reasoning_detail", "detail": _plain(detail)}))


def _read_thinking_block(block: Any, parts: list[Part], *, text_already_sent: bool) -> None:
    """LiteLLM's Anthropic ``thinking_blocks``: text (usually also in reasoning_content) + signature."""
    kind = get(block, "type")
    if kind == "thinking":
        text = _str(get(block, "thinking"))
        if text and not text_already_sent:
            parts.append((REASONING, text))
        signature = _str(get(block, "signature"))
        if signature:
            parts.append((CARRIER, {"kind": "thinking_signature", "signature": signature}))
    elif kind == "redacted_thinking":
        data = _str(get(block, "data"))
        if data:
            parts.append((CARRIER, {"kind": "redacted_thinking", "data": data}))


def _read_content(content: Any, parts: list[Part]) -> None:
    if isinstance(content, str):
        if content:
            parts.append((TEXT, content))
        return
    # Mistral (magistral, small) and Databricks send content as an array of typed parts.
    for part in _list(content):
        kind = get(part, "type")
        if kind == "text":
            text = _str(get(part, "text"))
            if text:
                parts.append((TEXT, text))
        elif kind == "thinking":
            for inner in _list(get(part, "thinking")):
                text = _str(get(inner, "text"))
                if text:
                    parts.append((REASONING, text))
        elif kind == "reasoning":  # Databricks
            text = _str(get(part, "text")) or _str(get(part, "reasoning"))
            if text:
                parts.append((REASONING, text))


def _read_tool_call(raw: Any) -> ToolFragment | None:
    """``None`` for an entry that is not an object or carries nothing (no id, name, arguments, signature)."""
    if raw is None or isinstance(raw, (str, int, float, list)):
        return None
    function = get(raw, "function")
    index = get(raw, "index")
    call_id = _str(get(raw, "id"))
    name = _str(get(function, "name")) if function is not None else None
    arguments = get(function, "arguments") if function is not None else None
    if not isinstance(arguments, str):
        # A few servers send already-parsed arguments; keep them as JSON text rather than lose them.
        arguments = "" if arguments is None else _json_text(arguments)
    carrier = _thought_signature(raw)
    if not (call_id or name or arguments or carrier):
        return None
    return ToolFragment(
        index=index if isinstance(index, int) and not isinstance(index, bool) else None,
        call_id=call_id or None,  # DashScope repeats ``id: ""`` on continuation fragments
        name=name or None,  # zai-glm repeats ``name: ""``
        arguments=arguments,
        carrier=carrier,
    )


def _thought_signature(raw: Any) -> dict[str, Any] | None:
    """A Gemini thought signature carried on the tool call itself (two of its three carriers)."""
    extra = get(raw, "extra_content")
    google = get(extra, "google") if extra is not None else None
    signature = _str(get(google, "thought_signature")) if google is not None else None
    if signature:
        return {"kind": "thought_signature", "source": "extra_content", "signature": signature}
    fields = get(raw, "provider_specific_fields")  # LiteLLM
    signature = _str(get(fields, "thought_signature")) if fields is not None else None
    if signature:
        return {"kind": "thought_signature", "source": "provider_specific_fields", "signature": signature}
    return None


def _read_annotation(raw: Any) -> dict[str, Any] | None:
    """Chat ``{"type":"url_citation","url_citation":{...}}`` → Responses ``url_citation`` annotation."""
    if get(raw, "type") != "url_citation":
        return None
    inner = get(raw, "url_citation") or raw
    url = _str(get(inner, "url"))
    if not url:
        return None
    start, end = get(inner, "start_index"), get(inner, "end_index")
    return {
        "type": "url_citation",
        "url": url,
        "title": _str(get(inner, "title")) or "",
        "start_index": start if isinstance(start, int) else 0,
        "end_index": end if isinstance(end, int) else 0,
    }


def _read_logprob(raw: Any) -> dict[str, Any]:
    top = [
        {"token": _str(get(t, "token")) or "", "logprob": _float(get(t, "logprob")), "bytes": _bytes(t)}
        for t in _list(get(raw, "top_logprobs"))
    ]
    return {
        "token": _str(get(raw, "token")) or "",
        "logprob": _float(get(raw, "logprob")),
        "bytes": _bytes(raw),
        "top_logprobs": top,
    }


def _float(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def _bytes(raw: Any) -> list[int]:
    value = get(raw, "bytes")
    return [b for b in value if isinstance(b, int)] if isinstance(value, list) else []


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _read_usage(usage: Any, x_groq: Any) -> dict[str, Any] | None:
    """Chat usage → Responses usage. Null fields count as 0 (Neon sends nulls until the last chunk)."""
    if usage is None and x_groq is not None:
        usage = get(x_groq, "usage")
    if usage is None or isinstance(usage, (str, int, float, list, bool)):
        return None
    prompt = _int(get(usage, "prompt_tokens"))
    completion = _int(get(usage, "completion_tokens"))
    total = _int(get(usage, "total_tokens")) or prompt + completion
    prompt_details = get(usage, "prompt_tokens_details")
    cached = (
        _int(get(prompt_details, "cached_tokens") if prompt_details is not None else None)
        or _int(get(usage, "cached_tokens"))  # Moonshot: top level
        or _int(get(usage, "prompt_cache_hit_tokens"))  # DeepSeek
    )
    cache_write = _int(get(prompt_details, "cache_write_tokens")) if prompt_details is not None else 0
    completion_details = get(usage, "completion_tokens_details")
    reasoning = _int(get(completion_details, "reasoning_tokens")) if completion_details is not None else 0
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
    if isinstance(obj, dict):
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
