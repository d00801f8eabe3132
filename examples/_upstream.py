"""How the examples reach a model: a real Chat Completions server, or bundled recordings.

- ``CHAT_BASE_URL`` set (e.g. ``http://127.0.0.1:8000/v1`` for vLLM, ``http://127.0.0.1:11434/v1`` for
  Ollama): the examples talk to it, with ``CHAT_API_KEY`` (default ``sk-local``) and ``CHAT_MODEL``.
- Not set: the upstream's answers are recorded streams from ``fixtures/chat-streams/``, replayed by
  ``chat_to_responses.testing.ReplayTransport`` as the HTTP responses of a real ``AsyncOpenAI`` client.
  No server, no key, no network.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import httpx
from openai import AsyncOpenAI

from chat_to_responses.testing import ReplayTransport

RECORDINGS = Path(__file__).resolve().parent.parent / "fixtures" / "chat-streams"
MODEL = os.environ.get("CHAT_MODEL", "qwen3")


def chat_client(*recordings: str) -> AsyncOpenAI:
    """An ``AsyncOpenAI`` client for ``CHAT_BASE_URL``, else one replaying ``recordings`` in turn."""
    base_url = os.environ.get("CHAT_BASE_URL")
    if base_url:
        return AsyncOpenAI(base_url=base_url, api_key=os.environ.get("CHAT_API_KEY", "sk-local"))
    names = ", ".join(recordings)
    print(f"(no CHAT_BASE_URL: replaying recorded streams {names})", file=sys.stderr)
    replay = ReplayTransport.from_files(*(RECORDINGS / f"{name}.jsonl" for name in recordings))
    http_client = httpx.AsyncClient(transport=replay)
    return AsyncOpenAI(base_url="http://replay.invalid/v1", api_key="unused", http_client=http_client)
