"""Record a chat stream as a JSONL fixture, then replay it offline into Responses events.

    CHAT_BASE_URL=http://127.0.0.1:8000/v1 python examples/record_and_replay.py [DIR]   # your server
    python examples/record_and_replay.py [DIR]          # no server: a bundled recording stands in for it

The recording goes to DIR (default: a new temporary directory), one ``<n>-<model>.jsonl`` per stream,
in the format of ``fixtures/chat-streams/``; ``chat-to-responses translate`` reads it too.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

import httpx
from openai import AsyncOpenAI

from chat_to_responses import SequentialIds, atranslate
from chat_to_responses.testing import ReplayTransport, assert_stream_ok, format_events, recording_client

RECORDINGS = Path(__file__).resolve().parent.parent / "fixtures" / "chat-streams"
MODEL = os.environ.get("CHAT_MODEL", "qwen3")
MESSAGES = [{"role": "user", "content": "Hello"}]


async def record(directory: Path) -> Path:
    base_url = os.environ.get("CHAT_BASE_URL")
    client = AsyncOpenAI(
        base_url=base_url or "http://replay.invalid/v1", api_key=os.environ.get("CHAT_API_KEY", "sk-local")
    )
    # Under the recorder: the network, or with no server a bundled recording standing in for it.
    network = (
        None
        if base_url
        else ReplayTransport.from_files(RECORDINGS / "deepseek/reasoner_reasoning_content.jsonl")
    )
    async with recording_client(client, directory, transport=network) as recorder:
        stream = await recorder.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
        async for _chunk in stream:  # the file is complete once the stream has been read to its end
            pass
    return max(directory.glob("*.jsonl"), key=lambda path: path.stat().st_mtime)


async def replay(fixture: Path) -> None:
    transport = ReplayTransport.from_files(fixture)
    client = AsyncOpenAI(
        base_url="http://replay.invalid/v1",
        api_key="unused",
        http_client=httpx.AsyncClient(transport=transport),
    )
    chunks = await client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
    events = [event async for event in atranslate(chunks, ids=SequentialIds())]
    assert_stream_ok(events)  # every rule of docs/responses-stream-rules.md holds
    for line in format_events(events).splitlines():  # the snapshot form, one line per event
        if ".delta " not in line:
            print(line)


async def main() -> None:
    directory = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="recordings-"))
    fixture = await record(directory)
    print(f"recorded {fixture}")
    await replay(fixture)


asyncio.run(main())
