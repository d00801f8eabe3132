"""Codex CLI end to end: ``codex exec`` → the Responses server → a fake Chat Completions upstream.

The upstream replays recorded provider streams, re-targeted to call Codex's ``exec_command`` tool (Codex
runs it in its read-only sandbox and sends the output back) or to say a chosen text, cut off or ending in
an error object where a scenario needs it. Each scenario checks what Codex printed and its exit status,
and that every upstream request of the run is append-only (`append_only_violations`): the previous
request's messages, plus the one assistant message the upstream produced, plus the new tool results —
and after a failed attempt, Codex's retry adds nothing from it.

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
from typing import Any

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from codex_cli import CODEX_VERSION, DOWNLOAD_SIZE, SKIP_ENV, cache_root, skipped
from fake_upstream import (
    FakeUpstream,
    Served,
    StreamTurn,
    append_only_violations,
    fixture,
    retarget_tool_call,
    retarget_tool_calls,
    retext,
    running_bridge,
    running_upstream,
)

CONFIG = Path(__file__).parent / "codex" / "config.toml"
FINAL = "The command printed hello. Done."
REASONING_CALL = "llamacpp/gptoss20b_reasoning_tool_timings"  # reasoning, then one call
PLAIN_CALL = "openai/gpt5_tool_call"  # one call, nothing before it
PARALLEL_CALLS = "openai/parallel_tool_calls_two"
TEXT = "llamacpp/gptoss20b_text_timings"
TEXT_THEN_ERROR = "groq/gptoss_text_then_error"  # reasoning, text, then an error object


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


def run_codex(
    codex: Path,
    bridge: str,
    home: Path,
    prompt: str,
    *,
    model: str | None = None,
    retries: int = 0,
    sandbox: str = "read-only",
) -> subprocess.CompletedProcess[str]:
    """``codex exec prompt`` against ``bridge``, in ``home/work``; ``retries``: ``stream_max_retries``."""
    codex_home, work = home / "codex-home", home / "work"
    codex_home.mkdir()
    work.mkdir()
    config = CONFIG.read_text().replace("{base_url}", bridge)
    config = config.replace("stream_max_retries = 0", f"stream_max_retries = {retries}")
    if model is not None:
        config = config.replace('model = "any-upstream-model"', f"model = {json.dumps(model)}")
    (codex_home / "config.toml").write_text(config)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "CODEX_HOME": str(codex_home),
        "BRIDGE_API_KEY": "sk-codex-test",
    }
    return subprocess.run(
        [codex, "exec", "--skip-git-repo-check", "--sandbox", sandbox, prompt],
        cwd=work,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=90,
    )


def echo(command: str, call_id: str, recording: str = PLAIN_CALL) -> list[dict[str, Any]]:
    return retarget_tool_call(fixture(recording), "exec_command", json.dumps({"cmd": command}), call_id)


def answer(text: str = FINAL, pieces: int = 4) -> StreamTurn:
    return StreamTurn(retext(fixture(TEXT), text, pieces))


def printed(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def tool_results(upstream: FakeUpstream) -> dict[str, str]:
    """call id → the output Codex sent back, from the last upstream request."""
    messages = upstream.bodies[-1]["messages"]
    return {m["tool_call_id"]: m["content"] for m in messages if m["role"] == "tool"}


def assert_append_only(upstream: FakeUpstream) -> None:
    assert append_only_violations(upstream.served) == []


def test_codex_exec_runs_a_tool_call_through_the_server(
    codex: Path, servers: tuple[FakeUpstream, str], tmp_path: Path
) -> None:
    upstream, bridge = servers
    upstream.reset(StreamTurn(echo("echo hello", "call_fake_1")), answer())

    result = run_codex(codex, bridge, tmp_path, "Run `echo hello` and tell me what it printed.")

    assert FINAL in printed(result)
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
    assert_append_only(upstream)


def test_two_calls_in_sequence_stay_two_assistant_messages(
    codex: Path, servers: tuple[FakeUpstream, str], tmp_path: Path
) -> None:
    upstream, bridge = servers
    upstream.reset(StreamTurn(echo("echo one", "call_1")), StreamTurn(echo("echo two", "call_2")), answer())

    assert FINAL in printed(run_codex(codex, bridge, tmp_path, "Run two commands, one after the other."))

    assert len(upstream.bodies) == 3
    results = tool_results(upstream)
    assert "one" in results["call_1"]
    assert "two" in results["call_2"]
    assert_append_only(upstream)


def test_a_parallel_pair_shares_one_assistant_message(
    codex: Path, servers: tuple[FakeUpstream, str], tmp_path: Path
) -> None:
    upstream, bridge = servers
    calls = [
        ("call_a", "exec_command", '{"cmd": "echo alpha"}'),
        ("call_b", "exec_command", '{"cmd": "echo beta"}'),
    ]
    upstream.reset(StreamTurn(retarget_tool_calls(fixture(PARALLEL_CALLS), calls)), answer())

    assert FINAL in printed(run_codex(codex, bridge, tmp_path, "Run two commands at once."))

    assert len(upstream.bodies) == 2
    *_, assistant, first, second = upstream.bodies[1]["messages"]
    assert [c["id"] for c in assistant["tool_calls"]] == ["call_a", "call_b"]
    assert (first["tool_call_id"], second["tool_call_id"]) == ("call_a", "call_b")
    assert "alpha" in first["content"]
    assert "beta" in second["content"]
    assert_append_only(upstream)


def test_reasoning_then_a_call_is_replayed_in_the_call_message(
    codex: Path, servers: tuple[FakeUpstream, str], tmp_path: Path
) -> None:
    upstream, bridge = servers
    upstream.reset(StreamTurn(echo("echo hello", "call_r", REASONING_CALL)), answer())

    assert FINAL in printed(run_codex(codex, bridge, tmp_path, "Think, then run a command."))

    assistant = upstream.bodies[1]["messages"][-2]
    assert assistant["reasoning_content"].startswith("User wants weather")
    assert_append_only(upstream)


def _after_text_pieces(chunks: list[dict[str, Any]], pieces: int) -> int:
    """The chunk count that ends right after the ``pieces``-th text chunk."""
    seen = 0
    for index, chunk in enumerate(chunks):
        seen += bool((chunk.get("choices") or [{}])[0].get("delta", {}).get("content"))
        if seen == pieces:
            return index + 1
    raise ValueError("not that many text chunks")


def _inside_arguments(chunks: list[dict[str, Any]]) -> int:
    """The chunk count that ends after the first fragment of a call's arguments (not yet valid JSON)."""
    for index, chunk in enumerate(chunks):
        for call in (chunk.get("choices") or [{}])[0].get("delta", {}).get("tool_calls") or []:
            if call.get("function", {}).get("arguments"):
                return index + 1
    raise ValueError("no arguments")


def test_a_cut_mid_text_then_success_on_codex_retry(
    codex: Path, servers: tuple[FakeUpstream, str], tmp_path: Path
) -> None:
    upstream, bridge = servers
    partial = retext(fixture(TEXT), "Partial words that never finish", 4)
    upstream.reset(StreamTurn(partial, cut_after=_after_text_pieces(partial, 2)), answer())

    result = run_codex(codex, bridge, tmp_path, "Say something.", retries=1)

    assert FINAL in printed(result)
    assert "Partial" not in result.stdout
    assert len(upstream.bodies) == 2
    assert_append_only(upstream)


def test_a_cut_inside_a_calls_arguments_then_success_on_codex_retry(
    codex: Path, servers: tuple[FakeUpstream, str], tmp_path: Path
) -> None:
    upstream, bridge = servers
    cut = echo("echo cut", "call_cut")
    upstream.reset(
        StreamTurn(cut, cut_after=_inside_arguments(cut)),
        StreamTurn(echo("echo whole", "call_whole")),
        answer(),
    )

    assert FINAL in printed(run_codex(codex, bridge, tmp_path, "Run a command.", retries=1))

    assert len(upstream.bodies) == 3
    assert list(tool_results(upstream)) == ["call_whole"]  # the cut call was never run
    assert_append_only(upstream)


def test_an_error_object_on_every_attempt_fails_codex_without_a_hang(
    codex: Path, servers: tuple[FakeUpstream, str], tmp_path: Path
) -> None:
    upstream, bridge = servers
    upstream.reset(responder=lambda body: StreamTurn(fixture(TEXT_THEN_ERROR)))

    result = run_codex(codex, bridge, tmp_path, "Say something.", retries=2)

    assert result.returncode != 0
    assert "model did not call a tool" in result.stdout + result.stderr  # the upstream's message
    assert len(upstream.bodies) == 3  # the first attempt and two retries
    assert_append_only(upstream)


def test_a_five_thousand_delta_answer(codex: Path, servers: tuple[FakeUpstream, str], tmp_path: Path) -> None:
    upstream, bridge = servers
    text = "".join(f"w{i} " for i in range(5000)).strip()
    upstream.reset(StreamTurn(retext(fixture(TEXT), text, pieces=5000)))

    assert text in printed(run_codex(codex, bridge, tmp_path, "Say a lot."))
    assert_append_only(upstream)


def test_a_model_whose_tools_come_as_additional_tools(
    codex: Path, servers: tuple[FakeUpstream, str], tmp_path: Path
) -> None:
    """gpt-6-astra is in Codex's catalog with the lite request shape: an empty ``tools`` and an
    ``additional_tools`` input item holding its namespaces (``functions``, ``clock``, ``collaboration``)."""
    upstream, bridge = servers
    sleep = retarget_tool_call(fixture(PLAIN_CALL), "clock__sleep", '{"duration_ms": 5}', "call_sleep")
    upstream.reset(StreamTurn(sleep), answer())

    assert FINAL in printed(run_codex(codex, bridge, tmp_path, "Wait a moment.", model="gpt-6-astra"))

    first = upstream.bodies[0]
    names = {t["function"]["name"] for t in first["tools"]}
    assert {"clock__sleep", "wait", "collaboration__spawn_agent"} <= names
    assert "call_sleep" in tool_results(upstream)  # Codex ran clock.sleep: the call came back named right
    assert_append_only(upstream)


def test_a_custom_tool_call_apply_patch_edits_a_file(
    codex: Path, servers: tuple[FakeUpstream, str], tmp_path: Path
) -> None:
    """gpt-5.5 gets Codex's ``apply_patch`` as a ``custom`` (free-form) tool: the model calls the function
    standing for it, Codex receives a ``custom_tool_call`` and applies the patch."""
    upstream, bridge = servers
    patch = "*** Begin Patch\n*** Add File: hello.txt\n+hello from the model\n*** End Patch\n"
    call = retarget_tool_call(fixture(PLAIN_CALL), "apply_patch", json.dumps({"input": patch}), "call_patch")
    upstream.reset(StreamTurn(call), answer())

    result = run_codex(codex, bridge, tmp_path, "Add hello.txt.", model="gpt-5.5", sandbox="workspace-write")

    assert FINAL in printed(result)
    assert (tmp_path / "work" / "hello.txt").read_text() == "hello from the model\n"
    tool = next(t for t in upstream.bodies[0]["tools"] if t["function"]["name"] == "apply_patch")
    assert tool["function"]["parameters"]["required"] == ["input"]
    assert "call_patch" in tool_results(upstream)
    assert_append_only(upstream)


def test_code_mode_exec_runs_through_additional_tools(
    codex: Path, servers: tuple[FakeUpstream, str], tmp_path: Path
) -> None:
    """gpt-6-astra's only way to run anything is code mode: the custom ``exec`` tool (JavaScript) in the
    ``functions`` namespace of its ``additional_tools`` item."""
    upstream, bridge = servers
    arguments = json.dumps({"input": "text(6 * 7)"})
    call = retarget_tool_call(fixture(PLAIN_CALL), "exec", arguments, "call_exec")
    upstream.reset(StreamTurn(call), answer())

    assert FINAL in printed(run_codex(codex, bridge, tmp_path, "Compute 6*7.", model="gpt-6-astra"))

    assert "42" in tool_results(upstream)["call_exec"]
    assert_append_only(upstream)


# ------------------------------------------------------------------------ the append-only check itself


def _served(messages: list[dict[str, Any]], turn: StreamTurn) -> Served:
    return Served("POST", "/v1/chat/completions", {}, {"messages": messages}, turn=turn)


def test_append_only_violations_sees_each_way_history_can_break() -> None:
    call = StreamTurn(retarget_tool_call(fixture(PLAIN_CALL), "f", "{}", "c1"))
    second = StreamTurn(retarget_tool_call(fixture(PLAIN_CALL), "g", "{}", "c2"))
    start = [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}]
    fc1 = {"role": "assistant", "content": None, "tool_calls": [_chat_call("c1", "f")]}
    fc2 = {"role": "assistant", "content": None, "tool_calls": [_chat_call("c2", "g")]}
    out1, out2 = _tool("c1"), _tool("c2")
    good = [
        _served(start, call),
        _served([*start, fc1, out1], second),
        _served([*start, fc1, out1, fc2, out2], call),
    ]
    assert append_only_violations(good) == []
    merged = {**fc1, "tool_calls": [*fc1["tool_calls"], *fc2["tool_calls"]]}
    rewritten = [*good[:2], _served([*start, merged, out1, out2], call)]
    assert append_only_violations(rewritten)[0].startswith("request 3 rewrites the messages of request 2: ")
    wrong_call = [good[0], _served([*start, fc2, out1], call)]
    assert "request 2: assistant message" in append_only_violations(wrong_call)[0]
    no_result = [good[0], _served([*start, fc1], call)]
    assert append_only_violations(no_result) == ["request 2 adds ['assistant'] after request 1"]
    cut = StreamTurn(call.chunks, cut_after=3)
    retried = [_served(start, cut), _served(start, call)]
    assert append_only_violations(retried) == []
    leaked = [_served(start, cut), _served([*start, {"role": "assistant", "content": "part"}], call)]
    assert append_only_violations(leaked) == [
        "request 2 is a retry after a failure but its messages changed: from message 2, [] became "
        "[assistant('part')]"
    ]


def _chat_call(call_id: str, name: str) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": "{}"}}


def _tool(call_id: str) -> dict[str, Any]:
    return {"role": "tool", "tool_call_id": call_id, "content": "ok"}
