"""``examples/framework_*.py`` run as written: a subprocess each, with bundled recordings (no server) and
against the fake Chat Completions upstream on 127.0.0.1 (``CHAT_BASE_URL``).

Each example makes a two-turn tool call through the in-process client; the test checks the printed answer
and, against the fake upstream, that the second request carried the tool result after its call.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from fake_upstream import FakeUpstream, StreamTurn, fixture, running_upstream
from test_examples import ANSWER, ANSWER_TEXT, TOOL_CALL, run_example

NEEDS = {
    "framework_openai": None,
    "framework_agents": "agents",
    "framework_pydantic_ai": "pydantic_ai",
    "framework_langchain": "langchain_openai",
}


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[FakeUpstream, str]]:
    with running_upstream() as (upstream, url):
        yield upstream, f"{url}/v1"


@pytest.mark.parametrize("mode", ["recordings", "fake-upstream"])
@pytest.mark.parametrize("name", sorted(NEEDS))
def test_example_runs(name: str, mode: str, served: tuple[FakeUpstream, str]) -> None:
    if NEEDS[name]:
        pytest.importorskip(NEEDS[name])
    upstream, url = served
    upstream.reset(StreamTurn(fixture(TOOL_CALL)), StreamTurn(fixture(ANSWER)))
    env = {"CHAT_BASE_URL": url, "CHAT_MODEL": "m1"} if mode == "fake-upstream" else {}
    # No framework may fall back to OpenAI itself: a key that works nowhere is set.
    assert run_example(f"{name}.py", OPENAI_API_KEY="sk-must-not-be-used", **env).strip() == ANSWER_TEXT
    if mode == "recordings":
        assert upstream.served == []
        return
    first, second = upstream.bodies
    assert first["model"] == "m1"
    assert first["tools"][0]["function"]["name"] == "weather"
    call = second["messages"][-2]["tool_calls"][0]
    assert call["function"]["name"] == "weather"
    assert second["messages"][-1] == {
        "role": "tool",
        "tool_call_id": call["id"],
        "content": "18 °C and sunny in San Francisco",
    }
