"""The request fields a response object echoes, in the shape the Responses API (and Open Responses) defines.

Every response object carries every field the spec requires, with a value of the right type, whether or not
the client sent it: sampling parameters as numbers (the OpenAI defaults when not sent: ``temperature`` and
``top_p`` 1, penalties 0, ``top_logprobs`` 0), ``max_tool_calls`` / ``safety_identifier`` /
``prompt_cache_key`` as sent or null, ``completed_at`` (set on a completed terminal response),
``service_tier`` always ``"default"`` (the bridge asks the upstream for no tier), ``reasoning`` as
``{effort, summary}``.

Tools and text formats are echoed as the request gave them, completed to the spec's shape: a function tool
always has ``description``, ``parameters`` and ``strict`` (``strict`` is false unless the client sent true,
since only then is it passed upstream); a ``json_schema`` format always has ``name``, ``description``,
``schema`` and ``strict``. Other tools (namespaces, hosted tools) are echoed as sent.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

Json = dict[str, Any]

# Echoed as sent when a string, else null; never sent upstream.
ECHOED_STRINGS = ("prompt_cache_key", "safety_identifier")
_NUMBER_DEFAULTS = {"temperature": 1.0, "top_p": 1.0, "presence_penalty": 0.0, "frequency_penalty": 0.0}


def _function_tool(tool: Mapping[str, Any]) -> Json:
    return {
        **tool,
        "description": tool.get("description"),
        "parameters": tool.get("parameters"),
        "strict": tool.get("strict") is True,
    }


def echo_tools(tools: Any) -> list[Any]:
    """The request's ``tools`` (already validated) as a response echoes them."""
    if not isinstance(tools, list):
        return []
    return [
        _function_tool(tool) if isinstance(tool, Mapping) and tool.get("type") == "function" else tool
        for tool in tools
    ]


def _format(fmt: Any) -> Json:
    if not isinstance(fmt, Mapping) or fmt.get("type") in (None, "text"):
        return {"type": "text"}
    if fmt.get("type") != "json_schema":
        return dict(fmt)
    return {
        "type": "json_schema",
        "name": fmt.get("name"),
        "description": fmt.get("description"),
        "schema": fmt.get("schema"),
        "strict": fmt.get("strict") is True,
    }


def echo_text(text: Mapping[str, Any]) -> Json:
    """The request's ``text`` (already validated) as a response echoes it: always a ``format``."""
    echoed: Json = {"format": _format(text.get("format"))}
    if isinstance(text.get("verbosity"), str):
        echoed["verbosity"] = text["verbosity"]
    return echoed


def echo_reasoning(reasoning: Mapping[str, Any]) -> Json:
    return {"effort": reasoning.get("effort"), "summary": reasoning.get("summary")}


def echo_fields(body: Mapping[str, Any]) -> Json:
    """The scalar echoes: sampling numbers, ``top_logprobs``, ``max_tool_calls``, tier and identifiers."""
    fields: Json = {
        key: default if body.get(key) is None else float(body[key])
        for key, default in _NUMBER_DEFAULTS.items()
    }
    fields["top_logprobs"] = body.get("top_logprobs") or 0
    fields["max_tool_calls"] = body.get("max_tool_calls")
    fields["service_tier"] = "default"
    fields["completed_at"] = None  # set on the terminal response by ``completed``
    for key in ECHOED_STRINGS:
        fields[key] = body[key] if isinstance(body.get(key), str) else None
    return fields


def completed(response: Json) -> Json:
    """The terminal response with ``completed_at``: now when it completed, null for any other status.

    Set here, not by the core translator, whose output must not depend on the clock (its tests compare
    two translations of the same stream)."""
    return {**response, "completed_at": int(time.time()) if response.get("status") == "completed" else None}
