"""``POST /v1/responses/compact``: the conversation summarised by the upstream model into one ``compaction``
item that a later request continues from.

The request is the Responses compact body: ``model`` (required: a 400 without it, whatever the server's
default model), ``input`` and/or ``previous_response_id`` (the conversation, as for ``POST /v1/responses``),
``instructions``. Other fields (``prompt_cache_key``…) are accepted and not used.

The bridge asks the upstream, with a non-streamed chat completion, to summarise the conversation (the
conversation's messages, then a user message with :data:`SUMMARY_REQUEST`), and answers a
``response.compaction`` object whose ``output`` is a single ``compaction`` item. Its ``encrypted_content``
is the project's opaque carrier string (``c2r1.``, see ``_carriers``) holding the summary text; nothing is
stored, so a ``store: false`` client can continue from it on any connection.

Choices: the summary replaces the whole conversation, user messages included (no verbatim user messages
kept), and a compaction item given back in ``input`` becomes a developer message
(``SUMMARY_PREFIX`` + summary), which the history conversion merges into the leading system message. So the
upstream never sees two user messages in a row, which strict chat templates (Mistral's) refuse. A
``compaction`` item from another server (not ours) is a 400: its content cannot be read here.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from .._carriers import decode_carriers, encode_carriers
from .._completion import completion_to_response_dict
from .._ids import random_id
from ._config import ServerConfig
from ._errors import BridgeError, invalid

Json = dict[str, Any]

SUMMARY_REQUEST = (
    "Summarize the conversation above so that it can be continued from the summary alone. Keep every "
    "fact, decision, name, number, file, open task and the user's latest request; leave out small talk. "
    "Answer with the summary only."
)
SUMMARY_PREFIX = "Summary of the earlier conversation (it replaces the messages it summarizes):\n\n"
_CARRIER = "compaction_summary"
_EMPTY_USAGE: Json = {
    "input_tokens": 0,
    "output_tokens": 0,
    "total_tokens": 0,
    "input_tokens_details": {"cached_tokens": 0},
    "output_tokens_details": {"reasoning_tokens": 0},
}


def compaction_item(summary: str) -> Json:
    return {
        "type": "compaction",
        "id": random_id("cmp"),
        "encrypted_content": encode_carriers([{"kind": _CARRIER, "summary": summary}]),
    }


def expand_compaction(item: Any, param: str = "input") -> Any:
    """A ``compaction`` input item as the developer message the upstream gets; other items as they are."""
    if not isinstance(item, Mapping) or item.get("type") != "compaction":
        return item
    content = item.get("encrypted_content")
    carriers = decode_carriers(content if isinstance(content, str) else None)
    summaries = [
        c["summary"] for c in carriers if c.get("kind") == _CARRIER and isinstance(c.get("summary"), str)
    ]
    if not summaries:
        raise invalid(
            "A compaction item's encrypted_content was not produced by this server: it cannot be read.",
            param,
        )
    return {"type": "message", "role": "developer", "content": SUMMARY_PREFIX + "\n\n".join(summaries)}


def compact_request_body(body: Any) -> Json:
    """The ``POST /v1/responses`` body whose chat request asks the upstream for the summary."""
    if not isinstance(body, Mapping):
        raise invalid("The request body must be a JSON object.", None, "invalid_type")
    if not isinstance(body.get("model"), str) or not body["model"]:
        raise invalid("Missing required parameter: 'model'.", "model", "missing_required_parameter")
    request: Json = {"model": body["model"], "store": False, "stream": False}
    for key in ("input", "previous_response_id", "instructions"):
        if body.get(key) is not None:
            request[key] = body[key]
    return request


def summary_request(conversation: list[Any]) -> list[Any]:
    return [*conversation, {"type": "message", "role": "user", "content": SUMMARY_REQUEST}]


def compaction_resource(completion: Any, config: ServerConfig) -> Json:
    """The ``response.compaction`` object for the upstream's summary completion (a 502 when it has none)."""
    response = completion_to_response_dict(
        completion, reasoning=config.reasoning_output, think_tags=config.think_tags
    )
    texts = [
        part.get("text", "")
        for item in response.get("output") or []
        if item.get("type") == "message"
        for part in item.get("content") or []
        if part.get("type") == "output_text"
    ]
    summary = "".join(texts).strip()
    if response.get("status") == "failed" or not summary:
        error = response.get("error") or {}
        message = error.get("message") or "the upstream answered the summary request with no text"
        raise BridgeError(502, f"compaction failed: {message}", kind="upstream_error", code="upstream_error")
    return {
        "id": random_id("resp"),
        "object": "response.compaction",
        "created_at": int(time.time()),
        "output": [compaction_item(summary)],
        "usage": response.get("usage") or _EMPTY_USAGE,
    }
