"""What a tool is, to the tool loop: a chat tool schema plus an async invoker.

Kept compatible with the seed library ``chat-cmpl-stream-handler``: an invoker is
``async (tool_call, context) -> str | ToolResult``, where ``tool_call`` is the openai SDK's
``ChatCompletionMessageFunctionToolCall`` (``.id``, ``.function.name``, ``.function.arguments``). An invoker
may also return a dict, list or pydantic model: the loop sends it as JSON, never as a Python repr.

An invoker says *the model* got something wrong by raising :class:`ToolInputError` (arguments that do
not fit the tool): under ``on_tool_error="emit"`` the loop's default error content tells the model its
message in full, so it can retry (a tool's other exceptions are not described to the model).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from openai.types.chat import ChatCompletionMessageFunctionToolCall, ChatCompletionToolParam

ToolCall = ChatCompletionMessageFunctionToolCall
ToolParam = ChatCompletionToolParam
ToolInvoker = Callable[[ToolCall, Any], Awaitable[Any]]
"""``async (tool_call, context) -> str | ToolResult | dict | list | BaseModel``."""


@dataclass(frozen=True)
class ToolResult:
    """What a tool returns: ``content`` goes to the model; ``metadata`` stays with the run's events."""

    content: str
    metadata: dict[str, Any] = field(default_factory=dict)


class ToolInputError(ValueError):
    """The model's arguments do not fit the tool; the message is sent to the model so it can retry."""


def args_from_tool_call(tool_call: ToolCall) -> dict[str, Any]:
    """The call's arguments as a dict (``{}`` when empty); ToolInputError unless they are a JSON object."""
    raw = tool_call.function.arguments
    if not raw or not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise ToolInputError(f"arguments are not valid JSON ({exc}): {raw[:200]!r}") from None
    if not isinstance(value, dict):
        raise ToolInputError(f"arguments must be a JSON object, got {type(value).__name__}: {raw[:200]!r}")
    return value


def make_tool_call(call_id: str, name: str, arguments: str) -> ToolCall:
    """The seed-compatible tool call object handed to invokers."""
    return ToolCall.model_validate(
        {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
    )
