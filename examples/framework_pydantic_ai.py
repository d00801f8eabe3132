"""pydantic-ai's ``OpenAIResponsesModel`` over a Chat Completions server, in-process.

pip install 'chat-to-responses[server]' 'pydantic-ai-slim[openai]'
UPSTREAM_URL=http://127.0.0.1:8000/v1 MODEL=qwen3 python examples/framework_pydantic_ai.py
"""

from __future__ import annotations

import asyncio
import os

from pydantic_ai import Agent
from pydantic_ai.models.openai import OpenAIResponsesModel
from pydantic_ai.providers.openai import OpenAIProvider

from chat_to_responses import responses_client

UPSTREAM_URL = os.environ.get("UPSTREAM_URL", "http://127.0.0.1:8000/v1")
MODEL = os.environ.get("MODEL", "qwen3")


def weather(location: str) -> str:
    """The weather at a place."""
    return f"sunny in {location}"


async def main() -> None:
    async with responses_client(UPSTREAM_URL, api_key=os.environ.get("UPSTREAM_API_KEY")) as client:
        model = OpenAIResponsesModel(MODEL, provider=OpenAIProvider(openai_client=client))
        agent = Agent(model, instructions="Use the weather tool.", tools=[weather])
        async with agent.run_stream("Weather in Florence?") as result:
            async for delta in result.stream_text(delta=True):
                print(delta, end="", flush=True)
        print()


if __name__ == "__main__":
    asyncio.run(main())
