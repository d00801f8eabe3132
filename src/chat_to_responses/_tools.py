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

import inspect
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


_RETURNS = "str | ToolResult | dict | list | BaseModel"


def check_invoker(invoker: object, tool_name: str, first: str) -> None:
    """TypeError now, naming the expected signature, unless ``invoker`` can be awaited with two arguments.

    Caught when the tools are built: called with the wrong arguments at run time, the invoker's
    TypeError would go to the model as a tool error, and the run would still end ``completed``.
    ``first`` is what the first argument is, e.g. ``tool_call: ToolCall`` or ``args: GetWeather``.
    """
    expected = f"async def {tool_name}({first}, context) -> {_RETURNS}"
    if not callable(invoker):
        raise TypeError(
            f"the invoker of tool {tool_name!r} is not callable ({invoker!r}); expected {expected}"
        )
    problem = _arity_problem(invoker, first.partition(":")[0]) or _sync_problem(invoker)
    if problem:
        raise TypeError(f"the invoker of tool {tool_name!r} {problem}; expected {expected}")


def _arity_problem(invoker: Callable[..., Any], first: str) -> str | None:
    try:
        signature = inspect.signature(invoker)
    except (TypeError, ValueError):  # a builtin without a signature: it will tell at call time
        return None
    try:
        signature.bind(None, None)
    except TypeError as exc:
        return f"cannot be called as ({first}, context): {_name(invoker)}{signature}: {exc}"
    return None


def _sync_problem(invoker: Callable[..., Any]) -> str | None:
    """A plain ``def``: its result cannot be awaited. Anything else (partials, objects…) gets the benefit."""
    if not (inspect.isfunction(invoker) or inspect.ismethod(invoker)) or hasattr(invoker, "__wrapped__"):
        return None  # a decorator's wrapper may well return an awaitable from a plain def
    if inspect.iscoroutinefunction(invoker):
        return None
    return f"is a plain function ({_name(invoker)}), not async def: the loop awaits its result"


def _name(invoker: Callable[..., Any]) -> str:
    return getattr(invoker, "__qualname__", None) or type(invoker).__name__
