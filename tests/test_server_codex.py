"""Codex CLI end to end: ``codex exec`` → the Responses server → a fake Chat Completions upstream.

Turn 1: the upstream (a recorded llama.cpp gpt-oss tool-call stream, re-targeted) calls Codex's
``exec_command`` tool with ``echo hello``; Codex runs it in its read-only sandbox and sends the output back.
Turn 2: the upstream answers with text, which Codex prints. The test checks both sides: what Codex sent
through the server (its tools flattened, its hosted tools dropped, its developer messages merged into the
one system message, the command's output right after the call) and what Codex printed.

Codex is installed from npm at a pinned version (about 400 MB) into a temporary prefix, cached per version
under ``~/.cache/chat-to-responses-codex`` (``$XDG_CACHE_HOME`` if set); the run's header and a line
before the download say so. The test is skipped when ``CHAT_TO_RESPONSES_SKIP_CODEX=1`` is set, or when
npm is missing or cannot install it; everything else is a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from codex_cli import CODEX_VERSION, DOWNLOAD_SIZE, SKIP_ENV, cache_root, skipped
from fake_upstream import (
    FakeUpstream,
    StreamTurn,
    fixture,
    retarget_tool_call,
    retext,
    running_bridge,
    running_upstream,
)

CONFIG = Path(__file__).parent / "codex" / "config.toml"
FINAL = "The command printed hello. Done."


def _runs(binary: Path) -> bool:
    if not binary.exists():
        return False
    try:
        result = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0 and CODEX_VERSION in result.stdout


def _npm_install(npm: str, prefix: Path) -> str | None:
    """Install Codex into ``prefix``; the failure's tail, or None."""
    command = [npm, "install", "--global", "--prefix", str(prefix), f"@openai/codex@{CODEX_VERSION}"]
    command += ["--no-audit", "--no-fund"]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=900)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    return None if result.returncode == 0 else (result.stderr or result.stdout)[-2000:]


@pytest.fixture(scope="session")
def codex(pytestconfig: pytest.Config) -> Path:
    """The ``codex`` binary, installed once per version (a temporary prefix, renamed into the cache)."""
    if skipped():
        pytest.skip(f"{SKIP_ENV} is set")
    prefix = cache_root() / CODEX_VERSION
    if _runs(prefix / "bin" / "codex"):
        return prefix / "bin" / "codex"
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed: cannot install Codex CLI")
    _say(
        pytestconfig,
        f"installing @openai/codex@{CODEX_VERSION} with npm ({DOWNLOAD_SIZE}, once, into {prefix})",
    )
    prefix.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f"{CODEX_VERSION}.partial-", dir=prefix.parent))
    failure = _npm_install(npm, partial)
    if failure is not None or not _runs(partial / "bin" / "codex"):
        shutil.rmtree(partial, ignore_errors=True)
        pytest.skip(f"npm could not install @openai/codex@{CODEX_VERSION}: {failure or 'codex does not run'}")
    shutil.rmtree(prefix, ignore_errors=True)  # a broken earlier install
    try:
        partial.rename(prefix)  # npm's bin links are relative: the prefix can move
    except OSError:  # another session won the race: use its install
        shutil.rmtree(partial, ignore_errors=True)
    return prefix / "bin" / "codex"


def _say(config: pytest.Config, line: str) -> None:
    """A line on the terminal now, through pytest's output capture (a download is a long silence)."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None:
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line(f"\n{line}; {SKIP_ENV}=1 skips this test")


@pytest.fixture
def servers() -> Iterator[tuple[FakeUpstream, str]]:
    with running_upstream() as (upstream, url), running_bridge(url) as bridge:
        yield upstream, bridge


def run_codex(codex: Path, bridge: str, home: Path, prompt: str) -> subprocess.CompletedProcess[str]:
    codex_home, work = home / "codex-home", home / "work"
    codex_home.mkdir()
    work.mkdir()
    (codex_home / "config.toml").write_text(CONFIG.read_text().replace("{base_url}", bridge))
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "CODEX_HOME": str(codex_home),
        "BRIDGE_API_KEY": "sk-codex-test",
    }
    return subprocess.run(
        [codex, "exec", "--skip-git-repo-check", prompt],
        cwd=work,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_codex_exec_runs_a_tool_call_through_the_server(
    codex: Path, servers: tuple[FakeUpstream, str], tmp_path: Path
) -> None:
    upstream, bridge = servers
    call = retarget_tool_call(
        fixture("llamacpp/gptoss20b_reasoning_tool_timings"),
        "exec_command",
        json.dumps({"cmd": "echo hello"}),
    )
    upstream.reset(StreamTurn(call), StreamTurn(retext(fixture("llamacpp/gptoss20b_text_timings"), FINAL)))

    result = run_codex(codex, bridge, tmp_path, "Run `echo hello` and tell me what it printed.")

    assert result.returncode == 0, result.stderr[-3000:]
    assert FINAL in result.stdout
    first, second = upstream.bodies
    assert [s.headers["authorization"] for s in upstream.served] == ["Bearer sk-codex-test"] * 2
    # What Codex sends, as the upstream got it: one leading system message (Codex's developer messages),
    # function tools only (its namespace flattened, web_search dropped).
    for body in (first, second):
        roles = [m["role"] for m in body["messages"]]
        assert roles[0] == "system"
        assert "system" not in roles[1:]
        assert "developer" not in roles
        names = [t["function"]["name"] for t in body["tools"]]
        assert "exec_command" in names
        assert any(n.startswith("multi_agent_v1__") for n in names)
        assert all(t["type"] == "function" for t in body["tools"])
    # Turn 2: the call, then Codex's output of the command right after it.
    assistant, tool = second["messages"][-2:]
    assert [c["function"]["name"] for c in assistant["tool_calls"]] == ["exec_command"]
    assert json.loads(assistant["tool_calls"][0]["function"]["arguments"]) == {"cmd": "echo hello"}
    assert tool["role"] == "tool"
    assert tool["tool_call_id"] == "call_fake_1"
    assert "hello" in tool["content"]
