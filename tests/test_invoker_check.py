"""Invokers are checked when the tools are built: a wrong one is a TypeError showing the expected signature.

Without the check, ``def get_weather(args)`` ran: the loop's call raised TypeError, the model was told
``get_weather() takes 1 positional argument but 2 were given`` and the run ended ``completed``.
"""

from __future__ import annotations

import functools
from typing import Any

import pytest
from pydantic import BaseModel

from chat_to_responses import (
    FunctionTool,
    PydanticToolConfig,
    ToolCall,
    build_pydantic_tools_and_invokers,
    stream_until_user_input,
)
from chat_to_responses.testing import ReplayTransport
from helpers import chunk, replay_client

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


MESSAGES = [{"role": "user", "content": "hi"}]


class GetWeather(BaseModel):
    city: str


def one_argument(args: GetWeather) -> str:
    return "sunny"


async def async_one_argument(args: GetWeather) -> str:
    return "sunny"


def sync_two_arguments(args: GetWeather, context: Any) -> str:
    return "sunny"


async def good(args: Any, context: Any) -> str:
    return "sunny"


async def three(args: Any, context: Any, extra: str) -> str:
    return extra


class AsyncCallable:
    async def __call__(self, args: Any, context: Any) -> str:
        return "sunny"

    async def method(self, args: Any, context: Any) -> str:
        return "sunny"


@pytest.mark.parametrize(
    ("invoker", "problem"),
    [
        (one_argument, "cannot be called as (args, context): one_argument(args: "),
        (async_one_argument, "cannot be called as (args, context)"),
        (three, "missing a required argument: 'extra'"),
        (sync_two_arguments, "is a plain function (sync_two_arguments), not async def"),
        (lambda args, context: "sunny", "is a plain function (<lambda>), not async def"),
        ("get_weather", "is not callable ('get_weather')"),
    ],
)
def test_a_wrong_pydantic_invoker_fails_when_the_tools_are_built(invoker: Any, problem: str) -> None:
    with pytest.raises(TypeError) as raised:
        build_pydantic_tools_and_invokers([PydanticToolConfig(GetWeather, invoker)])
    message = str(raised.value)
    assert problem in message
    expected = (
        "async def get_weather(args: GetWeather, context) -> str | ToolResult | dict | list | BaseModel"
    )
    assert message.endswith(f"expected {expected}")


@pytest.mark.parametrize(
    "invoker",
    [
        good,
        AsyncCallable(),
        AsyncCallable().method,
        functools.partial(three, extra="sunny"),
    ],
)
async def test_valid_invokers_are_accepted_and_run(invoker: Any) -> None:
    tools, invokers = build_pydantic_tools_and_invokers([PydanticToolConfig(GetWeather, invoker)])
    call = ToolCall.model_validate(
        {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}
    )
    assert await invokers["get_weather"](call, None) == "sunny"
    assert tools[0]["function"]["name"] == "get_weather"


@pytest.mark.parametrize("as_function_tool", [False, True])
async def test_a_wrong_raw_invoker_fails_before_the_first_request(as_function_tool: bool) -> None:
    transport = ReplayTransport([[chunk({"content": "hi"}, "stop")]])
    tool = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}

    def get_weather(tool_call: ToolCall) -> str:
        return "sunny"

    options: dict[str, Any] = (
        {"tools": [FunctionTool(tool, get_weather)]}  # type: ignore[arg-type]
        if as_function_tool
        else {"tools": [tool], "tool_invokers": {"get_weather": get_weather}}
    )
    with pytest.raises(TypeError, match=r"expected async def get_weather\(tool_call: ToolCall, context\)"):
        await stream_until_user_input(
            [{"role": "user", "content": "hi"}], "m", replay_client(transport), **options
        )
    assert transport.requests == []  # nothing was sent
