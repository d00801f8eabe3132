"""Every error path of the Responses server, against real HTTP on 127.0.0.1.

Before a stream: malformed or invalid requests are 400s naming the ``param``; an upstream HTTP error keeps
its status code and message; an unreachable upstream is a 502, a silent one a 504 — all in the OpenAI error
format, so the openai SDK raises its usual exceptions. During a stream: an upstream cut, an error event, a
vLLM abort or a read timeout end in ``response.failed``. A client that goes away closes the upstream
request at once, streamed or not, before or after the upstream's headers.
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import AsyncIterator, Iterator
from functools import partial
from typing import Any

import anyio
import httpx
import openai
import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from fake_upstream import (
    CompletionTurn,
    ErrorTurn,
    FakeUpstream,
    Hang,
    StreamTurn,
    fixture,
    running_bridge,
)

pytestmark = pytest.mark.anyio

TEXT = "llamacpp/gptoss20b_text_timings"


@pytest.fixture
def upstream(upstream_server: tuple[FakeUpstream, str]) -> FakeUpstream:
    return upstream_server[0].reset()


@pytest.fixture(scope="module")
def bridge(upstream_server: tuple[FakeUpstream, str]) -> Iterator[str]:
    with running_bridge(upstream_server[1], max_body_bytes=64 * 1024, read_timeout=1.0) as url:
        yield url


@pytest.fixture
async def http(bridge: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=bridge, timeout=30) as raw:
        yield raw


@pytest.fixture
async def client(bridge: str) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(base_url=bridge, api_key="sk-client", max_retries=0) as sdk:
        yield sdk


def events_of(body: bytes) -> list[dict[str, Any]]:
    return [json.loads(line[6:]) for line in body.decode().splitlines() if line.startswith("data: ")]


def assert_error(
    response: httpx.Response, status: int, *, param: str | None = None, code: str | None = None
) -> str:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["param"] == param
    if code is not None:
        assert error["code"] == code
    return str(error["message"])


# ------------------------------------------------------------------------------------------------------ 400s


async def test_malformed_json_is_a_400(upstream: FakeUpstream, http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/responses", content=b'{"model": "m", "input": ', headers={"content-type": "application/json"}
    )
    assert "not valid JSON" in assert_error(response, 400, code="invalid_json")
    assert_error(await http.post("/responses", content=b"[1, 2]"), 400, code="invalid_type")
    assert_error(await http.post("/responses", content=b"\xff\xfe"), 400, code="invalid_json")
    assert upstream.served == []


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"input": "hi"}, "model"),
        ({"model": "m"}, "input"),
        ({"model": "m", "input": 3}, "input"),
        ({"model": "m", "input": "hi", "temperature": "hot"}, "temperature"),
        ({"model": "m", "input": "hi", "temperature": 9}, "temperature"),
        ({"model": "m", "input": "hi", "stream": "yes"}, "stream"),
        ({"model": "m", "input": "hi", "max_output_tokens": 0}, "max_output_tokens"),
        ({"model": "m", "input": "hi", "metadata": {"k": 1}}, "metadata"),
        ({"model": "m", "input": [{"role": "robot", "content": "x"}]}, "input[0].role"),
        ({"model": "m", "input": ["x"]}, "input[0]"),
        (
            {"model": "m", "input": [{"type": "function_call", "call_id": "c", "arguments": "{}"}]},
            "input[0].name",
        ),
        (
            {"model": "m", "input": [{"type": "function_call_output", "call_id": "c", "output": 3}]},
            "input[0].output",
        ),
        ({"model": "m", "input": "hi", "tools": {"type": "function"}}, "tools"),
        ({"model": "m", "input": "hi", "tools": [{"type": "function"}]}, "tools[0].name"),
        ({"model": "m", "input": "hi", "tool_choice": "sometimes"}, "tool_choice"),
        ({"model": "m", "input": "hi", "text": {"format": {"type": "yaml"}}}, "text.format.type"),
        ({"model": "m", "input": "hi", "background": True}, "background"),
        ({"model": "m", "input": "hi", "conversation": "conv_1"}, "conversation"),
    ],
)
async def test_invalid_fields_are_400s_naming_the_param(
    upstream: FakeUpstream, http: httpx.AsyncClient, body: dict[str, Any], param: str
) -> None:
    assert_error(await http.post("/responses", json=body), 400, param=param)
    assert upstream.served == []


async def test_sdk_raises_bad_request(client: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await client.responses.create(model="m", input="hi", temperature=7)
    assert caught.value.param == "temperature"


async def test_body_size_limit(upstream: FakeUpstream, http: httpx.AsyncClient) -> None:
    big = {"model": "m", "input": "x" * 70_000}
    assert_error(await http.post("/responses", json=big), 413, code="body_too_large")

    async def chunked() -> AsyncIterator[bytes]:  # no content-length: the limit holds while reading
        yield json.dumps(big).encode()

    assert_error(await http.post("/responses", content=chunked()), 413, code="body_too_large")
    assert upstream.served == []


async def test_unknown_ids_routes_and_methods(client: openai.AsyncOpenAI, http: httpx.AsyncClient) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        await client.responses.create(model="m", input="hi", previous_response_id="resp_nope")
    assert caught.value.param == "previous_response_id"
    assert_error(await http.get("/responses/resp_nope"), 404, code="response_not_found")
    assert_error(await http.delete("/responses/resp_nope"), 404, code="response_not_found")
    assert_error(await http.get("/nowhere"), 404)
    assert_error(await http.put("/responses"), 405)


# ------------------------------------------------------------------------------------------- upstream errors


async def test_upstream_http_errors_keep_their_status(
    upstream: FakeUpstream, client: openai.AsyncOpenAI
) -> None:
    limited = {"error": {"message": "slow down", "type": "rate_limit", "code": "rate_limit_exceeded"}}
    upstream.reset(
        ErrorTurn(429, limited),
        ErrorTurn(400, {"error": "context too long"}),  # Ollama's shape
        ErrorTurn(503, {"detail": "loading"}),
    )
    with pytest.raises(openai.RateLimitError) as rate:
        await client.responses.create(model="m", input="hi", stream=True)
    # openai 3 gives the message itself, openai 2 "Error code: 429 - {...}": the body is what we check.
    assert isinstance(rate.value.body, dict)
    assert rate.value.body.get("message", rate.value.body.get("error", {}).get("message")) == "slow down"
    assert rate.value.code == "rate_limit_exceeded"
    with pytest.raises(openai.BadRequestError, match="context too long"):
        await client.responses.create(model="m", input="hi")
    with pytest.raises(openai.InternalServerError) as unavailable:
        await client.responses.create(model="m", input="hi", stream=True)
    assert unavailable.value.status_code == 503
    assert 'upstream returned HTTP 503: {"detail": "loading"}' in unavailable.value.message


async def test_unreachable_upstream_is_a_502() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    with running_bridge(f"http://127.0.0.1:{closed_port}") as bridge:
        async with httpx.AsyncClient(base_url=bridge) as http:
            for stream in (True, False):
                response = await http.post("/responses", json={"model": "m", "input": "hi", "stream": stream})
                assert "upstream unreachable" in assert_error(response, 502)
            assert_error(await http.get("/models"), 502)


async def test_silent_upstream_is_a_504(upstream: FakeUpstream, http: httpx.AsyncClient) -> None:
    upstream.reset(Hang(headers_first=False))
    response = await http.post("/responses", json={"model": "m", "input": "hi", "stream": True})
    assert_error(response, 504, code="timeout")


async def test_failed_non_streamed_completion_is_a_502(
    upstream: FakeUpstream, http: httpx.AsyncClient
) -> None:
    upstream.reset(CompletionTurn({"error": {"message": "model crashed", "code": 500}}))
    response = await http.post("/responses", json={"model": "m", "input": "hi"})
    assert "model crashed" in assert_error(response, 502)


# --------------------------------------------------------------------------------------- failures mid-stream


def abort_stream() -> list[dict[str, Any]]:
    """A recorded vLLM stream whose last finish_reason is ``abort`` (vLLM dropped the request)."""
    chunks = fixture("vllm/crusoe_llama33_token_ids")
    finishing = [c for c in chunks if c.get("choices") and c["choices"][0].get("finish_reason")]
    finishing[-1]["choices"][0]["finish_reason"] = "abort"
    return chunks


@pytest.mark.parametrize(
    ("turn", "message"),
    [
        (StreamTurn(fixture(TEXT), cut_after=10), "upstream stream broke"),
        (StreamTurn(fixture("groq/gptoss_error_event_midstream")), "tool_use_failed"),
        (StreamTurn(abort_stream()), "abort"),
        (Hang(headers_first=True), "ReadTimeout"),
        (CompletionTurn({"error": {"message": "overloaded"}}), "overloaded"),  # JSON where SSE was asked
    ],
    ids=["cut", "error-event", "vllm-abort", "read-timeout", "json-error-body"],
)
async def test_mid_stream_failures_end_in_response_failed(
    upstream: FakeUpstream, http: httpx.AsyncClient, turn: Any, message: str
) -> None:
    upstream.reset(turn)
    response = await http.post("/responses", json={"model": "m", "input": "hi", "stream": True})
    assert response.status_code == 200
    events = events_of(response.content)
    assert [e["type"] for e in events].count("response.failed") == 1
    assert events[-1]["type"] == "response.failed"
    assert message in events[-1]["response"]["error"]["message"]


async def test_json_completion_where_a_stream_was_asked(
    upstream: FakeUpstream, client: openai.AsyncOpenAI
) -> None:
    completion = {
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "plain"}, "finish_reason": "stop"}
        ]
    }
    upstream.reset(CompletionTurn(completion))
    async with client.responses.stream(model="m", input="hi") as stream:
        final = await stream.get_final_response()
    assert final.output_text == "plain"


# ---------------------------------------------------------------------------------------- client disconnects


async def test_client_disconnect_mid_stream_closes_the_upstream(
    upstream: FakeUpstream, http: httpx.AsyncClient
) -> None:
    upstream.reset(StreamTurn(fixture(TEXT) * 20, delay=0.05))  # ~50 s if read to the end
    async with http.stream(
        "POST", "/responses", json={"model": "m", "input": "hi", "stream": True}
    ) as response:
        async for line in response.aiter_lines():
            if "delta" in line:  # the upstream is streaming: leave now
                break
    with anyio.fail_after(5):
        while not upstream.served[0].closed_early.is_set():
            await anyio.sleep(0.02)
    assert upstream.served[0].chunks_sent < 200


@pytest.mark.parametrize("stream", [True, False])
async def test_client_disconnect_while_upstream_thinks(
    upstream: FakeUpstream, http: httpx.AsyncClient, stream: bool
) -> None:
    """No upstream header yet (a long prefill): the client leaving still cancels the upstream request."""
    upstream.reset(Hang(headers_first=False))
    body = {"model": "m", "input": "hi", "stream": stream}
    async with anyio.create_task_group() as group:
        group.start_soon(partial(http.post, "/responses", json=body))
        with anyio.fail_after(5):
            while not upstream.served:  # the request reached the upstream, which stays silent
                await anyio.sleep(0.01)
        group.cancel_scope.cancel()  # the client gives up: its connection closes
    with anyio.fail_after(5):
        while not upstream.served[0].closed_early.is_set():
            await anyio.sleep(0.02)


# ------------------------------------------------------------------------------------------------------ keys


async def test_keys_are_never_logged(
    upstream_server: tuple[FakeUpstream, str], caplog: pytest.LogCaptureFixture
) -> None:
    upstream, url = upstream_server
    upstream.reset(StreamTurn(fixture(TEXT)), ErrorTurn(401, {"error": {"message": "bad key"}}))
    caplog.set_level(logging.DEBUG)
    with running_bridge(url, upstream_api_key="sk-upstream-secret", api_key="sk-inbound-secret") as bridge:
        headers = {"authorization": "Bearer sk-inbound-secret"}
        async with httpx.AsyncClient(base_url=bridge, headers=headers) as http:
            await http.post(
                "/responses",
                json={"model": "m", "input": "hi", "stream": True, "tools": [{"type": "web_search"}]},
            )
            assert_error(await http.post("/responses", json={"model": "m", "input": "hi"}), 401)
            await http.post(
                "/responses", json={"model": "m", "input": "hi"}, headers={"authorization": "Bearer sk-guess"}
            )
    assert "web_search" in caplog.text  # the log does say what was dropped
    assert "secret" not in caplog.text
    assert "sk-guess" not in caplog.text
