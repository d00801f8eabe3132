"""The openai SDK's ``client.responses`` over a Chat Completions backend, in-process (no server to run).

    python examples/framework_openai.py                             # bundled recordings, no server
    CHAT_BASE_URL=http://127.0.0.1:8000/v1 CHAT_MODEL=qwen3 python examples/framework_openai.py

A two-turn tool call: the model asks for ``weather``, the script answers, the model replies; the second
turn continues the first with ``previous_response_id`` (kept in the client's memory store).
"""

from __future__ import annotations

import asyncio
import json

from _upstream import MODEL, chat_client

from chat_to_responses import responses_client

WEATHER = {
    "type": "function",
    "name": "weather",
    "description": "Current weather for a place.",
    "parameters": {
        "type": "object",
        "properties": {"location": {"type": "string"}},
        "required": ["location"],
    },
}


def weather(location: str) -> str:
    return f"18 °C and sunny in {location}"


async def main() -> None:
    upstream = chat_client("deepseek/reasoner_tool_call", "deepseek/reasoner_reasoning_content")
    async with responses_client(upstream) as client:  # or responses_client("http://…/v1", api_key=…)
        request = {"model": MODEL, "tools": [WEATHER]}
        async with client.responses.stream(input="Weather in San Francisco?", **request) as stream:
            first = await stream.get_final_response()
        calls = [item for item in first.output if item.type == "function_call"]
        results = [
            {
                "type": "function_call_output",
                "call_id": c.call_id,
                "output": weather(**json.loads(c.arguments)),
            }
            for c in calls
        ]
        async with client.responses.stream(input=results, previous_response_id=first.id, **request) as stream:
            async for event in stream:
                if event.type == "response.output_text.delta":
                    print(event.delta, end="", flush=True)
        print()


asyncio.run(main())
