"""LangChain's ``ChatOpenAI(use_responses_api=True)`` over a Chat Completions backend, in-process.

    python examples/framework_langchain.py                          # bundled recordings, no server
    CHAT_BASE_URL=http://127.0.0.1:8000/v1 CHAT_MODEL=qwen3 python examples/framework_langchain.py

Needs ``pip install langchain-openai``.
"""

from __future__ import annotations

import asyncio

from _upstream import MODEL, chat_client
from langchain_core.messages import AIMessageChunk, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI

from chat_to_responses import responses_client


@tool
def weather(location: str) -> str:
    """Current weather for a place."""
    return f"18 °C and sunny in {location}"


async def main() -> None:
    upstream = chat_client("deepseek/reasoner_tool_call", "deepseek/reasoner_reasoning_content")
    async with responses_client(upstream) as client:
        llm = ChatOpenAI(
            model=MODEL,
            use_responses_api=True,
            root_async_client=client,
            async_client=client.chat.completions,
            api_key="unused",  # for the sync client LangChain also builds; the async calls use ours
        )
        model = llm.bind_tools([weather])
        messages: list[BaseMessage] = [HumanMessage("Weather in San Francisco?")]
        ai = AIMessageChunk(content="")
        async for chunk in model.astream(messages):  # or: ai = await model.ainvoke(messages)
            ai += chunk
        messages.append(ai)
        for call in ai.tool_calls:
            messages.append(ToolMessage(weather.invoke(call["args"]), tool_call_id=call["id"]))
        async for chunk in model.astream(messages):
            print(chunk.text, end="", flush=True)
        print()


asyncio.run(main())
