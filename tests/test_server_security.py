"""#17, the server side: ownership, limits, and upstream answers that must not pass for a response.

Every test runs the real server on 127.0.0.1 in front of the scriptable fake upstream, and fails without
the fix it is named after (the defect numbers are those of issue #17).
"""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import httpx
import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from fake_upstream import (
    FakeUpstream,
    Hang,
    RawTurn,
    StreamTurn,
    fixture,
    raw_upstream,
    retext,
    running_bridge,
)

pytestmark = pytest.mark.anyio

TEXT = "llamacpp/gptoss20b_text_timings"
KEY_A = {"authorization": "Bearer sk-alice"}
KEY_B = {"authorization": "Bearer sk-bob"}


@pytest.fixture
def upstream(upstream_server: tuple[FakeUpstream, str]) -> FakeUpstream:
    return upstream_server[0].reset()


@pytest.fixture(scope="module")
def bridge(upstream_server: tuple[FakeUpstream, str]) -> Iterator[str]:
    options: dict[str, Any] = {"read_timeout": 10.0, "finish_grace": 0.3, "stream_timeout": 3.0}
    options.update(max_upstream_bytes=256 * 1024, max_streams_per_client=2, max_streams=3)
    with running_bridge(upstream_server[1], **options) as url:
        yield url


@pytest.fixture
async def http(bridge: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=bridge, timeout=30, headers=KEY_A) as raw:
        yield raw


def events_of(body: bytes) -> list[dict[str, Any]]:
    return [json.loads(line[6:]) for line in body.decode().splitlines() if line.startswith("data: ")]


def sse(chunk: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(chunk).encode() + b"\n\n"  # ASCII JSON: a lone surrogate as \ud83d


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> str:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    if code is not None:
        assert error["code"] == code
    return str(error["message"])


STREAM = {"model": "m", "input": "hi", "stream": True}
TERMINAL = ("response.completed", "response.incomplete", "response.failed")


# --------------------------------------------------------------------------- 2: lone surrogates


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "json"])
async def test_a_lone_surrogate_in_the_input_goes_upstream_as_sent(
    upstream: FakeUpstream, http: httpx.AsyncClient, stream: bool
) -> None:
    """#17: ``"input": "\\ud83d"`` was a 500 (UTF-8 cannot encode it for the upstream)."""
    upstream.reset(StreamTurn(fixture(TEXT)))
    body = b'{"model": "m", "input": "half \\ud83d an emoji", "instructions": "be \\udc00", "stream": %s}'
    content = body % (b"true" if stream else b"false")
    response = await http.post("/responses", content=content, headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text
    final = events_of(response.content)[-1]["response"] if stream else response.json()
    assert final["status"] == "completed"
    assert final["instructions"] in ("be \udc00", "be \ufffd")  # echoed as is, or made encodable by the core
    assert upstream.bodies[0]["messages"][-1]["content"] == "half \ud83d an emoji"
    assert (await http.get(f"/responses/{final['id']}")).json()["instructions"] == final["instructions"]


async def test_a_lone_surrogate_from_the_upstream_is_stored_and_continued(
    upstream: FakeUpstream, http: httpx.AsyncClient
) -> None:
    chunks = retext(fixture(TEXT), "cut emoji", pieces=1)
    words = next(c for c in chunks if c["choices"] and c["choices"][0]["delta"].get("content"))
    words["choices"][0]["delta"]["content"] = "cut \ud83d emoji"
    upstream.reset(RawTurn(pieces=(*map(sse, chunks), b"data: [DONE]\n\n")), StreamTurn(fixture(TEXT)))
    events = events_of((await http.post("/responses", json=STREAM)).content)
    assert events[-1]["type"] == "response.completed"
    response_id = events[-1]["response"]["id"]
    stored = await http.get(f"/responses/{response_id}")
    assert stored.status_code == 200, stored.text
    assert stored.json()["output"] == events[-1]["response"]["output"]
    follow = await http.post("/responses", json={**STREAM, "previous_response_id": response_id})
    assert events_of(follow.content)[-1]["type"] == "response.completed"
    replayed = upstream.bodies[1]["messages"]
    assert "cut" in json.dumps(replayed)
    assert "emoji" in json.dumps(replayed)


# --------------------------------------------------------------------------- 3: not an event stream


@pytest.mark.parametrize(
    "turn",
    [
        RawTurn(headers=(("content-type", "text/html"),), pieces=(b"<html><body>Welcome</body></html>",)),
        RawTurn(headers=(("content-type", "application/octet-stream"),), pieces=(bytes(range(256)),)),
    ],
    ids=["html", "octet-stream"],
)
async def test_a_stream_answered_with_something_else_is_a_502(
    upstream: FakeUpstream, http: httpx.AsyncClient, turn: RawTurn
) -> None:
    upstream.reset(turn)
    assert "not an event stream" in assert_error(await http.post("/responses", json=STREAM), 502)


@pytest.mark.parametrize("media", ["text/plain", None])
async def test_an_event_stream_without_its_type_is_still_read(
    upstream: FakeUpstream, http: httpx.AsyncClient, media: str | None
) -> None:
    headers = (("content-type", media),) if media else ()
    upstream.reset(RawTurn(headers=headers, pieces=(*map(sse, fixture(TEXT)), b"data: [DONE]\n\n")))
    events = events_of((await http.post("/responses", json=STREAM)).content)
    assert events[-1]["type"] == "response.completed"
    assert events[-1]["response"]["output"]


async def test_random_bytes_labelled_as_an_event_stream_fail(
    upstream: FakeUpstream, http: httpx.AsyncClient
) -> None:
    upstream.reset(RawTurn(pieces=(bytes(range(256)) * 4,)))
    events = events_of((await http.post("/responses", json=STREAM)).content)
    assert events[0]["type"] == "response.created"
    assert [e["type"] for e in events].count("response.completed") == 0
    assert events[-1]["type"] == "response.failed"
    assert "not a single chunk" in events[-1]["response"]["error"]["message"]


# --------------------------------------------------------------------------- 4: finish, then silence


async def test_finish_reason_without_done_or_eof_completes_after_a_short_grace(
    upstream: FakeUpstream, http: httpx.AsyncClient
) -> None:
    upstream.reset(RawTurn(pieces=tuple(map(sse, fixture(TEXT))), hang=True))
    started = time.monotonic()
    events = events_of((await http.post("/responses", json=STREAM)).content)
    assert time.monotonic() - started < 2.5  # the grace (0.3 s), not the stream or read timeout
    assert events[-1]["type"] == "response.completed"
    assert events[-1]["response"]["usage"]["output_tokens"] == 57  # the usage chunk after finish_reason


async def test_silence_before_any_finish_reason_still_fails(
    upstream: FakeUpstream, http: httpx.AsyncClient
) -> None:
    chunks = fixture(TEXT)[:5]
    upstream.reset(RawTurn(pieces=tuple(map(sse, chunks)), hang=True))
    events = events_of((await http.post("/responses", json=STREAM)).content)
    assert events[-1]["type"] == "response.failed"  # the total deadline (3 s here), not a completion


# --------------------------------------------------------------------------- 5: owners


async def test_a_stored_response_is_its_owners_only(
    upstream: FakeUpstream, bridge: str, http: httpx.AsyncClient
) -> None:
    upstream.reset(StreamTurn(fixture(TEXT)), StreamTurn(fixture(TEXT)))
    response_id = (await http.post("/responses", json={"model": "m", "input": "hi"})).json()["id"]
    for headers in (KEY_B, {}):  # another credential, or none at all: as if the id did not exist
        async with httpx.AsyncClient(base_url=bridge, headers=headers) as other:
            assert_error(await other.get(f"/responses/{response_id}"), 404, "response_not_found")
            assert_error(await other.delete(f"/responses/{response_id}"), 404, "response_not_found")
            follow = {"model": "m", "input": "more", "previous_response_id": response_id}
            assert_error(await other.post("/responses", json=follow), 404, "previous_response_not_found")
    assert len(upstream.bodies) == 1
    assert (await http.get(f"/responses/{response_id}")).json()["id"] == response_id
    follow = await http.post(
        "/responses", json={"model": "m", "input": "more", "previous_response_id": response_id}
    )
    assert follow.status_code == 200
    assert (await http.delete(f"/responses/{response_id}")).json()["deleted"] is True


async def test_without_a_credential_nothing_is_stored(upstream: FakeUpstream, bridge: str) -> None:
    upstream.reset(StreamTurn(fixture(TEXT)))
    async with httpx.AsyncClient(base_url=bridge) as anonymous:
        response = await anonymous.post("/responses", json={"model": "m", "input": "hi"})
        assert response.status_code == 200
        assert response.json()["store"] is False
        assert "no credential" in response.headers["x-chat-to-responses-dropped"]
        assert_error(await anonymous.get(f"/responses/{response.json()['id']}"), 404)


async def test_the_operator_may_store_anonymous_responses(upstream_server: tuple[FakeUpstream, str]) -> None:
    upstream, url = upstream_server
    upstream.reset(StreamTurn(fixture(TEXT)))
    with running_bridge(url, store_anonymous=True) as bridge:
        async with httpx.AsyncClient(base_url=bridge) as anonymous:
            response_id = (await anonymous.post("/responses", json={"model": "m", "input": "hi"})).json()[
                "id"
            ]
            assert (await anonymous.get(f"/responses/{response_id}")).status_code == 200
        async with httpx.AsyncClient(base_url=bridge, headers=KEY_A) as keyed:  # not a credential's own
            assert_error(await keyed.get(f"/responses/{response_id}"), 404)


async def test_info_logs_name_no_response_id(
    upstream: FakeUpstream, http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    upstream.reset(StreamTurn(fixture(TEXT)), StreamTurn(fixture(TEXT)))
    with caplog.at_level(logging.INFO, logger="chat_to_responses"):
        first = (await http.post("/responses", json={"model": "m", "input": "hi"})).json()["id"]
        follow = {**STREAM, "previous_response_id": first}
        second = events_of((await http.post("/responses", json=follow)).content)[-1]["response"]["id"]
        await http.get(f"/responses/{first}")
        await http.delete("/responses/resp_unknown42")  # an error answer is logged with its cause
        bad = {**STREAM, "previous_response_id": "resp_unknown43"}
        assert (await http.post("/responses", json=bad)).status_code == 404
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert any(line.startswith("response") for line in lines)
    assert any("404" in line for line in lines)
    assert not [line for line in lines if any(i in line for i in (first, second, "unknown42", "unknown43"))]


def test_the_access_log_names_no_response_id(upstream_server: tuple[FakeUpstream, str]) -> None:
    access = logging.getLogger("uvicorn.access")
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", "/v1/responses/resp_5ecret?x=1", "1.1", 200), None,
    )  # fmt: skip
    before = list(access.filters)  # other servers of this module may be running
    with running_bridge(upstream_server[1]):
        assert all(f.filter(record) for f in access.filters)
    assert record.getMessage() == '127.0.0.1:5 - "GET /v1/responses/…?x=1 HTTP/1.1" 200'
    assert access.filters == before  # taken off when the server stops


# --------------------------------------------------------------------------- 6: connections and slots


def _connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split("/")[0].split(":")
    sock = socket.create_connection((host, int(port)), timeout=5)
    return sock


def _closed_within(sock: socket.socket, seconds: float) -> bool:
    sock.settimeout(seconds)
    try:
        while sock.recv(4096):
            pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        pass
    return True


def test_connections_that_send_no_head_or_stay_idle_are_closed(
    upstream_server: tuple[FakeUpstream, str],
) -> None:
    with running_bridge(upstream_server[1], header_timeout=0.3, idle_timeout=0.3) as bridge:
        silent = _connect(bridge)
        partial = _connect(bridge)
        partial.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        idle = _connect(bridge)
        idle.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert idle.recv(4096).startswith(b"HTTP/1.1 200")
        with silent, partial, idle:
            assert all(_closed_within(sock, 3) for sock in (silent, partial, idle))


def test_request_heads_are_bounded(upstream_server: tuple[FakeUpstream, str]) -> None:
    with running_bridge(upstream_server[1], max_header_bytes=4096) as bridge:
        with _connect(bridge) as sock:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 2000 + b"\r\n\r\n")
            assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        with _connect(bridge) as sock:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 8000 + b"\r\n\r\n")
            assert sock.recv(4096).startswith(b"HTTP/1.1 4")
            assert _closed_within(sock, 3)


def test_the_rest_of_a_refused_body_is_no_request_head(upstream_server: tuple[FakeUpstream, str]) -> None:
    """A 413 goes out before the body is read: the body's bytes that follow are not a (too large) head."""
    options = {"max_body_bytes": 1024, "max_header_bytes": 4096}
    with running_bridge(upstream_server[1], **options) as bridge, _connect(bridge) as sock:
        head = b"POST /v1/responses HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        sock.sendall(head + b"Content-Length: 20000\r\n\r\n")
        time.sleep(0.2)
        sock.sendall(b"x" * 20000)
        sock.settimeout(2)
        answer = b""
        try:
            while piece := sock.recv(65536):
                answer += piece
        except (TimeoutError, ConnectionResetError):
            pass
    assert answer.startswith(b"HTTP/1.1 413")
    assert b" 431 " not in answer


def test_inbound_connections_are_bounded(upstream_server: tuple[FakeUpstream, str]) -> None:
    """#17: 300 idle sockets exhausted a 256-descriptor limit; one over the limit is now turned away."""
    with running_bridge(upstream_server[1], max_inbound_connections=2) as bridge:
        held = [_connect(bridge), _connect(bridge)]
        time.sleep(0.2)
        with _connect(bridge) as sock:  # sends nothing: answered and closed without waiting for a head
            sock.settimeout(3)
            assert sock.recv(4096).startswith(b"HTTP/1.1 503")
            assert _closed_within(sock, 3)
        for sock in held:
            sock.close()
        time.sleep(0.2)
        with _connect(bridge) as sock:  # room again
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert sock.recv(4096).startswith(b"HTTP/1.1 200")


def test_the_connection_limit_fits_the_descriptors(monkeypatch: pytest.MonkeyPatch) -> None:
    import resource

    from chat_to_responses.server._limits import inbound_connection_limit

    monkeypatch.setattr(resource, "getrlimit", lambda _: (256, 4096))
    assert inbound_connection_limit(512) == 128
    assert inbound_connection_limit(100) == 100


async def test_responses_in_progress_are_limited_per_client_and_in_all(
    upstream: FakeUpstream, bridge: str
) -> None:
    upstream.reset(
        responder=lambda body: (
            Hang() if body["messages"][-1]["content"] == "wait" else StreamTurn(fixture(TEXT))
        )
    )
    wait = {**STREAM, "input": "wait"}
    async with (
        httpx.AsyncClient(base_url=bridge, headers=KEY_A, timeout=10) as alice,
        httpx.AsyncClient(base_url=bridge, headers=KEY_B, timeout=10) as bob,
    ):
        async with (
            alice.stream("POST", "/responses", json=wait),
            alice.stream("POST", "/responses", json=wait),
        ):
            message = assert_error(await alice.post("/responses", json=STREAM), 429, "rate_limit_exceeded")
            assert "per client" in message
            async with bob.stream("POST", "/responses", json=wait):  # the third slot of three
                assert "in progress" in assert_error(await bob.post("/responses", json=STREAM), 429)
        await anyio.sleep(0.2)  # the slots are given back when the streams end
        assert (await alice.post("/responses", json=STREAM)).status_code == 200


# --------------------------------------------------------------------------- 9: never a 500 or an empty reply


def _deep(depth: int) -> bytes:
    """Tool parameters nested ``2 * depth`` levels (written out: json.dumps itself gives up at ~1000)."""
    schema = '{"type": "object", "properties": {"a": ' * depth + '{"type": "string"}' + "}}" * depth
    tool = '{"type": "function", "name": "f", "parameters": ' + schema + "}"
    return ('{"model": "m", "input": "hi", "tools": [' + tool + "]}").encode()


@pytest.mark.parametrize(
    "body",
    [
        b'{"model": "m", "input": "hi", "tools": [{"type": "function", "name": "f", "parameters": '
        b'{"type": "object", "properties": {"n": {"type": "number", "maximum": NaN}}}}]}',
        b'{"model": "m", "input": "hi", "text": {"format": {"type": "json_schema", "name": "s", "schema": '
        b'{"type": "number", "minimum": -Infinity}}}}',
        _deep(480),
    ],
    ids=["nan-in-tool-parameters", "infinity-in-schema", "nested-960-deep"],
)
async def test_json_no_one_could_send_on_is_a_400(
    upstream: FakeUpstream, http: httpx.AsyncClient, body: bytes
) -> None:
    response = await http.post("/responses", content=body, headers={"content-type": "application/json"})
    assert_error(response, 400, "invalid_json")
    assert upstream.served == []


GZIP_LIE = (("content-type", "application/json"), ("content-encoding", "gzip"))


@pytest.mark.parametrize(
    ("turn", "words"),
    [
        (RawTurn(headers=GZIP_LIE, pieces=(b"this is not gzip",)), "could not be decoded"),
        (RawTurn(status=302, headers=(("location", "http://169.254.169.254/"),)), "redirect"),
    ],
    ids=["bad-gzip", "redirect"],
)
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_broken_upstream_answers_are_502s(
    upstream: FakeUpstream, http: httpx.AsyncClient, turn: RawTurn, words: str, stream: bool
) -> None:
    upstream.reset(turn)
    response = await http.post("/responses", json={"model": "m", "input": "hi", "stream": stream})
    if stream and words == "could not be decoded":  # a JSON body to a stream request: decoded as it streams
        assert events_of(response.content)[-1]["type"] == "response.failed"
        return
    assert words in assert_error(response, 502, "upstream_error")


@pytest.mark.parametrize(
    ("turn", "words"),
    [
        (RawTurn(headers=GZIP_LIE, pieces=(b"this is not gzip",)), "could not be decoded"),
        (RawTurn(status=302, headers=(("location", "http://169.254.169.254/"),)), "redirect"),
        (RawTurn(headers=GZIP_LIE[:1], pieces=(b" " * (300 * 1024),)), "larger than"),
    ],
    ids=["bad-gzip", "redirect", "too-large"],
)
async def test_broken_model_lists_are_502s(
    upstream: FakeUpstream, http: httpx.AsyncClient, turn: RawTurn, words: str
) -> None:
    upstream.models_turn = turn
    assert words in assert_error(await http.get("/models"), 502, "upstream_error")


async def test_a_status_outside_100_to_599_is_a_502() -> None:
    answer = b"HTTP/1.1 999 Strange\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"
    with raw_upstream(answer) as url, running_bridge(url) as bridge:
        async with httpx.AsyncClient(base_url=bridge, headers=KEY_A) as http:
            for body in ({"model": "m", "input": "hi"}, STREAM):
                assert "HTTP 999" in assert_error(await http.post("/responses", json=body), 502)
            assert "HTTP 999" in assert_error(await http.get("/models"), 502)


# --------------------------------------------------------------------------- 12: bounded upstreams, images


async def test_keep_alive_comments_do_not_hold_a_stream_forever(
    upstream: FakeUpstream, http: httpx.AsyncClient
) -> None:
    upstream.reset(RawTurn(forever=b": keep-alive\n\n"))
    started = time.monotonic()
    events = events_of((await http.post("/responses", json=STREAM)).content)
    assert time.monotonic() - started < 8
    assert events[-1]["type"] == "response.failed"
    assert "longer than 3 s" in events[-1]["response"]["error"]["message"]


async def test_a_whole_response_has_a_deadline_too(upstream: FakeUpstream, http: httpx.AsyncClient) -> None:
    upstream.reset(RawTurn(headers=(("content-type", "application/json"),), forever=b" ", interval=0.05))
    started = time.monotonic()
    message = assert_error(await http.post("/responses", json={"model": "m", "input": "hi"}), 504, "timeout")
    assert "longer than 3 s" in message
    assert time.monotonic() - started < 8


async def test_upstream_bodies_are_bounded(upstream: FakeUpstream, http: httpx.AsyncClient) -> None:
    chunks = fixture(TEXT)
    huge = retext(chunks, "word " * 80_000, pieces=400)  # ~400 KB of SSE, the limit is 256 KB
    upstream.reset(StreamTurn(huge), StreamTurn(huge))
    events = events_of((await http.post("/responses", json=STREAM)).content)
    assert events[-1]["type"] == "response.failed"
    assert "larger than 262144 bytes" in events[-1]["response"]["error"]["message"]
    message = assert_error(await http.post("/responses", json={"model": "m", "input": "hi"}), 502)
    assert "larger than 262144 bytes" in message


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("file:///etc/passwd", False),
        ("ftp://example.com/cat.png", False),
        ("gopher://127.0.0.1:6379/_FLUSHALL", False),
        ("/relative/cat.png", False),
        ("https://example.com/cat.png", True),
        ("http://example.com/cat.png", True),
        ("data:image/png;base64,iVBORw0KGgo=", True),
    ],
)
async def test_image_url_schemes_are_the_operators(
    upstream: FakeUpstream, http: httpx.AsyncClient, url: str, allowed: bool
) -> None:
    upstream.reset(StreamTurn(fixture(TEXT)))
    content = [{"type": "input_text", "text": "what is it?"}, {"type": "input_image", "image_url": url}]
    body = {"model": "m", "input": [{"role": "user", "content": content}]}
    response = await http.post("/responses", json=body)
    if allowed:
        assert response.status_code == 200, response.text
        assert url in json.dumps(upstream.bodies[0])
    else:
        assert "image URL scheme" in assert_error(response, 400, "invalid_image_url")
        assert response.json()["error"]["param"] == "input[0].content[1].image_url"
        assert upstream.served == []
        output = {"type": "function_call_output", "call_id": "c", "output": content}
        calls = [{"type": "function_call", "call_id": "c", "name": "look", "arguments": "{}"}, output]
        response = await http.post("/responses", json={"model": "m", "input": calls})
        assert response.json()["error"]["param"] == "input[1].output[1].image_url"


# --------------------------------------------------------------------------- options


def test_every_limit_is_a_serve_option(monkeypatch: pytest.MonkeyPatch) -> None:
    import argparse

    monkeypatch.delenv("CHAT_TO_RESPONSES_UPSTREAM_API_KEY", raising=False)
    monkeypatch.delenv("CHAT_TO_RESPONSES_API_KEY", raising=False)

    from chat_to_responses.server import ServerConfig, add_serve_command, config_from_args

    parser = argparse.ArgumentParser(prog="chat-to-responses")
    add_serve_command(parser.add_subparsers(dest="command"))
    defaults = config_from_args(parser.parse_args(["serve", "--upstream", "http://127.0.0.1:8000/v1"]))
    assert defaults == ServerConfig(upstream="http://127.0.0.1:8000/v1")
    assert (defaults.store_anonymous, defaults.image_url_schemes) == (False, ("https", "http", "data"))
    argv = ["serve", "--upstream", "http://127.0.0.1:8000/v1", "--store-anonymous", "--max-streams", "5"]
    argv += ["--header-timeout", "2.5", "--image-url-schemes", "HTTPS, data", "--store-max-bytes", "1000"]
    config = config_from_args(parser.parse_args(argv))
    assert (config.store_anonymous, config.max_streams, config.header_timeout) == (True, 5, 2.5)
    assert (config.image_url_schemes, config.store_max_bytes) == (("https", "data"), 1000)
    with pytest.raises(ValueError, match="max_streams_per_client"):
        ServerConfig(upstream="http://127.0.0.1:8000/v1", max_streams_per_client=0)
    with pytest.raises(ValueError, match="finish_grace"):
        ServerConfig(upstream="http://127.0.0.1:8000/v1", finish_grace=float("nan"))


# --------------------------------------------------------------------------- WebSocket mode, same rules


def _ws_turn(url: str, body: dict[str, Any], headers: dict[str, str]) -> list[dict[str, Any]]:
    from websockets.sync.client import connect

    with connect(url, open_timeout=10, additional_headers=headers) as connection:
        connection.send(json.dumps({"type": "response.create", **body}))
        messages = []
        while True:
            messages.append(json.loads(connection.recv(timeout=10)))
            if messages[-1]["type"] in (
                "response.completed",
                "response.incomplete",
                "response.failed",
                "error",
            ):
                return messages


def test_websocket_turns_follow_the_owner_and_upstream_rules(upstream: FakeUpstream, bridge: str) -> None:
    pytest.importorskip("websockets")
    url = bridge.replace("http://", "ws://") + "/responses"
    upstream.reset(
        StreamTurn(fixture(TEXT)),
        RawTurn(headers=(("content-type", "text/html"),), pieces=(b"<html>login</html>",)),
        RawTurn(pieces=tuple(map(sse, fixture(TEXT))), hang=True),
    )
    first = _ws_turn(url, {"model": "m", "input": "hi"}, KEY_A)[-1]["response"]
    stolen = _ws_turn(url, {"model": "m", "input": "x", "previous_response_id": first["id"]}, KEY_B)
    assert stolen[-1]["error"]["code"] == "previous_response_not_found"
    html = _ws_turn(url, {"model": "m", "input": "hi"}, KEY_A)
    assert (html[-1]["type"], html[-1]["status"]) == ("error", 502)
    started = time.monotonic()
    graced = _ws_turn(url, {"model": "m", "input": "hi"}, KEY_A)
    assert graced[-1]["type"] == "response.completed"
    assert time.monotonic() - started < 2.5
    nan = _ws_turn(url, {"model": "m", "input": "hi", "temperature": float("nan")}, KEY_A)
    assert nan[-1]["error"]["code"] == "invalid_json"
