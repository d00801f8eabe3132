"""200 concurrent streams through the Responses server: no errors, no cross-talk.

Each client sends its own token; the fake upstream answers every request with a recorded llama.cpp stream
re-worded to echo that token, slowed down so all 200 streams are open at the same time. Every client must
get its own token back, in a stream that keeps the rules. Loopback only, bounded by a deadline.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import openai
import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from chat_to_responses.testing import check_stream
from fake_upstream import FakeUpstream, StreamTurn, fixture, retext, running_bridge, running_upstream

pytestmark = pytest.mark.anyio

STREAMS = 200


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[FakeUpstream, str]]:
    # One client key opening all the streams: the per-client limit (64 by default) is raised to fit.
    with running_upstream() as (upstream, url), running_bridge(url, max_streams_per_client=STREAMS) as bridge:
        yield upstream, bridge


def echo(body: dict[str, Any]) -> StreamTurn:
    """The recorded text stream, saying back the request's last user message."""
    said = body["messages"][-1]["content"]
    return StreamTurn(
        retext(fixture("llamacpp/gptoss20b_text_timings"), f"echo {said}", pieces=6), delay=0.01
    )


async def test_200_concurrent_streams(servers: tuple[FakeUpstream, str]) -> None:
    upstream, bridge = servers
    upstream.reset(responder=echo)
    results: dict[str, tuple[str, list[Any]]] = {}

    async def one(client: openai.AsyncOpenAI, token: str) -> None:
        async with client.responses.stream(model="m", input=token) as stream:
            events = [event async for event in stream]
            results[token] = ((await stream.get_final_response()).output_text, events)

    async with openai.AsyncOpenAI(base_url=bridge, api_key="k", max_retries=0, timeout=60) as client:
        with anyio.fail_after(45):
            async with anyio.create_task_group() as group:
                for n in range(STREAMS):
                    group.start_soon(one, client, f"token-{n:03d}")
    assert len(results) == STREAMS
    for token, (text, events) in results.items():
        assert text == f"echo {token}"
        assert check_stream(events) == []
    assert len(upstream.served) == STREAMS
    assert len({events[-1].response.id for _, events in results.values()}) == STREAMS
