"""Builders shared by the test modules: hand-made chunks, an openai client over a replay transport."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import openai

from chat_to_responses.testing import ReplayTransport

CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "chat-streams"


def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> dict[str, Any]:
    """A one-choice Chat Completions chunk; ``extra`` adds top-level fields (``usage``…)."""
    return {
        "id": "c",
        "object": "chat.completion.chunk",
        "model": "m",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        **extra,
    }


def replay_client(transport: ReplayTransport) -> openai.AsyncOpenAI:
    """The real openai client, its HTTP answered by ``transport`` (no retries: a test sees every error)."""
    return openai.AsyncOpenAI(
        api_key="test",
        base_url="http://upstream.test/v1",
        http_client=httpx.AsyncClient(transport=transport),
        max_retries=0,
    )
