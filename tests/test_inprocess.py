"""``responses_client`` / ``responses_client_sync``: the bridge app in-process behind a real openai client.

The upstream is the fake Chat Completions server on 127.0.0.1 replaying a recorded llama.cpp gpt-oss tool
call (``weather`` for Florence) and a recorded text answer re-worded; a few tests use a ``ReplayTransport``
instead, through an existing openai client given as the upstream.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

import httpx
import openai

from chat_to_responses import responses_client, responses_client_sync
from chat_to_responses._inprocess import InProcessTransport, config_for
from chat_to_responses.testing import ErrorTurn, ReplayTransport
from fake_upstream import FakeUpstream, Hang, StreamTurn, fixture, retext, running_upstream

pytestmark = pytest.mark.anyio

ANSWER = "It is sunny in Florence."
TOOLS: list[Any] = [
    {
        "type": "function",
        "name": "weather",
        "description": "The weather at a place.",
        "parameters": {
            "type": "object",
            "properties": {"location": {"type": "string"}},
            "required": ["location"],
        },
    }
]


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[FakeUpstream, str]]:
    with running_upstream() as (upstream, url):
        yield upstream, f"{url}/v1"


@pytest.fixture
def upstream(served: tuple[FakeUpstream, str]) -> FakeUpstream:
    return served[0].reset()


@pytest.fixture
def url(served: tuple[FakeUpstream, str]) -> str:
    return served[1]


def tool_then_answer() -> tuple[StreamTurn, StreamTurn]:
    return (
        StreamTurn(fixture("llamacpp/gptoss20b_reasoning_tool_timings")),
        StreamTurn(retext(fixture("llamacpp/gptoss20b_text_timings"), ANSWER)),
    )


async def respond(client: openai.AsyncOpenAI, streamed: bool, **request: Any) -> Any:
    if not streamed:
        return await client.responses.create(model="gpt-oss-20b", **request)
    async with client.responses.stream(model="gpt-oss-20b", **request) as stream:
        return await stream.get_final_response()


def function_output(response: Any) -> dict[str, str]:
    (call,) = [item for item in response.output if item.type == "function_call"]
    assert call.name == "weather"
    return {"type": "function_call_output", "call_id": call.call_id, "output": "sunny in Florence"}


def assert_tool_turn_upstream(upstream: FakeUpstream, streamed: bool) -> None:
    first, second = upstream.bodies
    assert first.get("stream", False) is streamed
    assert first["tools"][0]["function"]["name"] == "weather"
    assert [m["role"] for m in second["messages"]] == ["user", "assistant", "tool"]
    assert second["messages"][1]["tool_calls"][0]["function"]["name"] == "weather"
    assert second["messages"][2]["content"] == "sunny in Florence"


# ------------------------------------------------------------------------------------------- openai SDK


@pytest.mark.parametrize("streamed", [False, True], ids=["create", "stream"])
async def test_tool_conversation_with_previous_response_id(
    upstream: FakeUpstream, url: str, streamed: bool
) -> None:
    upstream.reset(*tool_then_answer())
    async with responses_client(url, api_key="sk-upstream") as client:
        first = await respond(client, streamed, input="Weather in Florence?", tools=TOOLS)
        second = await respond(
            client, streamed, input=[function_output(first)], tools=TOOLS, previous_response_id=first.id
        )
        stored = await client.responses.retrieve(second.id)
    assert second.output_text == ANSWER
    assert stored.output_text == ANSWER
    assert_tool_turn_upstream(upstream, streamed)
    assert {s.headers.get("authorization") for s in upstream.served} == {"Bearer sk-upstream"}


async def test_stream_events_arrive_while_the_upstream_is_still_sending(
    upstream: FakeUpstream, url: str
) -> None:
    upstream.reset(StreamTurn(retext(fixture("llamacpp/gptoss20b_text_timings"), ANSWER), delay=0.05))
    async with responses_client(url) as client:
        stream = await client.responses.create(model="m", input="hi", stream=True)
        async for event in stream:
            if event.type == "response.output_text.delta":
                assert not upstream.served[0].finished  # not buffered: the upstream has chunks to go
                break
        await stream.close()


async def test_other_routes_pass_through_to_the_upstream(upstream: FakeUpstream, url: str) -> None:
    upstream.reset(StreamTurn(retext(fixture("llamacpp/gptoss20b_text_timings"), ANSWER)))
    async with responses_client(url) as client:
        models = [model.id async for model in client.models.list()]
        completion = await client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hi"}]
        )
    assert models == ["fake-model"]
    assert completion.choices[0].message.content == ANSWER
    assert [s.path for s in upstream.served] == ["/v1/models", "/v1/chat/completions"]
    assert all("authorization" not in s.headers for s in upstream.served)  # no key given: none sent


async def test_early_close_cancels_the_upstream(upstream: FakeUpstream, url: str) -> None:
    upstream.reset(StreamTurn(fixture("llamacpp/gptoss20b_text_timings"), delay=0.1))
    async with responses_client(url) as client:
        stream = await client.responses.create(model="m", input="hi", stream=True)
        async for event in stream:
            if event.type == "response.output_text.delta":
                break
        await stream.close()
        for _ in range(250):
            if upstream.served[0].closed_early.is_set():
                break
            await asyncio.sleep(0.02)
    assert upstream.served[0].closed_early.is_set()
    assert upstream.served[0].chunks_sent < 50


async def test_cancelled_request_cancels_a_silent_upstream(upstream: FakeUpstream, url: str) -> None:
    upstream.reset(Hang(headers_first=False))
    async with responses_client(url) as client:
        task = asyncio.ensure_future(client.responses.create(model="m", input="hi", stream=True))
        while not upstream.served:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        for _ in range(250):
            if upstream.served[0].closed_early.is_set():
                break
            await asyncio.sleep(0.02)
    assert upstream.served[0].closed_early.is_set()


# ------------------------------------------------------------------------------------------------ errors


@pytest.mark.parametrize("streamed", [False, True])
async def test_upstream_http_errors_are_openai_errors(
    upstream: FakeUpstream, url: str, streamed: bool
) -> None:
    upstream.reset(
        ErrorTurn(400, {"error": {"message": "context too long", "type": "invalid_request_error"}}),
        ErrorTurn(503, {"error": {"message": "overloaded"}}),
    )
    async with responses_client(url) as client:
        client = client.with_options(max_retries=0)
        with pytest.raises(openai.BadRequestError, match="context too long"):
            await respond(client, streamed, input="hi")
        with pytest.raises(openai.InternalServerError, match="overloaded") as info:
            await respond(client, streamed, input="hi")
    assert info.value.status_code == 503


async def test_unknown_previous_response_id_is_a_not_found(upstream: FakeUpstream, url: str) -> None:
    async with responses_client(url) as client:
        with pytest.raises(openai.NotFoundError, match="resp_missing"):
            await client.responses.create(model="m", input="hi", previous_response_id="resp_missing")
    assert upstream.served == []


def test_bad_arguments_are_clear_errors() -> None:
    with pytest.raises(TypeError, match=r"unknown option.*bogus.*default_model"):
        responses_client("http://127.0.0.1:1/v1", bogus=1)
    with pytest.raises(TypeError, match="upstream must be"):
        responses_client(42)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="http:// or https://"):
        responses_client_sync("127.0.0.1:8000/v1")
    with pytest.raises(ValueError, match="max_connections"):
        responses_client("http://127.0.0.1:1/v1", max_connections=0)
    with pytest.raises(TypeError, match=r"unknown option.*upstream_api_key"):
        responses_client("http://127.0.0.1:1/v1", upstream_api_key="sk")


def test_options_are_the_server_config() -> None:
    config = config_for("http://127.0.0.1:1/v1", {"default_model": "qwen3", "think_tags": False})
    assert (config.store, config.default_model, config.think_tags) == ("memory", "qwen3", False)
    assert config_for("http://127.0.0.1:1/v1", {"store": "none"}).store == "none"


def test_the_async_client_needs_a_running_asyncio_loop() -> None:
    transport = InProcessTransport(config_for("http://127.0.0.1:1/v1", {}))
    request = httpx.Request("POST", "http://in-process.invalid/v1/responses", json={})
    coroutine = transport.handle_async_request(request)
    with pytest.raises(RuntimeError, match=r"needs asyncio.*serve"):
        coroutine.send(None)  # driven outside any event loop, as under trio


def test_one_event_loop_per_client() -> None:
    replay = ReplayTransport([StreamTurn(retext(fixture("llamacpp/gptoss20b_text_timings"), ANSWER))])
    upstream = openai.AsyncOpenAI(
        base_url="http://replay.invalid/v1",
        api_key="sk",
        http_client=httpx.AsyncClient(transport=replay),  # type: ignore[arg-type]
    )
    client = responses_client(upstream)
    assert asyncio.run(respond(client, True, input="hi")).output_text == ANSWER
    with pytest.raises(RuntimeError, match="bound to the event loop"):
        asyncio.run(respond(client, False, input="hi"))


async def app_failing_mid_body(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await receive()
        await send({"type": "lifespan.startup.complete"})
        await receive()
        await send({"type": "lifespan.shutdown.complete"})
        return
    if scope["path"].endswith("/late"):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"data: {}\n\n", "more_body": True})
    raise ZeroDivisionError("app bug")


async def test_app_failures_are_a_500_or_a_broken_body(caplog: pytest.LogCaptureFixture) -> None:
    transport = InProcessTransport(config_for("http://127.0.0.1:1/v1", {}))
    transport._app = app_failing_mid_body  # the real app catches its errors: a stand-in that does not
    async with httpx.AsyncClient(transport=transport, base_url="http://in-process.invalid/v1") as http:
        early = await http.post("/responses", json={})
        assert early.status_code == 500
        assert early.json()["error"]["type"] == "server_error"
        async with http.stream("POST", "/responses/late", json={}) as late:
            with pytest.raises(httpx.RemoteProtocolError, match="app bug"):
                await late.aread()
    assert "failed before its response" in caplog.text
    assert "failed during its response" in caplog.text


# ----------------------------------------------------------------------------------- an existing client


class TrackedReplay(ReplayTransport):
    closed = False

    async def aclose(self) -> None:
        self.closed = True


async def test_an_existing_client_lends_its_url_key_and_transport() -> None:
    replay = TrackedReplay(tool_then_answer())
    upstream = openai.AsyncOpenAI(
        base_url="http://replay.invalid/v1",
        api_key="sk-existing",
        http_client=httpx.AsyncClient(transport=replay),  # type: ignore[arg-type]
    )
    async with responses_client(upstream) as client:
        first = await respond(client, True, input="Weather in Florence?", tools=TOOLS)
        second = await respond(client, True, input=[function_output(first)], previous_response_id=first.id)
    assert second.output_text == ANSWER
    assert [str(r.url) for r in replay.requests] == ["http://replay.invalid/v1/chat/completions"] * 2
    assert {r.headers["authorization"] for r in replay.requests} == {"Bearer sk-existing"}
    assert [m["role"] for m in replay.request_bodies[1]["messages"]] == ["user", "assistant", "tool"]
    assert not replay.closed  # borrowed, not closed with the in-process client
    await upstream.close()
    assert replay.closed


# ----------------------------------------------------------------------------------------------- sync


@pytest.mark.parametrize("streamed", [False, True], ids=["create", "stream"])
def test_sync_client(upstream: FakeUpstream, url: str, streamed: bool) -> None:
    upstream.reset(*tool_then_answer())
    threads = threading.active_count()
    with responses_client_sync(url, api_key="sk-sync") as client:
        if streamed:
            with client.responses.stream(model="m", input="Weather?", tools=TOOLS) as stream:
                first = stream.get_final_response()
            with client.responses.stream(
                model="m", input=[function_output(first)], previous_response_id=first.id
            ) as stream:
                second = stream.get_final_response()
        else:
            first = client.responses.create(model="m", input="Weather?", tools=TOOLS)
            second = client.responses.create(
                model="m", input=[function_output(first)], previous_response_id=first.id
            )
        assert [m.id for m in client.models.list()] == ["fake-model"]
    assert second.output_text == ANSWER
    assert_tool_turn_upstream(upstream, streamed)
    assert threading.active_count() == threads  # close() stopped the client's event loop thread
    with pytest.raises((RuntimeError, openai.OpenAIError)) as info:  # openai 2 wraps httpx's error
        client.responses.create(model="m", input="hi")
    assert "closed" in f"{info.value} {info.value.__cause__}"


def test_sync_early_close_cancels_the_upstream(upstream: FakeUpstream, url: str) -> None:
    upstream.reset(StreamTurn(fixture("llamacpp/gptoss20b_text_timings"), delay=0.1))
    with responses_client_sync(url) as client:
        stream = client.responses.create(model="m", input="hi", stream=True)
        for event in stream:
            if event.type == "response.output_text.delta":
                break
        stream.close()
        assert upstream.served[0].closed_early.wait(5)


def test_logs_nothing_at_warning_for_a_normal_exchange(
    upstream: FakeUpstream, url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    upstream.reset(*tool_then_answer())
    with responses_client_sync(url) as client:
        client.responses.create(model="m", input="hi", tools=TOOLS)
    assert caplog.records == []


async def test_a_store_that_cannot_open_is_a_clear_error(url: str, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    path = tmp_path / "a-file" / "responses.sqlite3"
    async with responses_client(url, store="sqlite", store_path=path) as client:
        with pytest.raises(openai.OpenAIError, match="startup failed"):
            await client.responses.create(model="m", input="hi")
