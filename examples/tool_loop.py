"""The tool loop with a pydantic tool (the README's tool-loop snippet).

    python examples/tool_loop.py                                    # bundled recordings, no server
    CHAT_BASE_URL=http://127.0.0.1:8000/v1 CHAT_MODEL=qwen3 python examples/tool_loop.py

An invoker is ``async def f(args, context)``: ``args`` is the validated pydantic model, ``context`` the
``context=`` given to the loop (None here). It returns a str, a ToolResult, or a dict, list or pydantic
model (sent as JSON). A wrong signature is a TypeError from ``build_pydantic_tools_and_invokers``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from _upstream import MODEL, chat_client
from pydantic import BaseModel, Field

from chat_to_responses import PydanticToolConfig, build_pydantic_tools_and_invokers, stream_until_user_input


class Weather(BaseModel):
    """Current weather for a place."""

    location: str = Field(description="a city, e.g. 'San Francisco'")


async def weather(args: Weather, context: Any) -> str:
    return f"18 °C and sunny in {args.location}"


async def main() -> None:
    client = chat_client("deepseek/reasoner_tool_call", "deepseek/reasoner_reasoning_content")
    messages = [{"role": "user", "content": "What is the weather in San Francisco?"}]
    tools, invokers = build_pydantic_tools_and_invokers([PydanticToolConfig(Weather, weather)])
    result = await stream_until_user_input(messages, MODEL, client, tools=tools, tool_invokers=invokers)
    next_messages = result.to_input_list()  # chat messages, ready for the next request
    for message in next_messages:
        print(f"{message['role']:>9}: {message.get('content') or message.get('tool_calls')}")


asyncio.run(main())
