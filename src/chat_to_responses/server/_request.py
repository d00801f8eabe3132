"""A ``POST /v1/responses`` body → the Chat Completions request for the upstream, and the response template.

Pure functions, no I/O: :func:`parse_request` validates the body (a 400 :class:`BridgeError` naming the
``param`` for anything malformed, as the real API does) and keeps what the rest of the server needs;
:func:`chat_payload` builds the upstream request once the stored history (``previous_response_id``) is known.

Field by field:

- ``input`` (string or items) and ``instructions`` → ``messages`` through the shared history module
  (``items_to_messages``): system, developer and instructions merged into one leading system message,
  one assistant message per turn, tool results right after their call, reasoning replayed as received.
  Replayed ``function_call`` items of a namespace are renamed to the flattened chat name first.
- ``tools`` / ``tool_choice`` / ``parallel_tool_calls`` → chat tools (see ``_tools``); the last two
  are sent only with at least one tool (OpenAI-compatible servers reject them alone). The tools of every
  ``additional_tools`` input item join them (Codex sends its tools that way for some models); the item
  itself becomes no message.
- Input items are ``message``, ``reasoning``, ``function_call``, ``custom_tool_call`` and their outputs,
  and ``additional_tools``; any other type (``web_search_call``, ``local_shell_call``, ``item_reference``…)
  is a 400 naming it and its index: dropping it would change the conversation the model sees, silently.
- ``text.format`` → ``response_format`` (``json_schema``, ``json_object``); ``max_output_tokens`` → the
  configured max-tokens field; ``temperature``, ``top_p``, ``presence_penalty``, ``frequency_penalty`` as
  is; ``top_logprobs`` or the ``message.output_text.logprobs`` include → ``logprobs`` / ``top_logprobs``;
  ``reasoning.effort`` → ``reasoning_effort`` unless the operator drops it.
- ``store``, ``metadata``, ``prompt_cache_key``, ``truncation``, ``user``, ``safety_identifier``,
  ``max_tool_calls`` are echoed in the response, not sent upstream (most upstreams reject or ignore them);
  every response carries every field the spec requires (``_echo``). ``include`` is validated:
  ``reasoning.encrypted_content`` puts each reasoning item's text in its ``encrypted_content`` (without
  it, only provider signatures are kept there; see ``_include``), the rest has no chat
  equivalent. Unknown top-level fields are ignored, so a newer client (Codex's ``client_metadata``) keeps
  working.
- ``background``, ``conversation`` and ``prompt`` (stored prompt templates) need state this server does not
  have: a clear 400, not silence.

Whatever could not be passed on (hosted tools, ``text.verbosity``, unsupported content parts…) is listed in
``dropped`` for the response header and the log.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .._history import items_to_messages
from .._ids import random_id
from ._compact import expand_compaction
from ._config import ServerConfig
from ._echo import echo_fields, echo_reasoning, echo_text, echo_tools
from ._errors import BridgeError, invalid
from ._include import INCLUDE_ENCRYPTED_REASONING
from ._tools import ChatTools, convert_tool_choice, convert_tool_list

Json = dict[str, Any]

DROPPED_HEADER = "x-chat-to-responses-dropped"
"""The response header listing what the request asked for that was not sent upstream."""

_ROLES = frozenset({"user", "assistant", "system", "developer"})
_LOGPROBS_INCLUDE = "message.output_text.logprobs"
_SAMPLING_RANGES = (
    ("temperature", 0.0, 2.0),
    ("top_p", 0.0, 1.0),
    ("presence_penalty", -2.0, 2.0),
    ("frequency_penalty", -2.0, 2.0),
)
_UNSUPPORTED = {
    "background": "Background responses are not supported by this server.",
    "conversation": "Conversations are not supported by this server; use previous_response_id.",
    "prompt": "Stored prompt templates are not supported by this server.",
}
# Echoed in the response when sent; not sent upstream.
_ECHOED_USER = "user"


@dataclass
class ResponsesRequest:
    """A validated ``POST /v1/responses`` body."""

    response_id: str
    model: str
    input_items: list[Any]
    instructions: str | None
    stream: bool
    store: bool
    previous_response_id: str | None
    template: Json  # the response fields echoed in every lifecycle event
    tools: ChatTools
    tool_choice: str | Json | None
    options: Json  # chat fields other than model, messages, stream and tools
    dropped: list[str]
    reasoning_text: bool = False  # include reasoning.encrypted_content: reasoning items carry their text


# ---------------------------------------------------------------------------------------------- fields


def _optional(body: Mapping[str, Any], key: str, kinds: type | tuple[type, ...], what: str) -> Any:
    value = body.get(key)
    if value is None:
        return None
    # bool is an int: a number field must not accept true/false.
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in _as_tuple(kinds)):
        raise invalid(f"Invalid type for '{key}': expected {what}.", key, "invalid_type")
    return value


def _as_tuple(kinds: type | tuple[type, ...]) -> tuple[type, ...]:
    return kinds if isinstance(kinds, tuple) else (kinds,)


def _number(body: Mapping[str, Any], key: str, low: float, high: float) -> float | None:
    value = _optional(body, key, (int, float), "a number")
    if value is not None and not low <= value <= high:
        raise invalid(f"'{key}' must be between {low:g} and {high:g}, got {value}.", key)
    return None if value is None else float(value)


def _integer(body: Mapping[str, Any], key: str, low: int, high: int | None = None) -> int | None:
    value = _optional(body, key, int, "an integer")
    if value is not None and (value < low or (high is not None and value > high)):
        raise invalid(f"'{key}' must be an integer >= {low}{'' if high is None else f' and <= {high}'}.", key)
    return None if value is None else int(value)


def _flag(body: Mapping[str, Any], key: str, default: bool) -> bool:
    value = _optional(body, key, bool, "a boolean")
    return default if value is None else bool(value)


def _model(body: Mapping[str, Any], config: ServerConfig) -> str:
    model = _optional(body, "model", str, "a string") or config.default_model
    if not model:
        raise invalid("Missing required parameter: 'model'.", "model", "missing_required_parameter")
    return str(model)


def _metadata(body: Mapping[str, Any]) -> dict[str, str]:
    metadata = _optional(body, "metadata", dict, "an object") or {}
    if len(metadata) > 16 or not all(isinstance(v, str) for v in metadata.values()):
        raise invalid("'metadata' must have at most 16 string values.", "metadata")
    return dict(metadata)


def _include(body: Mapping[str, Any]) -> list[str]:
    include = _optional(body, "include", list, "an array of strings") or []
    if not all(isinstance(entry, str) for entry in include):
        raise invalid("'include' must be an array of strings.", "include", "invalid_type")
    return list(include)


def _reject_unsupported(body: Mapping[str, Any]) -> None:
    for key, message in _UNSUPPORTED.items():
        if body.get(key) not in (None, False):
            raise invalid(message, key, "unsupported_parameter")


# ---------------------------------------------------------------------------------------------- input


def _check_message(item: Mapping[str, Any], param: str) -> None:
    if item.get("role") not in _ROLES:
        raise invalid(
            f"Invalid value for '{param}.role': expected one of user, assistant, system, developer.",
            f"{param}.role",
        )
    if not isinstance(item.get("content"), (str, list)):
        raise invalid(f"'{param}.content' must be a string or an array.", f"{param}.content", "invalid_type")


def _check_call(item: Mapping[str, Any], param: str) -> None:
    for key in ("call_id", "name"):
        if not isinstance(item.get(key), str) or not item[key]:
            raise invalid(f"Missing required parameter: '{param}.{key}'.", f"{param}.{key}")
    if not isinstance(item.get("arguments"), str):
        raise invalid(f"'{param}.arguments' must be a string.", f"{param}.arguments", "invalid_type")


def _check_call_output(item: Mapping[str, Any], param: str) -> None:
    if not isinstance(item.get("call_id"), str) or not item["call_id"]:
        raise invalid(f"Missing required parameter: '{param}.call_id'.", f"{param}.call_id")
    if not isinstance(item.get("output"), (str, list)):
        raise invalid(f"'{param}.output' must be a string or an array.", f"{param}.output", "invalid_type")


def _check_additional_tools(item: Mapping[str, Any], param: str) -> None:
    if not isinstance(item.get("tools"), list):
        raise invalid(f"'{param}.tools' must be an array of tools.", f"{param}.tools", "invalid_type")


def _check_reasoning(item: Mapping[str, Any], param: str) -> None:
    for key in ("summary", "content"):
        if item.get(key) is not None and not isinstance(item[key], list):
            raise invalid(f"'{param}.{key}' must be an array.", f"{param}.{key}", "invalid_type")


def _check_custom_call(item: Mapping[str, Any], param: str) -> None:
    for key in ("call_id", "name"):
        if not isinstance(item.get(key), str) or not item[key]:
            raise invalid(f"Missing required parameter: '{param}.{key}'.", f"{param}.{key}")
    if not isinstance(item.get("input"), str):
        raise invalid(f"'{param}.input' must be a string.", f"{param}.input", "invalid_type")


def _check_compaction(item: Mapping[str, Any], param: str) -> None:
    expand_compaction(item, param)  # a 400 unless this server made it


_ITEM_CHECKS = {
    "message": _check_message,
    "function_call": _check_call,
    "function_call_output": _check_call_output,
    "custom_tool_call": _check_custom_call,
    "custom_tool_call_output": _check_call_output,
    "reasoning": _check_reasoning,
    "additional_tools": _check_additional_tools,
    "compaction": _check_compaction,
}
ADDITIONAL_TOOLS = "additional_tools"


def _unsupported_item(kind: Any, param: str) -> BridgeError:
    """A 400 naming an input item the upstream cannot be given (rather than silently losing it)."""
    if not isinstance(kind, str):
        return invalid(f"'{param}' needs a 'type' (or a 'role' for a message).", f"{param}.type")
    return invalid(
        f"Input item type '{kind}' ({param}) cannot be sent to a Chat Completions upstream: this server "
        f"converts {', '.join(sorted(_ITEM_CHECKS))} items only.",
        f"{param}.type",
        "unsupported_input_item",
    )


def _input_items(body: Mapping[str, Any], has_previous: bool) -> list[Any]:
    value = body.get("input")
    if value is None:
        if has_previous:
            return []
        raise invalid("Missing required parameter: 'input'.", "input", "missing_required_parameter")
    if isinstance(value, str):
        return [{"type": "message", "role": "user", "content": value}]
    if not isinstance(value, list):
        raise invalid("'input' must be a string or an array of items.", "input", "invalid_type")
    for index, item in enumerate(value):
        param = f"input[{index}]"
        if not isinstance(item, Mapping):
            raise invalid(f"'{param}' must be an object.", param, "invalid_type")
        kind = item.get("type", "message" if "role" in item else None)
        check = _ITEM_CHECKS.get(kind) if isinstance(kind, str) else None
        if check is None:
            raise _unsupported_item(kind, param)
        check(item, param)
    return list(value)


def _item_tools(items: Sequence[Any], where: str) -> list[tuple[str, Any]]:
    tools: list[tuple[str, Any]] = []
    for index, item in enumerate(items):
        if is_tools_item(item) and isinstance(item.get("tools"), list):
            tools += [(f"{where}[{index}].tools[{i}]", tool) for i, tool in enumerate(item["tools"])]
    return tools


def _request_tools(body: Mapping[str, Any], items: Sequence[Any], history: Sequence[Any]) -> ChatTools:
    """``tools`` plus those of every ``additional_tools`` item of the conversation (Codex sends its tools
    that way for some models): one list of chat tools, each error naming where the tool came from."""
    listed = body.get("tools")
    if listed is not None and not isinstance(listed, list):
        raise invalid("'tools' must be an array.", "tools", "invalid_type")
    tools = [(f"tools[{i}]", tool) for i, tool in enumerate(listed or [])]
    tools += _item_tools(history, "previous_response_id.input") + _item_tools(items, "input")
    return convert_tool_list(tools)


# ---------------------------------------------------------------------------------------------- options


def _response_format(text: Mapping[str, Any]) -> Json | None:
    fmt = text.get("format")
    if fmt is None:
        return None
    kind = fmt.get("type") if isinstance(fmt, Mapping) else None
    if kind == "text":
        return None
    if kind == "json_object":
        return {"type": "json_object"}
    if kind != "json_schema":
        raise invalid(
            "'text.format.type' must be 'text', 'json_schema' or 'json_object'.", "text.format.type"
        )
    assert isinstance(fmt, Mapping)
    name, schema = fmt.get("name"), fmt.get("schema")
    if not isinstance(name, str) or not isinstance(schema, Mapping):
        raise invalid("A json_schema format needs a 'name' and a 'schema' object.", "text.format")
    json_schema: Json = {"name": name, "schema": dict(schema)}
    for key in ("strict", "description"):
        if fmt.get(key) is not None:
            json_schema[key] = fmt[key]
    return {"type": "json_schema", "json_schema": json_schema}


def _sampling_options(body: Mapping[str, Any], config: ServerConfig, include: list[str]) -> Json:
    options: Json = {}
    for key, low, high in _SAMPLING_RANGES:
        value = _number(body, key, low, high)
        if value is not None:
            options[key] = value
    max_tokens = _integer(body, "max_output_tokens", 1)
    if max_tokens is not None:
        options[config.max_tokens_field] = max_tokens
    top_logprobs = _integer(body, "top_logprobs", 0, 20)
    if top_logprobs or _LOGPROBS_INCLUDE in include:
        options["logprobs"] = True
        if top_logprobs:
            options["top_logprobs"] = top_logprobs
    return options


def _text_options(text: Mapping[str, Any], dropped: list[str]) -> Json:
    response_format = _response_format(text)
    if text.get("verbosity") is not None:
        dropped.append("text.verbosity (no chat equivalent)")
    return {} if response_format is None else {"response_format": response_format}


def _effort(reasoning: Mapping[str, Any], config: ServerConfig, dropped: list[str]) -> Json:
    effort = reasoning.get("effort")
    if effort is None:
        return {}
    if not isinstance(effort, str):
        raise invalid("'reasoning.effort' must be a string.", "reasoning.effort", "invalid_type")
    if config.reasoning_effort == "drop":
        dropped.append("reasoning.effort (not sent upstream by configuration)")
        return {}
    return {"reasoning_effort": effort}


def _tool_options(tools: ChatTools, choice: str | Json | None, parallel: bool | None) -> Json:
    if not tools.tools:
        return {}
    options: Json = {"tools": tools.tools}
    if choice is not None:
        options["tool_choice"] = choice
    if parallel is not None:
        options["parallel_tool_calls"] = parallel
    return options


def _template(body: Mapping[str, Any], request: Json) -> Json:
    """The response fields every lifecycle event carries (the spec's required fields, ``_echo``)."""
    template: Json = {
        "id": request["id"],
        "model": request["model"],
        "instructions": request["instructions"],
        "tools": echo_tools(body.get("tools")),
        "tool_choice": body.get("tool_choice") or "auto",
        "parallel_tool_calls": request["parallel_tool_calls"],
        **echo_fields(body),
        "max_output_tokens": body.get("max_output_tokens"),
        "metadata": request["metadata"],
        "store": request["store"],
        "previous_response_id": request["previous_response_id"],
        "text": echo_text(body.get("text") or {}),
        "reasoning": echo_reasoning(body.get("reasoning") or {}),
        "truncation": body.get("truncation")
        if body.get("truncation") in ("auto", "disabled")
        else "disabled",
        "background": False,
    }
    if isinstance(body.get(_ECHOED_USER), str):
        template[_ECHOED_USER] = body[_ECHOED_USER]
    return template


def parse_request(body: Any, config: ServerConfig, history: Sequence[Any] = ()) -> ResponsesRequest:
    """Validate a ``POST /v1/responses`` body; raises a 400 :class:`BridgeError` when it is malformed.

    ``history``: the stored conversation ``previous_response_id`` continues, whose ``additional_tools``
    items still give the model their tools.
    """
    if not isinstance(body, Mapping):
        raise invalid("The request body must be a JSON object.", None, "invalid_type")
    _reject_unsupported(body)
    previous = _optional(body, "previous_response_id", str, "a string")
    instructions = _optional(body, "instructions", str, "a string")
    include = _include(body)
    text = _optional(body, "text", dict, "an object") or {}
    reasoning = _optional(body, "reasoning", dict, "an object") or {}
    parallel = _optional(body, "parallel_tool_calls", bool, "a boolean")
    input_items = _input_items(body, previous is not None)
    tools = _request_tools(body, input_items, history)
    choice = convert_tool_choice(body.get("tool_choice"), tools)
    dropped = tools.dropped
    if _integer(body, "max_tool_calls", 1) is not None:
        dropped.append("max_tool_calls (no chat equivalent)")
    options = {
        **_sampling_options(body, config, include),
        **_text_options(text, dropped),
        **_effort(reasoning, config, dropped),
        **_tool_options(tools, choice, parallel),
    }
    echoed = {
        "id": random_id("resp"),
        "model": _model(body, config),
        "instructions": instructions,
        "parallel_tool_calls": True if parallel is None else parallel,
        "metadata": _metadata(body),
        "store": _flag(body, "store", True),
        "previous_response_id": previous,
    }
    return ResponsesRequest(
        response_id=echoed["id"],
        model=echoed["model"],
        input_items=input_items,
        instructions=instructions,
        stream=_flag(body, "stream", False),
        store=echoed["store"],
        previous_response_id=previous,
        template=_template(body, echoed),
        tools=tools,
        tool_choice=choice,
        options=options,
        dropped=dropped,
        reasoning_text=INCLUDE_ENCRYPTED_REASONING in include,
    )


def check_call_outputs(conversation: Sequence[Any]) -> None:
    """A 400 for a ``function_call_output`` whose ``call_id`` no earlier item of the conversation made: the
    upstream would get a tool result for a call the model never made (OpenAI's chat API rejects that, some
    local servers silently accept it)."""
    calls: set[Any] = set()
    for item in conversation:
        if not isinstance(item, Mapping):
            continue
        if item.get("type") == "function_call_output" and item.get("call_id") not in calls:
            raise invalid(
                f"No tool call found for function call output with call_id '{item.get('call_id')}'.", "input"
            )
        if item.get("type") != "function_call_output" and isinstance(item.get("call_id"), str):
            calls.add(item["call_id"])


def is_tools_item(item: Any) -> bool:
    """An ``additional_tools`` item: its tools went into the chat ``tools``; it is no message."""
    return isinstance(item, Mapping) and item.get("type") == ADDITIONAL_TOOLS


def chat_payload(request: ResponsesRequest, conversation: Sequence[Any], config: ServerConfig) -> Json:
    """The upstream ``POST /chat/completions`` body for ``conversation`` (stored history + this input)."""
    check_call_outputs(conversation)
    # Every replayed call of a namespace is renamed, even when this request no longer lists the namespace:
    # the upstream must see one name per function across the whole conversation.
    items = [
        request.tools.names.upstream_item(expand_compaction(item))
        for item in conversation
        if not is_tools_item(item)
    ]
    messages = items_to_messages(
        items,
        instructions=request.instructions,
        reasoning_content=config.reasoning_history,
        dropped=request.dropped,
    )
    payload: Json = {"model": request.model, "messages": messages, **request.options}
    if request.stream:
        payload["stream"] = True
        payload["stream_options"] = {"include_usage": True}
    return payload
