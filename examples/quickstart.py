"""Chat Completions chunks in, Responses events out (the README's first snippet).

python examples/quickstart.py                                   # a bundled recording, no server
CHAT_BASE_URL=http://127.0.0.1:8000/v1 CHAT_MODEL=qwen3 python examples/quickstart.py
"""

from __future__ import annotations

import asyncio

from _upstream import MODEL, chat_client

from chat_to_responses import atranslate


async def main() -> None:
    client = chat_client("deepseek/reasoner_reasoning_content")  # or AsyncOpenAI(base_url=..., api_key=...)
    messages = [{"role": "user", "content": "Hello"}]
    chunks = await client.chat.completions.create(model=MODEL, messages=messages, stream=True)
    async for event in atranslate(chunks, response={"model": MODEL}):
        if not event.type.endswith(".delta"):
            print(event.type)  # response.created, response.in_progress, response.output_item.added, …
        if event.type == "response.completed":
            print(event.response.output_text)


asyncio.run(main())
