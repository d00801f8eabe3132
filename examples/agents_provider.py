"""The OpenAI Agents SDK on a Chat Completions backend (the README's agents snippet).

    python examples/agents_provider.py                              # bundled recordings, no server
    CHAT_BASE_URL=http://127.0.0.1:8000/v1 CHAT_MODEL=qwen3 python examples/agents_provider.py

Needs the ``agents`` extra. Tracing is turned off here: with ``OPENAI_API_KEY`` set, the Agents SDK would
otherwise upload every run's trace to OpenAI (see the README for keeping traces local instead).
"""

from __future__ import annotations

import asyncio

from _upstream import MODEL, chat_client
from agents import Agent, RunConfig, Runner, RunResultStreaming, function_tool, set_tracing_disabled

from chat_to_responses.agents import ChatCmplModel, ChatCmplProvider

set_tracing_disabled(True)  # no trace leaves this machine


@function_tool
def weather(location: str) -> str:
    """Current weather for a place."""
    return f"18 °C and sunny in {location}"


async def main() -> None:
    client = chat_client(*["deepseek/reasoner_tool_call", "deepseek/reasoner_reasoning_content"] * 2)
    question = "What is the weather in San Francisco?"

    # One agent on a Chat Completions model:
    agent = Agent(name="assistant", model=ChatCmplModel(MODEL, openai_client=client), tools=[weather])
    await show(Runner.run_streamed(agent, question))  # or: result = await Runner.run(agent, question)

    # Or every agent of a run, each naming its model by a string:
    agent = Agent(name="assistant", model=MODEL, tools=[weather])
    run_config = RunConfig(model_provider=ChatCmplProvider(openai_client=client))
    await show(Runner.run_streamed(agent, question, run_config=run_config))


async def show(result: RunResultStreaming) -> None:
    async for event in result.stream_events():
        if event.type == "run_item_stream_event":
            print(event.name)  # reasoning_item_created, tool_called, tool_output, message_output_created
    print(result.final_output)


asyncio.run(main())
