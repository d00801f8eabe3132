"""Provider signatures kept in a reasoning item's ``encrypted_content``, so a stateless replay keeps them.

A Responses client such as Codex sends back, on every turn, the items it received — reasoning items with
their ``encrypted_content`` included, and nothing it does not know. So every opaque object a provider needs
to see again goes into ``encrypted_content`` of a reasoning item, as one string::

    "c2r1." + base64url(JSON {"carriers": [carrier, ...]})      (no padding)

A carrier is a small dict, one of:

- ``{"kind": "thought_signature", "source": "extra_content" | "provider_specific_fields",
  "signature": str, "call_id": str}`` — a Gemini thought signature that arrived on a tool call (Gemini's
  OpenAI-compat ``extra_content.google.thought_signature`` or LiteLLM's ``provider_specific_fields``).
  Its reasoning item is emitted right before that function_call item; ``call_id`` names the call.
- ``{"kind": "reasoning_detail", "detail": {...}}`` — an OpenRouter / Vercel ``reasoning_details`` entry,
  verbatim (minus streamed text): ``reasoning.encrypted`` (OpenAI encrypted reasoning, or a Gemini
  signature whose ``id`` is the tool call id) or the signature of a ``reasoning.text`` block (Anthropic).
- ``{"kind": "thinking_signature", "signature": str}`` — LiteLLM ``thinking_blocks`` signature (Anthropic).
- ``{"kind": "redacted_thinking", "data": str}`` — LiteLLM redacted thinking block (Anthropic).
- ``{"kind": "reasoning_text", "text": str}`` — the item's own reasoning text, added by the server when a
  client asks for ``include: ["reasoning.encrypted_content"]``; replayed in place of the summary.
- ``{"kind": "compaction_summary", "summary": str}`` — in a ``compaction`` item (``/v1/responses/compact``).

The history conversion reads them back with :func:`decode_carriers` and puts each where its provider wants
it (``extra_content`` on the tool call, ``reasoning_details`` or ``thinking_blocks`` on the assistant
message). A string without the prefix is someone else's ``encrypted_content`` and decodes to ``[]``.
"""

from __future__ import annotations

import base64
import json
from typing import Any, Final

PREFIX: Final = "c2r1."
REASONING_TEXT: Final = "reasoning_text"


def encode_carriers(carriers: list[dict[str, Any]]) -> str:
    payload = json.dumps({"carriers": carriers}, separators=(",", ":"), ensure_ascii=False)
    return PREFIX + base64.urlsafe_b64encode(payload.encode()).decode("ascii").rstrip("=")


def decode_carriers(encrypted_content: str | None) -> list[dict[str, Any]]:
    """The carriers in an ``encrypted_content`` this project produced; ``[]`` for anything else."""
    if not encrypted_content or not encrypted_content.startswith(PREFIX):
        return []
    body = encrypted_content[len(PREFIX) :]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return []
    carriers = payload.get("carriers") if isinstance(payload, dict) else None
    return [c for c in carriers if isinstance(c, dict)] if isinstance(carriers, list) else []
