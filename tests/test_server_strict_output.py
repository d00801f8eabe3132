"""Issue #17 through the real server: what the translator fixed holds on the wire and in the store.

Real openai client and raw httpx → ``chat-to-responses serve`` (uvicorn, 127.0.0.1, SQLite store) → a fake
upstream sending the chunks over real HTTP, framed as a provider frames them (a lone surrogate as its
``\\udXXX`` JSON escape, NaN as a bare ``NaN``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from chat_to_responses.testing import check_stream
from fake_upstream import FakeUpstream, StreamTurn, running_bridge

pytestmark = pytest.mark.anyio
_KEY = "sk-client"


def _chunk(delta: dict[str, Any], finish: str | None = None, **choice: Any) -> dict[str, Any]:
    return {
        "id": "c",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": "m",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish, **choice}],
    }


@pytest.fixture(scope="module")
def bridge(
    upstream_server: tuple[FakeUpstream, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    path: Path = tmp_path_factory.mktemp("store") / "responses.sqlite3"
    with running_bridge(upstream_server[1], store="sqlite", store_path=path) as url:
        yield url


@pytest.fixture
def upstream(upstream_server: tuple[FakeUpstream, str]) -> FakeUpstream:
    return upstream_server[0].reset()


@pytest.fixture
async def client(bridge: str) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(base_url=bridge, api_key=_KEY, max_retries=0) as sdk:
        yield sdk


def _strict_events(body: bytes) -> list[dict[str, Any]]:
    """The SSE body's events, parsed as strict JSON from strict UTF-8 (no NaN, no lone surrogate)."""

    def reject(constant: str) -> Any:
        raise ValueError(f"not strict JSON: {constant}")

    events = []
    for frame in body.decode("utf-8").split("\n\n"):
        if frame.strip():
            event = json.loads(frame.split("\ndata: ", 1)[1], parse_constant=reject)
            json.dumps(event, ensure_ascii=False).encode("utf-8")  # no lone surrogate decoded from \\udXXX
            events.append(event)
    return events


async def _post_stream(bridge: str, **body: Any) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(
        base_url=bridge, timeout=30, headers={"authorization": f"Bearer {_KEY}"}
    ) as http:
        response = await http.post("/responses", json={"model": "m", "stream": True, "input": "hi", **body})
    assert response.status_code == 200
    events = _strict_events(response.content)
    assert check_stream(events) == []
    return events


async def test_an_emoji_cut_in_half_is_stored_and_continued(
    upstream: FakeUpstream, client: openai.AsyncOpenAI
) -> None:
    upstream.reset(
        StreamTurn([_chunk({"content": "smile \ud83d"}), _chunk({"content": "\ude00!"}), _chunk({}, "stop")]),
        StreamTurn([_chunk({"content": "ok"}), _chunk({}, "stop")]),
    )
    async with client.responses.stream(model="m", input="hi") as stream:
        first = await stream.get_final_response()
    assert first.output_text == "smile \U0001f600!"  # the halves, in two chunks, joined
    stored = await client.responses.retrieve(first.id)  # was a 404: the store could not encode it
    assert stored.output_text == first.output_text
    async with client.responses.stream(model="m", input="again", previous_response_id=first.id) as stream:
        await stream.get_final_response()
    history = upstream.bodies[1]["messages"]
    assert history[1] == {"role": "assistant", "content": "smile \U0001f600!"}


async def test_a_call_without_a_name_ends_in_one_failed_event(upstream: FakeUpstream, bridge: str) -> None:
    upstream.reset(
        StreamTurn(
            [
                _chunk({"content": "Let me look."}),
                _chunk({"tool_calls": [{"id": "call_a"}]}),
                _chunk({}, "stop"),
            ]
        )
    )
    events = await _post_stream(bridge)
    terminals = [e["type"] for e in events if e["type"] in ("response.completed", "response.failed")]
    assert terminals == ["response.failed"]
    assert "without a function name" in events[-1]["response"]["error"]["message"]


async def test_logprobs_that_are_no_json_number_go_out_strict(upstream: FakeUpstream, bridge: str) -> None:
    entry = {
        "token": "a",
        "logprob": float("nan"),
        "top_logprobs": [{"token": "b", "logprob": float("-inf")}],
    }
    big = {"token": "b", "logprob": -(10**400), "top_logprobs": []}
    upstream.reset(
        StreamTurn(
            [
                _chunk({"content": "a"}, logprobs={"content": [big]}),  # the first chunk: was a bare failed
                _chunk({"content": "b"}, logprobs={"content": [entry]}),
                _chunk({}, "stop"),
            ]
        )
    )
    events = await _post_stream(bridge, include=["message.output_text.logprobs"])
    assert events[0]["type"] == "response.created"
    assert events[-1]["type"] == "response.completed"
    logprobs = events[-1]["response"]["output"][0]["content"][0]["logprobs"]
    assert [(lp["logprob"], [t["logprob"] for t in lp["top_logprobs"]]) for lp in logprobs] == [
        (-9999.0, []),
        (-9999.0, [-9999.0]),
    ]
