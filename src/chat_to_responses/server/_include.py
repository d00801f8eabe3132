"""``include: ["reasoning.encrypted_content"]``: reasoning a stateless client can replay exactly.

With it, every reasoning item the bridge returns (``response.output_item.done`` and the response's
``output``) carries ``encrypted_content``: the project's carrier string (``c2r1.``, see ``_carriers``)
holding the provider signatures, as always, plus the item's reasoning text (a ``reasoning_text`` carrier).
A client that keeps only ``encrypted_content`` (OpenAI's ``store: false`` pattern: summaries are for
display) gets the same reasoning replayed to the upstream as one that sends the whole item back; the
history conversion prefers that text to the item's summary or content.

Without it, a reasoning item carries ``encrypted_content`` only when the provider sent a signature the
upstream needs back (Gemini thought signatures, Anthropic thinking signatures, OpenAI encrypted
reasoning): dropping those would make the next turn fail upstream, whatever the client asked. Its reasoning
text is then replayed from the summary (or ``reasoning_text`` content) the client sends back.
"""

from __future__ import annotations

from typing import Any

from .._carriers import REASONING_TEXT, decode_carriers, encode_carriers

Json = dict[str, Any]

INCLUDE_ENCRYPTED_REASONING = "reasoning.encrypted_content"
_TERMINAL = frozenset({"response.completed", "response.incomplete", "response.failed"})


def _text(item: Json) -> str:
    """The item's reasoning text as the history conversion reads it: content if any, else the summary."""
    for key in ("content", "summary"):
        parts = item.get(key) or []
        texts = [str(part.get("text") or "") for part in parts if isinstance(part, dict)]
        if any(texts):
            return "\n\n".join(text for text in texts if text)
    return ""


def with_reasoning_text(item: Json) -> Json:
    """A reasoning item whose ``encrypted_content`` also carries its text (a copy); other items as is."""
    if item.get("type") != "reasoning":
        return item
    text = _text(item)
    if not text:
        return item
    carriers = [c for c in decode_carriers(item.get("encrypted_content")) if c.get("kind") != REASONING_TEXT]
    return {**item, "encrypted_content": encode_carriers([*carriers, {"kind": REASONING_TEXT, "text": text}])}


def include_in_response(response: Json) -> Json:
    output = response.get("output")
    if not isinstance(output, list):
        return response
    return {**response, "output": [with_reasoning_text(item) for item in output]}


def include_in_event(event: Json) -> Json:
    kind = event.get("type")
    if kind == "response.output_item.done":
        return {**event, "item": with_reasoning_text(event["item"])}
    if kind in _TERMINAL:
        return {**event, "response": include_in_response(event["response"])}
    return event
