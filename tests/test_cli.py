"""``chat-to-responses translate``: run as a real subprocess, the way a user runs it."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from importlib.metadata import distribution, version
from pathlib import Path

import pytest

from chat_to_responses.testing import check_stream

CORPUS = Path(__file__).parent.parent / "fixtures" / "chat-streams"
TOOLS = CORPUS / "openai" / "parallel_tool_calls_two.jsonl"
TEXT = CORPUS / "openai" / "text_usage_service_tier_obfuscation.jsonl"


def _cli(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "chat_to_responses._cli", *args], input=stdin, capture_output=True, check=False
    )


def _sse_events(body: bytes) -> list[dict[str, object]]:
    frames = [f for f in body.decode().split("\n\n") if f]
    events = []
    for frame in frames:
        event_line, data_line = frame.split("\n")
        event = json.loads(data_line.removeprefix("data: "))
        assert event_line == f"event: {event['type']}"
        events.append(event)
    return events


def test_translate_writes_sse_frames() -> None:
    done = _cli("translate", str(TOOLS), "--deterministic-ids")
    assert done.returncode == 0, done.stderr
    events = _sse_events(done.stdout)
    assert check_stream(events) == []
    assert events[-1]["type"] == "response.completed"
    assert events[0]["response"]["id"] == "resp_1"  # type: ignore[index]


def test_translate_jsonl_output_and_options() -> None:
    done = _cli("translate", str(TOOLS), "--format", "jsonl", "--model", "my-model")
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert check_stream(events) == []
    assert events[-1]["response"]["model"] == "my-model"
    assert events[0]["response"]["id"].startswith("resp_")


def test_translate_reads_a_raw_sse_body_from_stdin() -> None:
    chunks = [json.loads(line) for line in TOOLS.read_text().splitlines()]
    body = b": keep-alive\n\n" + b"".join(b"data: " + json.dumps(c).encode() + b"\n\n" for c in chunks)
    done = _cli("translate", "-", "--format", "jsonl", stdin=body + b"data: [DONE]\n\n")
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert events[-1]["type"] == "response.completed"
    assert [i["name"] for i in events[-1]["response"]["output"]] == ["GetWeatherArgs", "get_stock_price"]


def test_a_malformed_line_is_named_and_the_stream_still_ends(tmp_path: Path) -> None:
    path = tmp_path / "broken.jsonl"
    good = '{"id":"a","choices":[{"index":0,"delta":{"content":"Hello"}}]}'
    path.write_text(f"{good}\n{{not json\n{good}\n")
    done = _cli("translate", str(path), "--format", "jsonl")
    assert done.returncode == 1
    assert b"line 2" in done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert check_stream(events) == []
    failed = events[-1]
    assert failed["type"] == "response.failed"
    assert "line 2" in failed["response"]["error"]["message"]
    # What arrived before the bad line is kept.
    assert failed["response"]["output"][0]["content"][0]["text"] == "Hello"


@pytest.mark.parametrize("args", [("translate", "/no/such/file.jsonl"), ()])
def test_bad_usage_exits_2(args: tuple[str, ...]) -> None:
    done = _cli(*args)
    assert done.returncode == 2


def test_a_reader_that_goes_away_ends_the_command_quietly() -> None:
    chunk = {"id": "c", "object": "chat.completion.chunk", "model": "m"}
    delta = {**chunk, "choices": [{"index": 0, "delta": {"content": "word "}, "finish_reason": None}]}
    body = "\n".join(json.dumps(delta) for _ in range(20_000)).encode()  # far more than a pipe holds
    with subprocess.Popen(
        [sys.executable, "-m", "chat_to_responses._cli", "translate", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as proc:
        assert proc.stdin is not None
        assert proc.stdout is not None
        assert proc.stderr is not None
        proc.stdin.write(body)
        proc.stdin.close()
        assert proc.stdout.read(100).startswith(b"event: response.created")
        proc.stdout.close()  # `| head -c 100`
        assert proc.wait(timeout=60) == 141
        assert proc.stderr.read() == b""  # no traceback


def test_version_is_the_package_metadata() -> None:
    import chat_to_responses

    done = _cli("--version")
    assert done.returncode == 0
    assert done.stdout.decode().split() == ["chat-to-responses", chat_to_responses.__version__]
    assert chat_to_responses.__version__ == version("chat-to-responses")


def test_text_format_is_the_snapshot_form_with_deltas_joined() -> None:
    done = _cli("translate", str(TEXT), "--format", "text", "--deterministic-ids")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.decode().splitlines()
    deltas = [line for line in lines if "output_text.delta" in line]
    assert len(deltas) == 1  # 300 deltas in the recording, one line here
    answer = lines[-3].split("'", 1)[1]  # content_part.done carries the whole text
    assert deltas[0].startswith("4-")
    assert deltas[0].endswith(f"'{answer}")
    assert lines[0] == "0 response.created resp_1 in_progress"
    assert lines[-1].startswith(f"{len(lines) - 1 + 299} response.completed resp_1 completed")


def test_text_is_the_default_on_a_terminal_and_sse_otherwise() -> None:
    import pty

    leader, follower = pty.openpty()
    with subprocess.Popen(
        [sys.executable, "-m", "chat_to_responses._cli", "translate", str(TOOLS)], stdout=follower
    ) as proc:
        os.close(follower)
        out = _read_all(leader)
        assert proc.wait(timeout=60) == 0
    assert out.startswith(b"0 response.created resp_")
    assert _cli("translate", str(TOOLS)).stdout.startswith(b"event: response.created\n")


def _read_all(fd: int) -> bytes:
    parts = []
    while True:
        try:
            part = os.read(fd, 65536)
        except OSError:  # EIO: the terminal's other end closed
            break
        if not part:
            break
        parts.append(part)
    os.close(fd)
    return b"".join(parts)


PRETTY_CHUNK = json.dumps(json.loads(TOOLS.read_text().splitlines()[0]), indent=2).encode()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(b"", "the input is empty", id="empty"),
        pytest.param(b"\n  \n", "the input is empty", id="blank"),
        pytest.param(b"data: [DONE]\n\n", "no chunk in the input", id="only-done"),
        pytest.param(b'{"foo": 1}\n', "not a chunk (keys: foo", id="other-json"),
        pytest.param(b"hello world\n", "line 1: invalid JSON", id="plain-text"),
        pytest.param(
            b'{"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": true}\n',
            "a Chat Completions request body",
            id="request-body",
        ),
        pytest.param(
            b'{"object": "chat.completion", "choices": [{"index": 0, "message": {}}]}\n',
            "a whole (non-streamed) chat completion",
            id="whole-completion",
        ),
        pytest.param(
            b'{"type": "response.created", "sequence_number": 0}\n',
            "already a Responses event stream",
            id="responses-events",
        ),
        pytest.param(PRETTY_CHUNK, "one chunk per line (JSONL): compact it first", id="pretty-chunk"),
        pytest.param(
            b"[\n" + PRETTY_CHUNK + b"\n]\n", "convert it with `jq -c '.[]' {path}`", id="pretty-array"
        ),
        pytest.param(
            PRETTY_CHUNK + b"\n" + PRETTY_CHUNK, "looks like pretty-printed JSON", id="pretty-concatenated"
        ),
    ],
)
def test_input_that_is_not_a_chunk_stream_is_refused(tmp_path: Path, body: bytes, expected: str) -> None:
    path = tmp_path / "input.jsonl"
    path.write_bytes(body)
    expected = expected.replace("{path}", str(path))  # a hint names the file: `jq -c . input.jsonl`
    done = _cli("translate", str(path))
    assert done.returncode == 2
    assert done.stdout == b""  # nothing translated: no empty response.completed
    stderr = done.stderr.decode()
    assert expected in stderr
    assert "upstream" not in stderr
    assert stderr.count("\n") == 1  # one line, no traceback


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"\x1b]0;pwned\x07\x00\x01binary", id="nul"),
        pytest.param(b"\x1b[31m\xff\xfe red \xc3", id="not-utf8"),
    ],
)
def test_binary_input_is_refused_and_never_echoed(body: bytes) -> None:
    done = _cli("translate", "-", stdin=body)
    assert done.returncode == 2
    assert done.stdout == b""
    assert b"not text" in done.stderr or b"not UTF-8 text" in done.stderr
    assert b"\x1b" not in done.stderr
    assert b"binary" not in done.stderr or b"NUL byte" in done.stderr


def test_a_bad_line_later_is_blamed_on_the_input_not_the_upstream(tmp_path: Path) -> None:
    path = tmp_path / "broken.jsonl"
    path.write_text(TOOLS.read_text().splitlines()[0] + '\n{"id": \n')
    done = _cli("translate", str(path), "--format", "jsonl")
    assert done.returncode == 1
    failed = json.loads(done.stdout.splitlines()[-1])
    message = failed["response"]["error"]["message"]
    assert message.startswith("invalid input, line 2: invalid JSON")
    assert b"upstream" not in done.stderr
    assert b"invalid input, line 2" in done.stderr


def test_serve_without_the_extra_prints_an_install_command_that_works() -> None:
    """The package is not on the index: the command names the checkout it was installed from."""
    script = (
        "import sys; sys.modules['starlette'] = None\n"  # as if the server extra were not installed
        "from chat_to_responses._cli import main\n"
        "raise SystemExit(main(['serve', '--upstream', 'http://127.0.0.1:9/v1']))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert "starlette is missing; install the server extra: " in done.stderr
    command = shlex.split(done.stderr.rsplit(": ", 1)[1])
    assert command[:4] == [sys.executable, "-m", "pip", "install"]
    target = command[-1]
    assert target.endswith("[server]")
    source = json.loads(distribution("chat-to-responses").read_text("direct_url.json") or "null")
    if source is None:  # installed from an index: the published name
        assert target == "chat-to-responses[server]"
        return
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    checkout = Path(target.removesuffix("[server]"))
    pyproject = tomllib.loads((checkout / "pyproject.toml").read_text())
    assert pyproject["project"]["name"] == "chat-to-responses"
    assert "server" in pyproject["project"]["optional-dependencies"]
    assert ("-e" in command) == source.get("dir_info", {}).get("editable", False)
