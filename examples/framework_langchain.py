"""LangChain's ``ChatOpenAI(use_responses_api=True)`` over a Chat Completions server, in-process.

pip install 'chat-to-responses[server]' langchain-openai
UPSTREAM_URL=http://127.0.0.1:8000/v1 MODEL=qwen3 python examples/framework_langchain.py
"""

from __future__ import annotations

import asyncio
import os

from langchain_core.messages import BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI

from chat_to_responses import responses_client

UPSTREAM_URL = os.environ.get("UPSTREAM_URL", "http://127.0.0.1:8000/v1")
MODEL = os.environ.get("MODEL", "qwen3")


@tool
def weather(location: str) -> str:
    """The weather at a place."""
    return f"sunny in {location}"


async def main() -> None:
    async with responses_client(UPSTREAM_URL, api_key=os.environ.get("UPSTREAM_API_KEY")) as client:
        llm = ChatOpenAI(
            model=MODEL,
            use_responses_api=True,
            root_async_client=client,
            async_client=client.chat.completions,
            api_key="unused",  # for the sync client LangChain also builds; the async calls use ours
        )
        model = llm.bind_tools([weather])
        messages: list[BaseMessage] = [HumanMessage("Weather in Florence?")]
        ai = await model.ainvoke(messages)
        messages.append(ai)
        for call in ai.tool_calls:
            messages.append(ToolMessage(weather.invoke(call["args"]), tool_call_id=call["id"]))
        async for chunk in model.astream(messages):
            print(chunk.text, end="", flush=True)
        print()


if __name__ == "__main__":
    asyncio.run(main())
