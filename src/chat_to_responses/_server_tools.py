"""Responses tools → Chat Completions tools, and the tool names between the two.

Chat Completions knows only flat function tools. So:

- ``function`` tools pass as chat function tools (``strict`` only when true: several upstreams reject the
  field, and ``strict: false`` is the chat default anyway).
- ``namespace`` tools (Codex sends ``multi_agent_v1`` this way) are flattened: each function inside becomes
  a chat tool named ``<namespace>__<name>``. A name that would collide with another tool, break the chat
  name rule (``[A-Za-z0-9_-]{1,64}``) or exceed 64 characters gets a short hash instead of the plain join,
  so the mapping is always one-to-one. On the way out a call to a flattened name is given back as its own
  ``name`` plus ``namespace`` — in every streamed event that names it and in the final output.
- Hosted tools (``web_search``, ``file_search``, ``code_interpreter``, ``mcp``…) and ``custom`` tools
  cannot run on a chat upstream: they are dropped and reported, never passed on raw.

:class:`ToolNames` is the one place the name mapping lives; the request path uses it to rename replayed
``function_call`` items, the stream and the non-streamed path to restore names.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._server_errors import invalid

Json = dict[str, Any]

NAMESPACE_SEPARATOR = "__"
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

    def __bool__(self) -> bool:
        return bool(self._restored)

    def claim(self, name: str) -> None:
        """A plain function tool's name: flattened names must avoid it."""
        self._taken.add(name)

    def upstream_name(self, namespace: str, name: str) -> str:
        """The chat name of ``namespace``'s function ``name`` (registered on first use)."""
        key = (namespace, name)
        known = self._upstream.get(key)
        if known is not None:
            return known
        flat = f"{namespace}{NAMESPACE_SEPARATOR}{name}"
        if flat in self._taken or not _CHAT_NAME.fullmatch(flat):
            digest = hashlib.sha256(f"{namespace}\0{name}".encode()).hexdigest()[:_HASH_CHARS]
            stem = re.sub(r"[^A-Za-z0-9_-]", "_", flat)[: _MAX_NAME - _HASH_CHARS - 1]
            flat = f"{stem}_{digest}"
        self._upstream[key] = flat
        self._restored[flat] = key
        self._taken.add(flat)
        return flat

    def flattened(self, name: str) -> list[str]:
        """The chat names of every namespaced function called ``name``."""
        return [flat for (_, fn), flat in self._upstream.items() if fn == name]

    def restore_item(self, item: Json) -> Json:
        """A ``function_call`` output item with its Responses name and namespace back (a copy)."""
        if item.get("type") != "function_call":
            return item
        restored = self._restored.get(item.get("name", ""))
        if restored is None:
            return item
        namespace, name = restored
        return {**item, "name": name, "namespace": namespace}

    def restore_event(self, event: Json) -> Json:
        """A Responses stream event with flattened names given back (the event itself when none)."""
        if not self._restored:
            return event
        kind = event.get("type")
        if kind in _ITEM_EVENTS:
            return {**event, "item": self.restore_item(event["item"])}
        if kind == "response.function_call_arguments.done" and event.get("name") in self._restored:
            return {**event, "name": self._restored[event["name"]][1]}
        if kind in _TERMINAL_EVENTS:
            return {**event, "response": self.restore_response(event["response"])}
        return event

    def restore_response(self, response: Json) -> Json:
        if not self._restored or not isinstance(response.get("output"), list):
            return response
        return {**response, "output": [self.restore_item(item) for item in response["output"]]}

    def upstream_item(self, item: Any) -> Any:
        """A replayed ``function_call`` item named as the upstream knows it (namespace folded in)."""
        if not isinstance(item, Mapping) or item.get("type") != "function_call":
            return item
        namespace, name = item.get("namespace"), item.get("name")
        if not isinstance(namespace, str) or not namespace or not isinstance(name, str):
            return item
        folded = {k: v for k, v in item.items() if k != "namespace"}
        folded["name"] = self.upstream_name(namespace, name)
        return folded


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
        if tool["type"] == "function":
            names.claim(str(tool.get("name")))
    chat: dict[str, Json] = {}
    dropped: list[str] = []
    for param, tool in checked:
        if tool["type"] == "function":
            converted = [_chat_function(tool, _function_name(tool, param), param)]
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
        if member["type"] != "function":
            dropped.append(_describe_dropped(member, f"{namespace}."))
            continue
        name = names.upstream_name(namespace, _function_name(member, member_param))
        chat.append(_chat_function(member, name, member_param))
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
    if choice["type"] == "function":
        return _chat_choice_for_function(choice, tools)
    if choice["type"] == "allowed_tools":
        return _allowed_tools(choice, tools)
    tools.dropped.append(f"tool_choice {choice['type']} (its tool was dropped; 'auto' used)")
    return "auto"
