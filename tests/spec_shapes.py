"""The Open Responses ``ResponseResource`` schema's required fields, written out for the tests (every one is
required; the nullable ones may be null), and a checker."""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]

NUMBER, INTEGER, STRING, BOOL = (int, float), (int,), (str,), (bool,)
# field → (accepted types, nullable)
REQUIRED_FIELDS: dict[str, tuple[tuple[type, ...], bool]] = {
    "id": (STRING, False),
    "object": (STRING, False),
    "created_at": (INTEGER, False),
    "completed_at": (INTEGER, True),
    "status": (STRING, False),
    "incomplete_details": ((dict,), True),
    "model": (STRING, False),
    "previous_response_id": (STRING, True),
    "instructions": (STRING, True),
    "output": ((list,), False),
    "error": ((dict,), True),
    "tools": ((list,), False),
    "tool_choice": ((str, dict), False),
    "truncation": (STRING, False),
    "parallel_tool_calls": (BOOL, False),
    "text": ((dict,), False),
    "top_p": (NUMBER, False),
    "presence_penalty": (NUMBER, False),
    "frequency_penalty": (NUMBER, False),
    "top_logprobs": (INTEGER, False),
    "temperature": (NUMBER, False),
    "reasoning": ((dict,), True),
    "usage": ((dict,), True),
    "max_output_tokens": (INTEGER, True),
    "max_tool_calls": (INTEGER, True),
    "store": (BOOL, False),
    "background": (BOOL, False),
    "service_tier": (STRING, False),
    "metadata": ((dict,), False),
    "safety_identifier": (STRING, True),
    "prompt_cache_key": (STRING, True),
}


def spec_violations(response: Json) -> list[str]:
    """Each required field missing or of the wrong type (bool is not a number here)."""
    problems = []
    for key, (kinds, nullable) in REQUIRED_FIELDS.items():
        if key not in response:
            problems.append(f"{key}: missing")
            continue
        value = response[key]
        if value is None:
            if not nullable:
                problems.append(f"{key}: null")
        elif not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            problems.append(f"{key}: {type(value).__name__}")
    return problems
