"""Responses tools → Chat Completions tools, and the tool names between the two.

Chat Completions knows only flat function tools. So:

- ``function`` tools pass as chat function tools (``strict`` only when true: several upstreams reject the
  field, and ``strict: false`` is the chat default anyway).
- ``namespace`` tools (Codex sends ``multi_agent_v1`` this way) are flattened: each function inside becomes
  a chat tool named ``<namespace>__<name>`` (the members of ``functions``, the namespace function tools
  live in for OpenAI's models, keep their own name). A name that would collide with another tool, break
  the chat name rule (``[A-Za-z0-9_-]{1,64}``) or exceed 64 characters gets a short hash instead of the
  plain join, so the mapping is always one-to-one. On the way out a call to a flattened name is given back
  as its own ``name`` plus ``namespace`` — in every streamed event that names it and in the final output.
- ``custom`` tools (free-form input: Codex's ``apply_patch``, its code-mode ``exec``) are run by the client,
  so they are kept: each becomes a chat function with one string parameter, ``input`` (a grammar the input
  must follow goes into the description). Its calls go back as ``custom_tool_call`` items (events
  ``response.custom_tool_call_input.delta``/``.done``, the input whole once the arguments are complete);
  replayed ``custom_tool_call`` / ``custom_tool_call_output`` items become the function call and result.
- Hosted tools (``web_search``, ``file_search``, ``code_interpreter``, ``mcp``…) cannot run on a chat
  upstream: they are dropped and reported, never passed on raw.

:class:`ToolNames` is the one place the name mapping lives; the request path uses it to rename replayed
``function_call`` items, the stream and the non-streamed path to restore names.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._errors import invalid

Json = dict[str, Any]

NAMESPACE_SEPARATOR = "__"
DEFAULT_NAMESPACE = "functions"
_CHAT_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_MAX_NAME = 64
_HASH_CHARS = 8
_CHOICE_MODES = frozenset({"auto", "none", "required"})
# Events whose item may be a function call, and the one that repeats the call's name.
_ITEM_EVENTS = frozenset({"response.output_item.added", "response.output_item.done"})
_TERMINAL_EVENTS = frozenset({"response.completed", "response.incomplete", "response.failed"})


@dataclass
class ToolNames:
    """Upstream (chat) function name ⇄ Responses ``(namespace, name)``, one-to-one for one request."""

    _upstream: dict[tuple[str, str], str] = field(default_factory=dict)
    _restored: dict[str, tuple[str, str]] = field(default_factory=dict)
    _taken: set[str] = field(default_factory=set)
    _custom: set[str] = field(default_factory=set)  # chat names of custom tools
    _custom_items: set[str] = field(default_factory=set)  # ids of this stream's custom calls

    def __bool__(self) -> bool:
        return bool(self._restored or self._custom)

    @property
    def has_custom(self) -> bool:
        return bool(self._custom)

    def mark_custom(self, chat_name: str) -> None:
        """``chat_name`` is a custom tool: its calls go back as ``custom_tool_call`` items."""
        self._custom.add(chat_name)

    def claim(self, name: str) -> None:
        """A plain function tool's name: flattened names must avoid it."""
        self._taken.add(name)

    def upstream_name(self, namespace: str, name: str) -> str:
        """The chat name of ``namespace``'s function ``name`` (registered on first use)."""
        key = (namespace, name)
        known = self._upstream.get(key)
        if known is not None:
            return known
        # "functions" is the namespace function tools live in for OpenAI's models (functions.exec):
        # its members keep their own names, as a chat model sees plain function tools.
        joined = f"{namespace}{NAMESPACE_SEPARATOR}{name}"
        flat = name if namespace == DEFAULT_NAMESPACE else joined
        if flat in self._taken or not _CHAT_NAME.fullmatch(flat):
            digest = hashlib.sha256(f"{namespace}\0{name}".encode()).hexdigest()[:_HASH_CHARS]
            stem = re.sub(r"[^A-Za-z0-9_-]", "_", joined)[: _MAX_NAME - _HASH_CHARS - 1]
            flat = f"{stem}_{digest}"
        self._upstream[key] = flat
        self._restored[flat] = key
        self._taken.add(flat)
        return flat

    def flattened(self, name: str) -> list[str]:
        """The chat names of every namespaced function called ``name``."""
        return [flat for (_, fn), flat in self._upstream.items() if fn == name]

    def restore_item(self, item: Json) -> Json:
        """A ``function_call`` output item with its Responses name and namespace back (a copy); a call of a
        custom tool becomes the ``custom_tool_call`` it stands for."""
        if item.get("type") != "function_call":
            return item
        chat_name = item.get("name", "")
        restored = self._restored.get(chat_name)
        if chat_name in self._custom:
            return _custom_call(item, *(restored or (None, chat_name)))
        if restored is None:
            return item
        namespace, name = restored
        return {**item, "name": name, "namespace": namespace}

    def restore_event(self, event: Json) -> Json:
        """A Responses stream event with flattened names given back (the event itself when none)."""
        if not self:
            return event
        kind = event.get("type")
        if kind in _ITEM_EVENTS:
            return {**event, "item": self.restore_item(event["item"])}
        if kind == "response.function_call_arguments.done" and event.get("name") in self._restored:
            return {**event, "name": self._restored[event["name"]][1]}
        if kind in _TERMINAL_EVENTS:
            return {**event, "response": self.restore_response(event["response"])}
        return event

    def restore_events(self, event: Json) -> list[Json]:
        """`restore_event`, and a custom tool's call as the events of a ``custom_tool_call``: its JSON
        arguments (``{"input": …}``) are not streamed; the input comes whole when they are complete."""
        kind = event.get("type")
        if not self._custom:
            return [self.restore_event(event)]
        if kind == "response.output_item.added" and event["item"].get("name") in self._custom:
            self._custom_items.add(event["item"].get("id", ""))
        if event.get("item_id") in self._custom_items:
            if kind == "response.function_call_arguments.delta":
                return []
            if kind == "response.function_call_arguments.done":
                return _custom_input_events(event)
        return [self.restore_event(event)]

    def restore_response(self, response: Json) -> Json:
        if not self or not isinstance(response.get("output"), list):
            return response
        return {**response, "output": [self.restore_item(item) for item in response["output"]]}

    def upstream_item(self, item: Any) -> Any:
        """A replayed call item as the upstream knows it: a ``function_call`` with its namespace folded
        into the name; a ``custom_tool_call`` (and its output) as the function call standing for it."""
        if not isinstance(item, Mapping):
            return item
        kind = item.get("type")
        if kind == "custom_tool_call":
            item = _as_function_call(item)
        elif kind == "custom_tool_call_output":
            return {**item, "type": "function_call_output"}
        elif kind != "function_call":
            return item
        namespace, name = item.get("namespace"), item.get("name")
        if not isinstance(namespace, str) or not namespace or not isinstance(name, str):
            return item
        folded = {k: v for k, v in item.items() if k != "namespace"}
        folded["name"] = self.upstream_name(namespace, name)
        return folded


CUSTOM_INPUT = "input"
"""The one parameter of the function a custom tool becomes: the tool's free-form input, as a string."""


def custom_input(arguments: str) -> str:
    """A custom tool's input from the arguments of the function call standing for it; arguments that do
    not follow the wrapper (a model that sent the raw input) are the input themselves."""
    try:
        parsed = json.loads(arguments)
    except ValueError:
        return arguments
    value = parsed.get(CUSTOM_INPUT) if isinstance(parsed, dict) else None
    return value if isinstance(value, str) else arguments


def custom_call_id(function_call_id: str) -> str:
    """The core mints ``fc_`` ids; a custom tool call's is ``ctc_`` (what OpenAI and ``check_stream`` use)."""
    return "ctc_" + function_call_id.removeprefix("fc_")


def _custom_call(item: Json, namespace: str | None, name: str) -> Json:
    call = {k: v for k, v in item.items() if k not in ("arguments", "name", "namespace", "type")}
    call.update(type="custom_tool_call", name=name, input=custom_input(item.get("arguments") or ""))
    if isinstance(call.get("id"), str):
        call["id"] = custom_call_id(call["id"])
    if namespace:
        call["namespace"] = namespace
    return call


def _custom_input_events(done: Json) -> list[Json]:
    text = custom_input(done.get("arguments") or "")
    common = {"item_id": custom_call_id(done["item_id"]), "output_index": done["output_index"]}
    return [
        {"type": "response.custom_tool_call_input.delta", **common, "delta": text},
        {"type": "response.custom_tool_call_input.done", **common, "input": text},
    ]


def _as_function_call(item: Mapping[str, Any]) -> Json:
    arguments = json.dumps({CUSTOM_INPUT: item.get("input") if isinstance(item.get("input"), str) else ""})
    kept = {k: v for k, v in item.items() if k not in ("input", "type")}
    return {**kept, "type": "function_call", "arguments": arguments}


@dataclass
class ChatTools:
    """The chat ``tools`` and ``tool_choice`` for one request, and what could not be passed on."""

    tools: list[Json]
    names: ToolNames
    dropped: list[str]


def _chat_function(tool: Mapping[str, Any], name: str, param: str) -> Json:
    function: Json = {"name": name}
    description = tool.get("description")
    if isinstance(description, str) and description:
        function["description"] = description
    parameters = tool.get("parameters")
    if parameters is not None:
        if not isinstance(parameters, Mapping):
            raise invalid("Function parameters must be a JSON Schema object.", f"{param}.parameters")
        function["parameters"] = dict(parameters)
    if tool.get("strict") is True:
        function["strict"] = True
    return {"type": "function", "function": function}


_CLIENT_TOOLS = frozenset({"function", "custom"})  # the tools the client runs itself


def _client_tool(tool: Mapping[str, Any], name: str, param: str, names: ToolNames) -> Json:
    if tool["type"] == "function":
        return _chat_function(tool, name, param)
    names.mark_custom(name)
    return _custom_function(tool, name)


def _custom_function(tool: Mapping[str, Any], name: str) -> Json:
    """A custom (free-form input) tool as a chat function taking that input as its one string parameter;
    a grammar the input must follow goes into the description, the one place a chat model reads it."""
    given, fmt = tool.get("description"), tool.get("format")
    description = given if isinstance(given, str) else ""
    if isinstance(fmt, Mapping) and fmt.get("type") == "grammar" and isinstance(fmt.get("definition"), str):
        syntax = fmt.get("syntax") if isinstance(fmt.get("syntax"), str) else "grammar"
        description += f"\n\nThe {CUSTOM_INPUT} must follow this {syntax} grammar:\n{fmt['definition']}"
    parameters = {
        "type": "object",
        "properties": {CUSTOM_INPUT: {"type": "string", "description": "the tool's raw input"}},
        "required": [CUSTOM_INPUT],
        "additionalProperties": False,
    }
    function: Json = {"name": name, "parameters": parameters}
    if description:
        function["description"] = description.strip()
    return {"type": "function", "function": function}


def _function_name(tool: Mapping[str, Any], param: str) -> str:
    name = tool.get("name")
    if not isinstance(name, str) or not name:
        raise invalid("Missing required parameter: 'name'.", f"{param}.name", "missing_required_parameter")
    return name


def _tool_object(tool: Any, param: str) -> Mapping[str, Any]:
    if not isinstance(tool, Mapping) or not isinstance(tool.get("type"), str):
        raise invalid("Each tool must be an object with a 'type'.", param, "invalid_type")
    return tool


def _describe_dropped(tool: Mapping[str, Any], where: str = "") -> str:
    label = tool.get("name") or tool.get("server_label")
    kind = tool["type"]
    described = f"{kind} {label}" if isinstance(label, str) else str(kind)
    return f"tool {where}{described} (the upstream cannot run it)"


def convert_tools(tools: Any) -> ChatTools:
    """The request's ``tools`` as chat tools; raises a 400 :class:`BridgeError` for a malformed tool."""
    if tools is None:
        tools = []
    if not isinstance(tools, list):
        raise invalid("'tools' must be an array.", "tools", "invalid_type")
    return convert_tool_list([(f"tools[{i}]", tool) for i, tool in enumerate(tools)])


def convert_tool_list(tools: Sequence[tuple[str, Any]]) -> ChatTools:
    """Tools, each with the ``param`` that names it in errors, as chat tools.

    The same function given twice (``tools`` and an ``additional_tools`` item, or a tool set updated later
    in the conversation) is sent once, with its last definition.
    """
    checked = [(param, _tool_object(tool, param)) for param, tool in tools]
    names = ToolNames()
    for _, tool in checked:
        if tool["type"] in _CLIENT_TOOLS:
            names.claim(str(tool.get("name")))
    chat: dict[str, Json] = {}
    dropped: list[str] = []
    for param, tool in checked:
        if tool["type"] in _CLIENT_TOOLS:
            converted = [_client_tool(tool, _function_name(tool, param), param, names)]
        elif tool["type"] == "namespace":
            converted = _namespace_tools(tool, param, names, dropped)
        else:
            converted = []
            dropped.append(_describe_dropped(tool))
        chat.update((c["function"]["name"], c) for c in converted)
    return ChatTools(list(chat.values()), names, dropped)


def _namespace_tools(tool: Mapping[str, Any], param: str, names: ToolNames, dropped: list[str]) -> list[Json]:
    namespace = _function_name(tool, param)
    members = tool.get("tools")
    if not isinstance(members, list):
        raise invalid("A namespace tool needs a 'tools' array.", f"{param}.tools", "invalid_type")
    chat: list[Json] = []
    for index, member in enumerate(members):
        member_param = f"{param}.tools[{index}]"
        member = _tool_object(member, member_param)
        if member["type"] not in _CLIENT_TOOLS:
            dropped.append(_describe_dropped(member, f"{namespace}."))
            continue
        name = names.upstream_name(namespace, _function_name(member, member_param))
        chat.append(_client_tool(member, name, member_param, names))
    return chat


def _chat_choice_for_function(choice: Mapping[str, Any], tools: ChatTools) -> Json:
    name = _function_name(choice, "tool_choice")
    namespace = choice.get("namespace")
    if isinstance(namespace, str) and namespace:
        name = tools.names.upstream_name(namespace, name)
    elif not any(t["function"]["name"] == name for t in tools.tools):
        # Only the bare name given: the function of the one namespace that has it, if any.
        matches = tools.names.flattened(name)
        name = matches[0] if len(matches) == 1 else name
    return {"type": "function", "function": {"name": name}}


def _allowed_tools(choice: Mapping[str, Any], tools: ChatTools) -> str:
    """``allowed_tools`` as the portable equivalent: only those tools sent, with the given mode."""
    mode = choice.get("mode", "auto")
    listed = choice.get("tools")
    if mode not in ("auto", "required") or not isinstance(listed, list):
        raise invalid("allowed_tools needs a mode ('auto' or 'required') and a tools array.", "tool_choice")
    allowed = set()
    for entry in listed:
        if (
            isinstance(entry, Mapping)
            and entry.get("type") == "function"
            and isinstance(entry.get("name"), str)
        ):
            allowed.add(_chat_choice_for_function(entry, tools)["function"]["name"])
    tools.tools = [t for t in tools.tools if t["function"]["name"] in allowed]
    return str(mode)


def convert_tool_choice(choice: Any, tools: ChatTools) -> str | Json | None:
    """The chat ``tool_choice`` (``None``: send none); may narrow ``tools.tools`` for ``allowed_tools``."""
    if choice is None:
        return None
    if isinstance(choice, str):
        if choice not in _CHOICE_MODES:
            raise invalid("'tool_choice' must be 'auto', 'none', 'required' or an object.", "tool_choice")
        return choice
    if not isinstance(choice, Mapping) or not isinstance(choice.get("type"), str):
        raise invalid("'tool_choice' must be a string or an object with a 'type'.", "tool_choice")
    if choice["type"] in _CLIENT_TOOLS:
        return _chat_choice_for_function(choice, tools)
    if choice["type"] == "allowed_tools":
        return _allowed_tools(choice, tools)
    tools.dropped.append(f"tool_choice {choice['type']} (its tool was dropped; 'auto' used)")
    return "auto"
