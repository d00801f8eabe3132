"""``examples/framework_*.py`` run as written: a subprocess each, with bundled recordings (no server) and
against the fake Chat Completions upstream on 127.0.0.1 (``CHAT_BASE_URL``).

Each example makes a two-turn tool call through the in-process client; the test checks the printed answer
and, against the fake upstream, that the second request carried the tool result after its call.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from fake_upstream import FakeUpstream, StreamTurn, fixture, running_upstream

ROOT = Path(__file__).resolve().parent.parent
TOOL_CALL, ANSWER = "deepseek/reasoner_tool_call", "deepseek/reasoner_reasoning_content"
ANSWER_TEXT = "Hello there! 😊 How can I help you today?"
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


def run_example(name: str, **env: str) -> str:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("CHAT_", "RESPONSES_"))}
    environ.update(env, PYTHONIOENCODING="utf-8", OPENAI_API_KEY="sk-must-not-be-used")
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / f"{name}.py")],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return done.stdout


@pytest.mark.parametrize("mode", ["recordings", "fake-upstream"])
@pytest.mark.parametrize("name", sorted(NEEDS))
def test_example_runs(name: str, mode: str, served: tuple[FakeUpstream, str]) -> None:
    if NEEDS[name]:
        pytest.importorskip(NEEDS[name])
    upstream, url = served
    upstream.reset(StreamTurn(fixture(TOOL_CALL)), StreamTurn(fixture(ANSWER)))
    env = {"CHAT_BASE_URL": url, "CHAT_MODEL": "m1"} if mode == "fake-upstream" else {}
    assert run_example(name, **env).strip() == ANSWER_TEXT
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
