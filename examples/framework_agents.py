"""The OpenAI Agents SDK's own ``OpenAIResponsesModel`` over a Chat Completions backend, in-process.

    python examples/framework_agents.py                             # bundled recordings, no server
    CHAT_BASE_URL=http://127.0.0.1:8000/v1 CHAT_MODEL=qwen3 python examples/framework_agents.py

Needs the ``agents`` extra. Tracing is turned off: no trace leaves this machine.
"""

from __future__ import annotations

import asyncio

from _upstream import MODEL, chat_client
from agents import Agent, OpenAIResponsesModel, Runner, function_tool, set_tracing_disabled

from chat_to_responses import responses_client

set_tracing_disabled(True)


@function_tool
def weather(location: str) -> str:
    """Current weather for a place."""
    return f"18 °C and sunny in {location}"


async def main() -> None:
    upstream = chat_client("deepseek/reasoner_tool_call", "deepseek/reasoner_reasoning_content")
    async with responses_client(upstream) as client:
        model = OpenAIResponsesModel(model=MODEL, openai_client=client)
        agent = Agent(name="assistant", model=model, tools=[weather])
        result = Runner.run_streamed(agent, "Weather in San Francisco?")  # or: await Runner.run(…)
        async for _ in result.stream_events():
            pass
        print(result.final_output)


asyncio.run(main())
