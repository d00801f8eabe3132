"""``examples/framework_*.py`` run as scripts against the fake Chat Completions upstream on 127.0.0.1.

Each example makes a two-turn tool call through the in-process client; the test checks the printed answer
and that the upstream got the tool result on the second turn.
"""

from __future__ import annotations

import runpy
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("starlette")

from fake_upstream import FakeUpstream, StreamTurn, fixture, retext, running_upstream

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
ANSWER = "It is sunny in Florence."
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


@pytest.mark.parametrize("name", sorted(NEEDS))
def test_example_runs(
    name: str,
    served: tuple[FakeUpstream, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if NEEDS[name]:
        pytest.importorskip(NEEDS[name])
    upstream, url = served
    upstream.reset(
        StreamTurn(fixture("llamacpp/gptoss20b_reasoning_tool_timings")),
        StreamTurn(retext(fixture("llamacpp/gptoss20b_text_timings"), ANSWER)),
    )
    monkeypatch.setenv("UPSTREAM_URL", url)
    monkeypatch.setenv("MODEL", "gpt-oss-20b")
    runpy.run_path(str(EXAMPLES / f"{name}.py"), run_name="__main__")
    assert capsys.readouterr().out.strip() == ANSWER
    first, second = upstream.bodies
    assert first["messages"][-1]["role"] == "user"
    assert second["messages"][-1] == {
        "role": "tool",
        "tool_call_id": second["messages"][-2]["tool_calls"][0]["id"],
        "content": "sunny in Florence, Italy",
    }
