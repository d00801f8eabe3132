"""``chat-to-responses translate``: run as a real subprocess, the way a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from chat_to_responses.testing import check_stream

CORPUS = Path(__file__).parent.parent / "fixtures" / "chat-streams"
TOOLS = CORPUS / "openai" / "parallel_tool_calls_two.jsonl"


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
