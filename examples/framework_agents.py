"""The OpenAI Agents SDK's own ``OpenAIResponsesModel`` over a Chat Completions server, in-process.

pip install 'chat-to-responses[server,agents]'
UPSTREAM_URL=http://127.0.0.1:8000/v1 MODEL=qwen3 python examples/framework_agents.py
"""

from __future__ import annotations

import asyncio
import os

from agents import Agent, OpenAIResponsesModel, RunConfig, Runner, function_tool

from chat_to_responses import responses_client

UPSTREAM_URL = os.environ.get("UPSTREAM_URL", "http://127.0.0.1:8000/v1")
MODEL = os.environ.get("MODEL", "qwen3")


@function_tool
def weather(location: str) -> str:
    """The weather at a place."""
    return f"sunny in {location}"


async def main() -> None:
    async with responses_client(UPSTREAM_URL, api_key=os.environ.get("UPSTREAM_API_KEY")) as client:
        model = OpenAIResponsesModel(model=MODEL, openai_client=client)
        agent = Agent(name="forecaster", instructions="Use the weather tool.", tools=[weather], model=model)
        result = await Runner.run(agent, "Weather in Florence?", run_config=RunConfig(tracing_disabled=True))
        print(result.final_output)


if __name__ == "__main__":
    asyncio.run(main())
