"""A misconfigured or unreachable upstream is easy to diagnose: start-up names and probes it, the health
route can ask it, every error log line says why, and a bad ``--upstream`` or a busy port is one clear line."""

from __future__ import annotations

import argparse
import logging
import re
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from chat_to_responses.server import ServerConfig, add_serve_command, create_app, main
from fake_upstream import FakeUpstream, StreamTurn, fixture, running_upstream, serving

LOGGER = "chat_to_responses.server"
TEXT_THEN_ERROR = "groq/gptoss_text_then_error"


@pytest.fixture
def upstream() -> Iterator[tuple[FakeUpstream, str]]:
    with running_upstream() as served:
        yield served


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def wait_for_log(caplog: pytest.LogCaptureFixture, text: str) -> logging.LogRecord:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for record in caplog.records:
            if record.name == LOGGER and text in record.getMessage():
                return record
        time.sleep(0.02)
    raise AssertionError(f"no log line with {text!r}: {[r.getMessage() for r in caplog.records]}")


# ------------------------------------------------------------------------------------------- start-up


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://", "has no host"),
        ("https://:443/v1", "has no host"),
        ("http://127.0.0.1:99999/v1", "not a valid URL"),
        ("http://127.0.0.1:port/v1", "not a valid URL"),
        ("http://127.0.0.1:8000/v1?key=x", "must be a base URL"),
        ("127.0.0.1:8000/v1", "must be an http:// or https:// URL"),
    ],
)
def test_an_unusable_upstream_url_is_one_clear_line_at_start_up(
    url: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        ServerConfig(upstream=url)
    assert main(["--upstream", url]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert message in error


def test_a_busy_port_is_one_line_naming_port(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["--upstream", "http://127.0.0.1:9/v1", "--port", str(port), "--store", "none"]) == 1
    error = capsys.readouterr().err
    expected = f"port {port} on 127.0.0.1 is already in use: choose another with --port"
    assert error == f"chat-to-responses serve: {expected}\n"


def test_every_serve_option_has_help_with_its_default() -> None:
    parser = argparse.ArgumentParser(prog="chat-to-responses")
    serve = add_serve_command(parser.add_subparsers(dest="command"))
    formatter = serve.formatter_class(prog="serve")
    options = [a for a in serve._actions if a.option_strings and a.dest != "help"]
    assert len(options) > 15
    for action in options:
        text = formatter._get_help_string(action) or ""  # type: ignore[attr-defined]
        assert text.split(" (")[0], f"{action.dest} has no help"
        assert "default" in text or action.required, f"{action.dest} does not tell its default"
    assert "(default: 8080)" in serve.format_help().replace("\n", " ")


def test_start_up_names_the_upstream_and_what_it_answers(
    upstream: tuple[FakeUpstream, str], caplog: pytest.LogCaptureFixture
) -> None:
    fake, url = upstream
    caplog.set_level(logging.INFO, LOGGER)
    with serving(create_app(ServerConfig(upstream=f"{url}/v1", store="none"), probe_upstream=True)):
        assert wait_for_log(caplog, f"upstream: POST {url}/v1/chat/completions").levelno == logging.INFO
        line = wait_for_log(caplog, f"upstream {url}/v1/models answered 200")
    assert line.levelno == logging.INFO
    assert "fake-model" in line.getMessage()
    assert [s.path for s in fake.served] == ["/v1/models"]


def test_start_up_warns_when_the_url_probably_lacks_v1(
    upstream: tuple[FakeUpstream, str], caplog: pytest.LogCaptureFixture
) -> None:
    _, url = upstream
    caplog.set_level(logging.INFO, LOGGER)
    with serving(create_app(ServerConfig(upstream=url, store="none"), probe_upstream=True)):
        line = wait_for_log(caplog, "answered HTTP 404")
    assert line.levelno == logging.WARNING
    assert f"probably lacks /v1 (try {url}/v1)" in line.getMessage()


def test_start_up_warns_when_the_upstream_is_unreachable(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, LOGGER)
    url = f"http://127.0.0.1:{closed_port()}/v1"
    with serving(create_app(ServerConfig(upstream=url, store="none"), probe_upstream=True)):
        line = wait_for_log(caplog, "is unreachable")
    assert line.levelno == logging.WARNING
    assert url in line.getMessage()
    assert "ConnectError" in line.getMessage()


def test_apps_do_not_probe_unless_asked(upstream: tuple[FakeUpstream, str]) -> None:
    fake, url = upstream
    with serving(create_app(ServerConfig(upstream=f"{url}/v1", store="none"))) as root:
        assert httpx.get(f"{root}/health").json() == {"status": "ok"}
    assert fake.served == []  # /health stays cheap: it never asks the upstream


# ------------------------------------------------------------------------------------------- health


def test_health_reports_the_upstream_when_asked(upstream: tuple[FakeUpstream, str]) -> None:
    fake, url = upstream
    with serving(create_app(ServerConfig(upstream=f"{url}/v1", store="none"))) as root:
        answer = httpx.get(f"{root}/health", params={"upstream": "1"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "ok"
    assert body["upstream"] | {"seconds": 0} == {
        "reachable": True,
        "ok": True,
        "url": f"{url}/v1/models",
        "status_code": 200,
        "seconds": 0,
    }
    assert [s.path for s in fake.served] == ["/v1/models"]


@pytest.mark.parametrize("reachable", [False, True])
def test_health_is_503_when_the_upstream_is_down_or_failing(
    reachable: bool, upstream: tuple[FakeUpstream, str]
) -> None:
    _, url = upstream
    base = url if reachable else f"http://127.0.0.1:{closed_port()}/v1"  # without /v1: a 404
    with serving(create_app(ServerConfig(upstream=base, store="none"))) as root:
        answer = httpx.get(f"{root}/health?upstream=1")
    assert answer.status_code == 503
    report: dict[str, Any] = answer.json()["upstream"]
    assert answer.json()["status"] == "upstream_unavailable"
    assert report["reachable"] is reachable
    assert report["ok"] is False
    if reachable:
        assert report["status_code"] == 404
        assert "probably lacks /v1" in report["hint"]
    else:
        assert "ConnectError" in report["error"]


# ------------------------------------------------------------------------------------------- error logs


def test_a_rejected_request_is_logged_with_its_cause(
    upstream: tuple[FakeUpstream, str], caplog: pytest.LogCaptureFixture
) -> None:
    _, url = upstream
    caplog.set_level(logging.INFO, LOGGER)
    body = {"model": "m", "input": [{"type": "web_search_call", "id": "ws_1"}]}
    with serving(create_app(ServerConfig(upstream=f"{url}/v1", store="none"))) as root:
        assert httpx.post(f"{root}/v1/responses", json=body).status_code == 400
        assert httpx.get(f"{root}/v1/nothing").status_code == 404
    line = wait_for_log(
        caplog, "POST /v1/responses: 400 unsupported_input_item: Input item type 'web_search_call'"
    )
    assert line.levelno == logging.INFO
    wait_for_log(caplog, "GET /v1/nothing: 404 Not Found")


@pytest.mark.parametrize("stream", [False, True])
def test_an_unreachable_upstream_is_logged_with_its_url(
    stream: bool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, LOGGER)
    url = f"http://127.0.0.1:{closed_port()}/v1"
    with serving(create_app(ServerConfig(upstream=url, store="none"))) as root:
        answer = httpx.post(f"{root}/v1/responses", json={"model": "m", "input": "hi", "stream": stream})
    assert answer.status_code == 502
    line = wait_for_log(caplog, ": 502 upstream_error: upstream unreachable: ConnectError")
    assert line.levelno == logging.WARNING
    assert line.getMessage().endswith(f"(upstream {url})")
    assert url not in answer.text  # the operator's URL is for the log, not for clients


def test_an_upstream_404_is_logged_with_the_missing_v1_hint(
    upstream: tuple[FakeUpstream, str], caplog: pytest.LogCaptureFixture
) -> None:
    _, url = upstream
    caplog.set_level(logging.INFO, LOGGER)
    with serving(create_app(ServerConfig(upstream=url, store="none"))) as root:
        answer = httpx.post(f"{root}/v1/responses", json={"model": "m", "input": "hi", "stream": True})
        models = httpx.get(f"{root}/v1/models")
    assert (answer.status_code, models.status_code) == (404, 404)
    line = wait_for_log(caplog, ": 404 no route /chat/completions")
    assert f"probably lacks /v1 (try {url}/v1)" in line.getMessage()
    wait_for_log(caplog, "GET /v1/models: 404 no route /models")


def test_a_failed_stream_is_logged_with_its_cause(
    upstream: tuple[FakeUpstream, str], caplog: pytest.LogCaptureFixture
) -> None:
    fake, url = upstream
    caplog.set_level(logging.INFO, LOGGER)
    fake.reset(StreamTurn(fixture(TEXT_THEN_ERROR)))
    with serving(create_app(ServerConfig(upstream=f"{url}/v1", store="none"))) as root:
        answer = httpx.post(f"{root}/v1/responses", json={"model": "m", "input": "hi", "stream": True})
    assert answer.status_code == 200
    line = wait_for_log(caplog, ": failed (")
    assert line.levelno == logging.WARNING
    assert "model did not call a tool" in line.getMessage()
