"""The openai SDK's ``client.responses`` over a Chat Completions server, in-process (no bridge to run).

    UPSTREAM_URL=http://127.0.0.1:8000/v1 MODEL=qwen3 python examples/framework_openai.py

A two-turn tool call: the model asks for ``weather``, the script answers, the model replies; the second
turn continues the first with ``previous_response_id`` (kept in the client's memory store).
"""

from __future__ import annotations

import asyncio
import json
import os

from chat_to_responses import responses_client

UPSTREAM_URL = os.environ.get("UPSTREAM_URL", "http://127.0.0.1:8000/v1")
MODEL = os.environ.get("MODEL", "qwen3")
WEATHER = {
    "type": "function",
    "name": "weather",
    "description": "The weather at a place.",
    "parameters": {
        "type": "object",
        "properties": {"location": {"type": "string"}},
        "required": ["location"],
    },
}


def weather(location: str) -> str:
    return f"sunny in {location}"


async def main() -> None:
    async with responses_client(UPSTREAM_URL, api_key=os.environ.get("UPSTREAM_API_KEY")) as client:
        async with client.responses.stream(
            model=MODEL, input="Weather in Florence?", tools=[WEATHER]
        ) as stream:
            first = await stream.get_final_response()
        outputs = [
            {
                "type": "function_call_output",
                "call_id": item.call_id,
                "output": weather(**json.loads(item.arguments)),
            }
            for item in first.output
            if item.type == "function_call"
        ]
        async with client.responses.stream(
            model=MODEL, input=outputs, tools=[WEATHER], previous_response_id=first.id
        ) as stream:
            async for event in stream:
                if event.type == "response.output_text.delta":
                    print(event.delta, end="", flush=True)
        print()


if __name__ == "__main__":
    asyncio.run(main())
