"""A Chat Completions upstream that answers any request plausibly, for whole-API tests (Open Responses).

`plausible(body)` is a `FakeUpstream` responder: a tool call when tools are offered and the last message
is the user's, a JSON object matching the schema when a ``json_schema`` response format is asked, a
summary when asked to summarise, else a short text answer. Every answer keeps a real provider's chunk
shape (OpenAI recordings from ``fixtures/chat-streams``, rewritten with `retext` / `retarget_tool_call`).
"""

from __future__ import annotations

import json
from typing import Any

from chat_to_responses.testing import StreamTurn
from fake_upstream import Turn, fixture, retarget_tool_call, retext

Json = dict[str, Any]

TEXT_FIXTURE = "openai/text_usage_service_tier_obfuscation"
CALL_FIXTURE = "openai/single_tool_call_strict"
SUMMARY_PREFIX = "Summary:"


def _example(schema: Any) -> Any:
    """A value matching a (simple) JSON schema: what a model under structured output would send."""
    if not isinstance(schema, dict):
        return None
    kind = schema.get("type")
    if "enum" in schema:
        return schema["enum"][0]
    if kind == "object" or "properties" in schema:
        return {key: _example(sub) for key, sub in (schema.get("properties") or {}).items()}
    if kind == "array":
        return [_example(schema.get("items"))]
    return {"string": "San Francisco, CA", "integer": 3, "number": 1.5, "boolean": True}.get(str(kind))


def _last_text(messages: list[Json]) -> str:
    content = messages[-1].get("content") if messages else ""
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return str(content or "")


def plausible(body: Json) -> Turn:
    messages = body.get("messages") or []
    tools = body.get("tools") or []
    last_role = messages[-1].get("role") if messages else None
    if tools and last_role == "user" and body.get("tool_choice") != "none":
        function = tools[0]["function"]
        arguments = json.dumps(_example(function.get("parameters") or {"type": "object"}))
        return StreamTurn(retarget_tool_call(fixture(CALL_FIXTURE), function["name"], arguments))
    response_format = body.get("response_format") or {}
    if response_format.get("type") == "json_schema":
        text = json.dumps(_example(response_format["json_schema"]["schema"]))
    elif response_format.get("type") == "json_object":
        text = '{"answer": "ok"}'
    elif "summar" in _last_text(messages).lower():
        text = f"{SUMMARY_PREFIX} the user and the assistant talked ({len(messages)} messages)."
    else:
        text = "Hello there, friend."
    return StreamTurn(retext(fixture(TEXT_FIXTURE), text))
