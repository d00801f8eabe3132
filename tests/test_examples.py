"""Every program in examples/ runs as written, and every Python snippet of the README is one of them.

Each example runs as a real subprocess, the way a user runs it: once with no server (bundled
recordings, no key, no network) and once against a fake Chat Completions upstream on 127.0.0.1 (and,
for the bridge, the real ``chat-to-responses serve`` app in front of it).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from chat_to_responses import read_chunk_file

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from fake_upstream import FakeUpstream, StreamTurn, fixture, running_bridge, running_upstream, serving

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
TOOL_CALL, ANSWER = "deepseek/reasoner_tool_call", "deepseek/reasoner_reasoning_content"
ANSWER_TEXT = "Hello there! 😊 How can I help you today?"


def run_example(name: str, *args: str, **env: str) -> str:
    """The example's stdout; it must exit 0 with nothing unexpected on stderr."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("CHAT_", "RESPONSES_"))}
    environ.update(env, PYTHONIOENCODING="utf-8")
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
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


@pytest.fixture
def upstream() -> FakeUpstream:
    with running_upstream() as (fake, url):
        fake.base_url = f"{url}/v1"  # type: ignore[attr-defined]
        yield fake  # type: ignore[misc]


def _turns(*names: str) -> list[StreamTurn]:
    return [StreamTurn(fixture(name)) for name in names]


@pytest.mark.parametrize("served", [False, True], ids=["recordings", "fake-upstream"])
def test_quickstart(served: bool, upstream: FakeUpstream) -> None:
    upstream.reset(*_turns(ANSWER))
    env = {"CHAT_BASE_URL": upstream.base_url} if served else {}  # type: ignore[attr-defined]
    lines = run_example("quickstart.py", **env).splitlines()
    assert lines[:2] == ["response.created", "response.in_progress"]
    assert lines[-2:] == ["response.completed", ANSWER_TEXT]
    assert len(upstream.bodies) == (1 if served else 0)


@pytest.mark.parametrize("served", [False, True], ids=["recordings", "fake-upstream"])
def test_tool_loop(served: bool, upstream: FakeUpstream) -> None:
    upstream.reset(*_turns(TOOL_CALL, ANSWER))
    env = {"CHAT_BASE_URL": upstream.base_url, "CHAT_MODEL": "m1"} if served else {}  # type: ignore[attr-defined]
    out = run_example("tool_loop.py", **env)
    assert "     tool: 18 °C and sunny in San Francisco" in out
    assert out.rstrip().endswith(f"assistant: {ANSWER_TEXT}")
    if served:
        first, second = upstream.bodies
        assert first["model"] == "m1"
        assert first["tools"][0]["function"]["name"] == "weather"
        assert second["messages"][-1] == {
            "role": "tool",
            "tool_call_id": "call_00_ioIn7yN9p1ZOMNpDLwd4MgAF",
            "content": "18 °C and sunny in San Francisco",
        }


@pytest.mark.parametrize("served", [False, True], ids=["recordings", "fake-upstream"])
def test_agents_provider(served: bool, upstream: FakeUpstream) -> None:
    pytest.importorskip("agents")
    upstream.reset(*_turns(TOOL_CALL, ANSWER, TOOL_CALL, ANSWER))
    env = {"CHAT_BASE_URL": upstream.base_url} if served else {}  # type: ignore[attr-defined]
    out = run_example("agents_provider.py", **env, OPENAI_API_KEY="sk-must-not-be-used")
    steps = ["reasoning_item_created", "tool_called", "tool_output", "reasoning_item_created"]
    run = [*steps, "message_output_created", ANSWER_TEXT]
    assert out.splitlines() == run + run  # the model, then the provider
    if served:
        assert len(upstream.bodies) == 4
        assert upstream.bodies[1]["messages"][-1]["content"] == "18 °C and sunny in San Francisco"


def test_bridge_with_the_openai_sdk_over_the_replay_upstream() -> None:
    sys.path.insert(0, str(EXAMPLES))
    try:
        import replay_upstream
    finally:
        sys.path.remove(str(EXAMPLES))
    with serving(replay_upstream.app) as upstream_url, running_bridge(upstream_url) as bridge:
        out = run_example("bridge_openai_sdk.py", RESPONSES_BASE_URL=bridge)
    assert out.splitlines() == [
        ANSWER_TEXT,
        "[completed]",
        'weather({"location": "San Francisco"})',
        ANSWER_TEXT,
    ]


@pytest.mark.parametrize("served", [False, True], ids=["recordings", "fake-upstream"])
def test_record_and_replay(served: bool, upstream: FakeUpstream, tmp_path: Path) -> None:
    upstream.reset(*_turns(ANSWER))
    env = {"CHAT_BASE_URL": upstream.base_url} if served else {}  # type: ignore[attr-defined]
    lines = run_example("record_and_replay.py", str(tmp_path), **env).splitlines()
    [recording] = tmp_path.glob("*.jsonl")
    assert lines[0] == f"recorded {recording}"
    assert read_chunk_file(recording) == fixture(ANSWER)  # the stream as the server sent it
    assert lines[1] == "0 response.created resp_1 in_progress"
    assert lines[-1].startswith("221 response.completed resp_1 completed output=[rs_1, msg_1]")


def test_snapshot_example_passes_and_catches_a_change(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "examples/test_snapshot.py"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    # The same test over a copy whose snapshot was edited: it must fail, showing the difference.
    copy = tmp_path / "examples"
    copy.mkdir()
    for name in ("conftest.py", "test_snapshot.py"):
        source = (EXAMPLES / name).read_text()
        (copy / name).write_text(
            source.replace("Path(__file__).resolve().parent.parent", f"Path({str(ROOT)!r})")
        )
    snapshot = EXAMPLES / "__snapshots__" / "test_snapshot" / "test_deepseek_tool_call.txt"
    edited = copy / "__snapshots__" / "test_snapshot" / snapshot.name
    edited.parent.mkdir(parents=True)
    edited.write_text(snapshot.read_text().replace("San Francisco", "Paris"))
    done = subprocess.run(
        [*command[:-1], str(copy / "test_snapshot.py")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "Paris" in done.stdout


def _readme_blocks(language: str) -> list[str]:
    readme = (ROOT / "README.md").read_text()
    return re.findall(rf"^```{language}\n(.*?)^```", readme, flags=re.MULTILINE | re.DOTALL)


def test_every_python_snippet_of_the_readme_is_in_an_example() -> None:
    """A README snippet is a run of consecutive lines of one example, so the tests above run it."""
    examples = [_code_lines(path.read_text()) for path in EXAMPLES.glob("*.py")]
    blocks = _readme_blocks("python")
    assert len(blocks) >= 3
    for block in blocks:
        lines = _code_lines(block)
        assert any(_contains(example, lines) for example in examples), block


def _code_lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines() if line.strip()]


def _contains(example: list[str], lines: list[str]) -> bool:
    return any(example[start : start + len(lines)] == lines for start in range(len(example)))


def test_ci_runs_the_readme_test_command() -> None:
    """.ci/run runs exactly the README's test command (the last line of its set-up block)."""
    setup = _readme_blocks("sh")[0]
    command = _code_lines(setup)[-1]
    assert command.startswith("python -m pip install nox && python -m nox -s tests")
    ci = (ROOT / ".ci" / "run").read_text()
    assert command in ci.splitlines()
