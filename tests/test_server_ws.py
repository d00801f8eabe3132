"""WebSocket mode on ``/v1/responses``: a real WebSocket client (``websockets``) → the bridge under uvicorn on
127.0.0.1 → a fake Chat Completions upstream over real HTTP.

What is checked: a turn streams the same events as SSE (the stream rules hold, every response object has
the spec's fields); turns on one socket run in order; ``previous_response_id`` continues the connection's
latest response even with ``store: false`` (and the upstream gets the whole conversation); a reconnect
cannot continue a ``store: false`` chain but can continue a stored one; a failed turn forgets the response
it continued from; bad messages, upstream errors and bad keys are error messages; a disconnect cancels the
upstream request.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
pytest.importorskip("websockets")

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as ws_connect

from chat_to_responses.testing import ErrorTurn, StreamTurn, check_stream
from fake_upstream import FakeUpstream, Hang, fixture, retext, running_bridge
from plausible_upstream import TEXT_FIXTURE, plausible
from spec_shapes import spec_violations

Json = dict[str, Any]
TERMINAL = ("response.completed", "response.incomplete", "response.failed")


@pytest.fixture
def upstream(upstream_server: tuple[FakeUpstream, str]) -> FakeUpstream:
    return upstream_server[0].reset(responder=plausible)


@pytest.fixture(scope="module")
def ws_url(upstream_server: tuple[FakeUpstream, str]) -> Iterator[str]:
    with running_bridge(upstream_server[1]) as url:
        yield url.replace("http://", "ws://") + "/responses"


class Socket:
    """A connected client: ``turn(body)`` sends one response.create and returns its messages."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    def send(self, body: Json | str) -> None:
        self.connection.send(
            body if isinstance(body, str) else json.dumps({"type": "response.create", **body})
        )

    def receive_turn(self) -> list[Json]:
        messages = []
        while True:
            message = json.loads(self.connection.recv(timeout=10))
            messages.append(message)
            if message["type"] in (*TERMINAL, "error"):
                return messages

    def turn(self, body: Json | str) -> list[Json]:
        self.send(body)
        return self.receive_turn()


def connect(url: str, **options: Any) -> Any:
    """A connection with a credential, as Codex's: stored responses belong to one (see the README)."""
    options.setdefault("additional_headers", {"authorization": "Bearer sk-client"})
    return ws_connect(url, open_timeout=10, **options)


def final(messages: list[Json]) -> Json:
    assert messages[-1]["type"] in TERMINAL, messages[-1]
    response: Json = messages[-1]["response"]
    return response


def contents(body: Json) -> list[str]:
    return [str(message.get("content")) for message in body["messages"]]


# ------------------------------------------------------------------------------------------ turns


def test_a_turn_streams_the_sse_events(upstream: FakeUpstream, ws_url: str) -> None:
    with connect(ws_url) as connection:
        messages = Socket(connection).turn({"model": "m", "input": "hi", "stream": True})
    assert check_stream(messages) == []
    assert messages[0]["type"] == "response.created"
    response = final(messages)
    assert response["status"] == "completed"
    assert spec_violations(response) == []
    assert response["output"][0]["content"][0]["text"] == "Hello there, friend."
    assert upstream.bodies[-1]["stream"] is True


def test_sequential_turns_on_one_socket(upstream: FakeUpstream, ws_url: str) -> None:
    with connect(ws_url) as connection:
        socket = Socket(connection)
        first = socket.turn({"model": "m", "store": False, "input": "first"})
        second = socket.turn({"model": "m", "store": False, "input": "second"})
    for messages in (first, second):
        assert check_stream(messages) == []
        assert final(messages)["status"] == "completed"
    assert final(first)["id"] != final(second)["id"]
    # independent turns: the second request does not carry the first
    assert contents(upstream.bodies[1]) == ["second"]


def test_messages_sent_back_to_back_are_answered_in_order(upstream: FakeUpstream, ws_url: str) -> None:
    with connect(ws_url) as connection:
        socket = Socket(connection)
        socket.send({"model": "m", "input": "one"})
        socket.send({"model": "m", "input": "two"})
        turns = [socket.receive_turn(), socket.receive_turn()]
    assert [final(messages)["status"] for messages in turns] == ["completed", "completed"]
    assert [contents(body) for body in upstream.bodies] == [["one"], ["two"]]


def test_store_false_continuation_on_the_same_socket(upstream: FakeUpstream, ws_url: str) -> None:
    with connect(ws_url) as connection:
        socket = Socket(connection)
        first = final(socket.turn({"model": "m", "store": False, "input": "the code word is cobalt"}))
        second = final(
            socket.turn({"model": "m", "store": False, "previous_response_id": first["id"], "input": "?"})
        )
    assert second["status"] == "completed"
    assert second["previous_response_id"] == first["id"]
    assert contents(upstream.bodies[-1]) == ["the code word is cobalt", "Hello there, friend.", "?"]


def test_reconnect_cannot_continue_a_store_false_chain_but_recovers(
    upstream: FakeUpstream, ws_url: str
) -> None:
    with connect(ws_url) as connection:
        first = final(Socket(connection).turn({"model": "m", "store": False, "input": "copper"}))
    with connect(ws_url) as connection:
        socket = Socket(connection)
        missed = socket.turn(
            {"model": "m", "store": False, "previous_response_id": first["id"], "input": "?"}
        )
        recovered = socket.turn({"model": "m", "store": False, "input": "start again"})
    assert missed == [
        {
            "type": "error",
            "status": 404,
            "error": {
                "message": f"Response with id '{first['id']}' not found.",
                "type": "invalid_request_error",
                "param": "previous_response_id",
                "code": "previous_response_not_found",
            },
        }
    ]
    assert final(recovered)["status"] == "completed"
    assert len(upstream.bodies) == 2


def test_a_stored_response_continues_on_another_socket(upstream: FakeUpstream, ws_url: str) -> None:
    with connect(ws_url) as connection:
        first = final(Socket(connection).turn({"model": "m", "input": "remember me"}))
    with connect(ws_url) as connection:
        second = final(
            Socket(connection).turn({"model": "m", "previous_response_id": first["id"], "input": "?"})
        )
    assert second["status"] == "completed"
    assert contents(upstream.bodies[-1]) == ["remember me", "Hello there, friend.", "?"]


def test_a_failed_continuation_forgets_the_previous_response(upstream: FakeUpstream, ws_url: str) -> None:
    orphan = {"type": "function_call_output", "call_id": "call_missing", "output": "x"}
    with connect(ws_url) as connection:
        socket = Socket(connection)
        first = final(socket.turn({"model": "m", "store": False, "input": "ember"}))
        failed = socket.turn(
            {"model": "m", "store": False, "previous_response_id": first["id"], "input": [orphan]}
        )
        retry = socket.turn(
            {"model": "m", "store": False, "previous_response_id": first["id"], "input": "stale"}
        )
    assert failed[-1]["type"] == "error"
    assert failed[-1]["status"] == 400
    assert "call_missing" in failed[-1]["error"]["message"]
    assert retry[-1]["error"]["code"] == "previous_response_not_found"
    assert len(upstream.bodies) == 1


def test_a_response_failed_mid_stream_is_not_continued(upstream: FakeUpstream, ws_url: str) -> None:
    with connect(ws_url) as connection:
        socket = Socket(connection)
        first = final(socket.turn({"model": "m", "store": False, "input": "one"}))
        upstream.reset(StreamTurn(retext(fixture(TEXT_FIXTURE), "partial answer"), cut_after=3))
        cut = final(
            socket.turn({"model": "m", "store": False, "previous_response_id": first["id"], "input": "two"})
        )
        upstream.reset(responder=plausible)
        after_cut = socket.turn(
            {"model": "m", "store": False, "previous_response_id": cut["id"], "input": "x"}
        )
        stale = socket.turn({"model": "m", "store": False, "previous_response_id": first["id"], "input": "x"})
        fresh = socket.turn({"model": "m", "store": False, "input": "new chain"})
    assert cut["status"] == "failed"
    assert spec_violations(cut) == []
    assert after_cut[-1]["error"]["code"] == "previous_response_not_found"
    assert stale[-1]["error"]["code"] == "previous_response_not_found"
    assert final(fresh)["status"] == "completed"


# ------------------------------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("message", "code", "param"),
    [
        ("not json", "invalid_json", None),
        (json.dumps({"type": "response.cancel"}), "invalid_event", "type"),
        (json.dumps([1]), "invalid_event", "type"),
        (json.dumps({"type": "response.create", "input": "no model"}), "missing_required_parameter", "model"),
        (
            json.dumps({"type": "response.create", "model": "m", "input": "x", "background": True}),
            None,
            "background",
        ),
        (
            json.dumps({"type": "response.create", "model": "m", "input": "x", "temperature": 9}),
            None,
            "temperature",
        ),
    ],
)
def test_a_bad_message_is_an_error_and_the_socket_stays_open(
    upstream: FakeUpstream, ws_url: str, message: str, code: str | None, param: str | None
) -> None:
    with connect(ws_url) as connection:
        socket = Socket(connection)
        error = socket.turn(message)
        after = socket.turn({"model": "m", "input": "still here"})
    assert len(error) == 1
    assert error[0]["type"] == "error"
    assert error[0]["status"] == 400
    assert error[0]["error"]["param"] == param
    assert isinstance(error[0]["error"]["code"], str)
    if code is not None:
        assert error[0]["error"]["code"] == code
    assert final(after)["status"] == "completed"
    assert [contents(body) for body in upstream.bodies] == [["still here"]]


def test_an_upstream_http_error_is_an_error_message(upstream: FakeUpstream, ws_url: str) -> None:
    upstream.reset(
        ErrorTurn(429, {"error": {"message": "slow down", "type": "rate_limit", "code": "rate_limit"}})
    )
    with connect(ws_url) as connection:
        messages = Socket(connection).turn({"model": "m", "input": "hi"})
    assert messages == [
        {
            "type": "error",
            "status": 429,
            "error": {"message": "slow down", "type": "rate_limit", "param": None, "code": "rate_limit"},
        }
    ]


def test_an_upstream_error_without_a_code_still_has_one(upstream: FakeUpstream, ws_url: str) -> None:
    upstream.reset(ErrorTurn(500, {"error": {"message": "boom"}}))
    with connect(ws_url) as connection:
        messages = Socket(connection).turn({"model": "m", "input": "hi"})
    assert messages[0]["status"] == 500
    assert messages[0]["error"]["code"] == "upstream_error"


def test_a_bad_key_is_an_error_then_the_socket_closes(upstream_server: tuple[FakeUpstream, str]) -> None:
    options = {"api_key": "inbound", "upstream_api_key": "up"}
    with running_bridge(upstream_server[1], **options) as url:
        ws_url = url.replace("http://", "ws://") + "/responses"
        with connect(ws_url, additional_headers={"authorization": "Bearer wrong"}) as connection:
            error = json.loads(connection.recv(timeout=10))
            with pytest.raises(ConnectionClosed) as closed:
                connection.recv(timeout=10)
        headers = {"authorization": "Bearer inbound"}
        with connect(ws_url, additional_headers=headers) as connection:
            upstream_server[0].reset(responder=plausible)
            response = final(Socket(connection).turn({"model": "m", "input": "hi"}))
    assert error["status"] == 401
    assert error["error"]["code"] == "invalid_api_key"
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1008
    assert response["status"] == "completed"
    assert upstream_server[0].served[-1].headers["authorization"] == "Bearer up"


def test_a_disconnect_cancels_the_upstream_request(upstream: FakeUpstream, ws_url: str) -> None:
    upstream.reset(Hang())
    with connect(ws_url) as connection:
        Socket(connection).send({"model": "m", "input": "hi"})
        deadline = time.monotonic() + 10
        while not upstream.served and time.monotonic() < deadline:
            time.sleep(0.01)
    assert upstream.served[0].closed_early.wait(timeout=10)


def test_a_warmup_asks_nothing_upstream_and_can_be_continued(upstream: FakeUpstream, ws_url: str) -> None:
    instructions = {"model": "m", "store": False, "instructions": "Be brief."}
    with connect(ws_url) as connection:
        socket = Socket(connection)
        warm = socket.turn({**instructions, "generate": False, "input": "context first"})
        assert upstream.bodies == []
        turn = socket.turn({**instructions, "previous_response_id": final(warm)["id"], "input": "now answer"})
        bad = socket.turn({**instructions, "generate": "no", "input": "x"})
    assert check_stream(warm) == []
    assert final(warm)["status"] == "completed"
    assert final(warm)["output"] == []
    assert final(turn)["status"] == "completed"
    assert contents(upstream.bodies[0]) == ["Be brief.", "context first", "now answer"]
    assert bad[-1]["error"]["param"] == "generate"


def chunk(delta: Json) -> Json:
    return {
        "id": "c1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
    }


def test_a_retry_adds_nothing_from_a_failed_attempt(upstream: FakeUpstream, ws_url: str) -> None:
    """As over HTTP (``server._attempts``): what a failed response announced done, sent back by the client's
    retry, does not reach the upstream."""
    text_then_cut_call = [
        chunk({"role": "assistant", "content": "Let me look."}),
        chunk(
            {"tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"name": "shell"}}]}
        ),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"cmd": '}}]}),
    ]
    upstream.reset(StreamTurn(text_then_cut_call, cut_after=3))
    user = {"type": "message", "role": "user", "content": "look"}
    with connect(ws_url) as connection:
        socket = Socket(connection)
        cut = socket.turn({"model": "m", "store": False, "input": [user]})
        upstream.reset(responder=plausible)
        done = [m["item"] for m in cut if m["type"] == "response.output_item.done"]
        retry = socket.turn({"model": "m", "store": False, "input": [user, *done]})
    assert final(cut)["status"] == "failed"
    assert [item["type"] for item in done] == ["message"]
    assert final(retry)["status"] == "completed"
    assert upstream.bodies[-1]["messages"] == [{"role": "user", "content": "look"}]
