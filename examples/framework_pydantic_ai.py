"""pydantic-ai's ``OpenAIResponsesModel`` over a Chat Completions backend, in-process.

    python examples/framework_pydantic_ai.py                        # bundled recordings, no server
    CHAT_BASE_URL=http://127.0.0.1:8000/v1 CHAT_MODEL=qwen3 python examples/framework_pydantic_ai.py

Needs ``pip install 'pydantic-ai-slim[openai]'``.
"""

from __future__ import annotations

import asyncio

from _upstream import MODEL, chat_client
from pydantic_ai import Agent
from pydantic_ai.models.openai import OpenAIResponsesModel
from pydantic_ai.providers.openai import OpenAIProvider

from chat_to_responses import responses_client


def weather(location: str) -> str:
    """Current weather for a place."""
    return f"18 °C and sunny in {location}"


async def main() -> None:
    upstream = chat_client("deepseek/reasoner_tool_call", "deepseek/reasoner_reasoning_content")
    async with responses_client(upstream) as client:
        model = OpenAIResponsesModel(MODEL, provider=OpenAIProvider(openai_client=client))
        agent = Agent(model, tools=[weather])
        async with agent.run_stream("Weather in San Francisco?") as result:  # or: await agent.run(…)
            async for delta in result.stream_text(delta=True):
                print(delta, end="", flush=True)
        print()


asyncio.run(main())
