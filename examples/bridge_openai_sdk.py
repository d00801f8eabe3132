"""The openai SDK's Responses API over ``chat-to-responses serve`` (the README's bridge section).

    chat-to-responses serve --upstream http://127.0.0.1:8000/v1 &   # in front of vLLM, Ollama, llama.cpp…
    python examples/bridge_openai_sdk.py

No model server at hand? ``python examples/replay_upstream.py &`` stands in for one on 127.0.0.1:8000.
``RESPONSES_BASE_URL`` is the bridge (default ``http://127.0.0.1:8080/v1``), ``CHAT_MODEL`` the model.
"""

from __future__ import annotations

import os

from openai import OpenAI

MODEL = os.environ.get("CHAT_MODEL", "qwen3")
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

client = OpenAI(base_url=os.environ.get("RESPONSES_BASE_URL", "http://127.0.0.1:8080/v1"), api_key="sk-local")

# Streamed: the events as they arrive.
with client.responses.stream(model=MODEL, input="Hello") as stream:
    for event in stream:
        if event.type == "response.output_text.delta":
            print(event.delta, end="", flush=True)
    print(f"\n[{stream.get_final_response().status}]")

# A tool call, then its result sent back on the stored conversation (previous_response_id).
with client.responses.stream(
    model=MODEL, input="What is the weather in San Francisco?", tools=[WEATHER]
) as stream:
    response = stream.get_final_response()
call = next(item for item in response.output if item.type == "function_call")
print(f"{call.name}({call.arguments})")
result = {"type": "function_call_output", "call_id": call.call_id, "output": "18 °C and sunny"}
with client.responses.stream(
    model=MODEL, previous_response_id=response.id, input=[result], tools=[WEATHER]
) as stream:
    print(stream.get_final_response().output_text)
