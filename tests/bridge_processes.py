"""Test helpers for #16: real ``chat-to-responses serve`` processes on 127.0.0.1, their logs, and chains of
responses continued across them (or across their workers).

`bridge_process` starts ``python -m chat_to_responses.server`` on a free port with the given flags, waits
for ``/health``, yields its base URL and the path of its log, and stops it (SIGTERM, then SIGKILL).
`echo_inputs` is a fake-upstream responder whose answer is every user input of the conversation joined
by ``|``: a turn's text shows whether the whole chain reached the upstream. `run_chain` posts one chain of
``previous_response_id`` turns, each on a new connection (so the kernel may hand it to any worker).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from fake_upstream import StreamTurn, fixture, retext

TEXT = "openai/text_usage_service_tier_obfuscation"
SRC = Path(__file__).resolve().parent.parent / "src"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def bridge_process(args: Sequence[str], log: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """``serve`` with ``args`` (plus ``--port``) in its own process; yields ``http://127.0.0.1:<port>``."""
    port = free_port()
    command = [sys.executable, "-m", "chat_to_responses.server", *args, "--port", str(port)]
    environ = {**os.environ, **(env or {})}
    environ["PYTHONPATH"] = os.pathsep.join([str(SRC), environ.get("PYTHONPATH", "")])
    with open(log, "wb") as out, subprocess.Popen(command, stderr=out, stdout=out, env=environ) as process:
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"serve did not start: {log.read_text()}")
                time.sleep(0.05)
            yield url
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def redis_server(*options: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A real ``redis-server`` on 127.0.0.1 (a free port, nothing saved to disk, more ``options``): its
    URL and process."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (Debian: apt-get install redis-server; .ci/run does)")
    port = free_port()
    command = [
        binary,
        "--bind",
        "127.0.0.1",
        "--port",
        str(port),
        "--save",
        "",
        "--appendonly",
        "no",
        *options,
    ]
    with subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as process:
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
                        conn.sendall(b"PING\r\n")
                        if conn.recv(64).startswith((b"+PONG", b"-NOAUTH")):
                            break
                except OSError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("redis-server did not start")
                time.sleep(0.05)
            yield f"redis://127.0.0.1:{port}/0", process
        finally:
            process.terminate()
            process.wait(timeout=10)


def user_inputs(body: dict[str, Any]) -> list[str]:
    return [m["content"] for m in body["messages"] if m["role"] == "user" and isinstance(m["content"], str)]


def echo_inputs(body: dict[str, Any]) -> StreamTurn:
    return StreamTurn(retext(fixture(TEXT), "|".join(user_inputs(body))))


def post(url: str, body: dict[str, Any], key: str = "sk-client") -> httpx.Response:
    """One request on a connection of its own."""
    with httpx.Client(timeout=30, headers={"authorization": f"Bearer {key}"}) as client:
        return client.post(f"{url}/v1/responses", json=body)


def run_chain(urls: Sequence[str], name: str, turns: int, model: str = "m") -> list[dict[str, Any]]:
    """A chain of ``turns`` responses, turn ``t`` sent to ``urls[t % len(urls)]``; each checked whole."""
    responses: list[dict[str, Any]] = []
    previous = None
    for t in range(turns):
        body: dict[str, Any] = {"model": model, "input": f"{name}t{t}"}
        if previous:
            body["previous_response_id"] = previous
        answer = post(urls[t % len(urls)], body)
        assert answer.status_code == 200, answer.text
        response = answer.json()
        expected = "|".join(f"{name}t{i}" for i in range(t + 1))
        assert response["output"][-1]["content"][0]["text"] == expected, (name, t)
        previous = response["id"]
        responses.append(response)
    return responses
