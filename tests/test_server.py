"""The Responses server end to end: real clients → the server (uvicorn, 127.0.0.1) → a fake upstream replaying
recorded Chat Completions streams over real HTTP.

Clients: the openai SDK (``responses.stream()``, ``responses.create()`` streamed and not) and raw httpx for
the wire details (SSE framing, headers, the exact upstream request).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import openai
import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from chat_to_responses import read_chunk_file
from chat_to_responses.server import (
    DROPPED_HEADER,
    ServerConfig,
    add_serve_command,
    create_app,
)
from chat_to_responses.testing import check_stream
from fake_upstream import (
    CompletionTurn,
    FakeUpstream,
    StreamTurn,
    completion_from_chunks,
    fixture,
    retarget_tool_call,
    retext,
    running_bridge,
    serving,
)

pytestmark = pytest.mark.anyio

TEXT = "llamacpp/gptoss20b_text_timings"
TOOL = "llamacpp/gptoss20b_reasoning_tool_timings"
PARALLEL = "openai/parallel_tool_calls_two"


@pytest.fixture
def upstream(upstream_server: tuple[FakeUpstream, str]) -> FakeUpstream:
    return upstream_server[0].reset()


@pytest.fixture(scope="module")
def bridge(upstream_server: tuple[FakeUpstream, str]) -> Iterator[str]:
    with running_bridge(upstream_server[1]) as url:
        yield url


@pytest.fixture
async def client(bridge: str) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(base_url=bridge, api_key="sk-client", max_retries=0) as sdk:
        yield sdk


@pytest.fixture
async def http(bridge: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=bridge, timeout=30, headers={"authorization": "Bearer sk-client"}
    ) as raw:
        yield raw


def parse_sse(body: bytes) -> list[dict[str, Any]]:
    """The events of a Responses SSE body, checking each frame's ``event:`` is its JSON ``type``."""
    events = []
    for frame in body.decode().split("\n\n"):
        if not frame.strip():
            continue
        event_line, data_line = frame.split("\n")
        event = json.loads(data_line.removeprefix("data: "))
        assert event_line == f"event: {event['type']}"
        events.append(event)
    return events


async def post_stream(
    http: httpx.AsyncClient, body: dict[str, Any]
) -> tuple[httpx.Response, list[dict[str, Any]]]:
    response = await http.post("/responses", json={"model": "m", "stream": True, **body})
    return response, parse_sse(response.content)


# -------------------------------------------------------------------------------------------- the openai SDK


async def test_sdk_responses_stream(upstream: FakeUpstream, client: openai.AsyncOpenAI) -> None:
    upstream.reset(StreamTurn(fixture(TEXT)))
    async with client.responses.stream(model="gpt-oss", input="Say hi in Portuguese") as stream:
        types = [event.type async for event in stream]
        final = await stream.get_final_response()
    assert final.status == "completed"
    assert final.output_text == "Olá!"
    assert final.output[0].type == "reasoning"
    assert final.usage is not None
    assert final.usage.output_tokens == 57
    assert types[:2] == ["response.created", "response.in_progress"]
    assert types[-1] == "response.completed"
    assert "response.output_item.done" in types
    assert upstream.bodies[0]["stream"] is True
    assert upstream.bodies[0]["stream_options"] == {"include_usage": True}
    assert upstream.served[0].headers["authorization"] == "Bearer sk-client"  # passed through


async def test_sdk_create_streamed_tool_calls(upstream: FakeUpstream, client: openai.AsyncOpenAI) -> None:
    upstream.reset(StreamTurn(fixture(PARALLEL)))
    events = [event async for event in await client.responses.create(model="m", input="go", stream=True)]
    final = events[-1]
    assert final.type == "response.completed"
    calls = [item for item in final.response.output if item.type == "function_call"]
    assert [call.name for call in calls] == ["GetWeatherArgs", "get_stock_price"]
    assert len({call.call_id for call in calls}) == 2
    assert check_stream(events) == []


async def test_sdk_create_not_streamed(upstream: FakeUpstream, client: openai.AsyncOpenAI) -> None:
    upstream.reset(CompletionTurn(completion_from_chunks(fixture(TOOL))))
    response = await client.responses.create(model="m", input="weather in Florence?")
    assert response.status == "completed"
    assert response.id.startswith("resp_")
    reasoning, call = response.output
    assert reasoning.type == "reasoning"
    assert call.type == "function_call"
    assert (call.name, call.arguments) == ("weather", '{"location":"Florence, Italy"}')
    assert "stream" not in upstream.bodies[0]


async def test_stream_frames_follow_the_rules(upstream: FakeUpstream, http: httpx.AsyncClient) -> None:
    upstream.reset(StreamTurn(fixture(TOOL)))
    response, events = await post_stream(http, {"input": "weather?"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    frames = [f + "\n\n" for f in response.text.split("\n\n") if f]
    assert check_stream(events, sse_frames=frames) == []
    assert events[-1]["type"] == "response.completed"


async def test_whole_frames_per_write(upstream_server: tuple[FakeUpstream, str]) -> None:
    """Each ASGI body message holds whole frames (a proxy or client never waits for a half frame), and the
    frames of one upstream read share a message (one write, not one per event)."""
    upstream, url = upstream_server
    upstream.reset(StreamTurn(fixture(TEXT)))
    app = create_app(ServerConfig(upstream=f"{url}/v1", store="memory"))
    body = json.dumps({"model": "m", "input": "hi", "stream": True}).encode()
    sent: list[dict[str, Any]] = []
    inbox = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        if inbox:
            return inbox.pop()
        await anyio.sleep_forever()
        raise AssertionError

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/v1/responses", "headers": [], "query_string": b""}
    async with app.router.lifespan_context(app):
        await app({**scope, "app": app}, receive, send)
    bodies = [m["body"] for m in sent if m["type"] == "http.response.body" and m["body"]]
    assert all(b.startswith(b"event: ") and b.endswith(b"\n\n") for b in bodies)
    frames = [parse_sse(b) for b in bodies]
    assert all(len(f) == b.count(b"\n\n") for f, b in zip(frames, bodies, strict=True))
    assert len(bodies) < sum(map(len, frames))


async def test_events_are_not_held_back(upstream: FakeUpstream, http: httpx.AsyncClient) -> None:
    """Writing frames together never waits for more upstream input: a delta reaches the client while the
    upstream is still streaming."""
    chunks = fixture(TEXT)
    upstream.reset(StreamTurn(chunks, delay=0.03))
    sent_at_first_delta = None
    async with http.stream(
        "POST", "/responses", json={"model": "m", "input": "hi", "stream": True}
    ) as response:
        async for line in response.aiter_lines():
            if sent_at_first_delta is None and "output_text.delta" in line:
                sent_at_first_delta = upstream.served[0].chunks_sent
    assert sent_at_first_delta is not None
    assert sent_at_first_delta < len(chunks) - 2


# ---------------------------------------------------------------------------------------- request conversion


CODEX_LIKE = {
    "model": "m",
    "stream": True,
    "instructions": "Be brief.",
    "input": [
        {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "dev one"}]},
        {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "dev two"}]},
        {
            "type": "message",
            "role": "user",
            "content": [
                {"type": "input_text", "text": "look"},
                {"type": "input_image", "image_url": "data:image/png;base64,AAAA", "detail": "low"},
                {"type": "input_file", "file_data": "data:application/pdf;base64,AAAA", "filename": "a.pdf"},
            ],
        },
        {
            "type": "reasoning",
            "summary": [{"type": "summary_text", "text": "thinking"}],
            "encrypted_content": None,
        },
        {"type": "function_call", "call_id": "c1", "name": "exec_command", "arguments": '{"cmd":"ls"}'},
        {
            "type": "function_call",
            "call_id": "c2",
            "name": "spawn_agent",
            "namespace": "multi_agent_v1",
            "arguments": "{}",
        },
        {"type": "function_call_output", "call_id": "c1", "output": "a.txt"},
        {
            "type": "function_call_output",
            "call_id": "c2",
            "output": [{"type": "input_text", "text": "spawned"}],
        },
        {"type": "message", "role": "system", "content": "late system"},
        {"type": "message", "role": "user", "content": "next"},
    ],
    "tools": [
        {"type": "function", "name": "exec_command", "parameters": {"type": "object"}, "strict": False},
        {
            "type": "namespace",
            "name": "multi_agent_v1",
            "description": "agents",
            "tools": [{"type": "function", "name": "spawn_agent", "description": "spawn", "parameters": {}}],
        },
        {"type": "web_search", "external_web_access": False},
        {"type": "custom", "name": "apply_patch", "format": {"type": "text"}},
    ],
    "tool_choice": "auto",
    "parallel_tool_calls": True,
    "reasoning": {"effort": "high", "summary": "auto"},
    "store": False,
    "include": ["reasoning.encrypted_content"],
    "prompt_cache_key": "cache-1",
    "client_metadata": {"x": "y"},
    "text": {"format": {"type": "json_schema", "name": "out", "schema": {"type": "object"}, "strict": True}},
    "max_output_tokens": 321,
    "temperature": 0.5,
    "top_p": 0.9,
    "metadata": {"k": "v"},
}


async def test_request_conversion(upstream: FakeUpstream, http: httpx.AsyncClient) -> None:
    upstream.reset(StreamTurn(fixture(TEXT)))
    response, events = await post_stream(http, CODEX_LIKE)
    assert response.status_code == 200, response.text
    sent = upstream.bodies[0]
    messages = sent["messages"]
    assert messages[0] == {"role": "system", "content": "Be brief.\n\ndev one\n\ndev two\n\nlate system"}
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "tool", "tool", "user"]
    assert [p["type"] for p in messages[1]["content"]] == ["text", "image_url", "file"]
    assistant = messages[2]
    assert [c["function"]["name"] for c in assistant["tool_calls"]] == [
        "exec_command",
        "multi_agent_v1__spawn_agent",
    ]
    assert assistant["reasoning_content"] == "thinking"
    assert messages[4] == {"role": "tool", "tool_call_id": "c2", "content": "spawned"}
    names = [t["function"]["name"] for t in sent["tools"]]
    assert names == ["exec_command", "multi_agent_v1__spawn_agent", "apply_patch"]
    assert "strict" not in sent["tools"][0]["function"]
    assert sent["tool_choice"] == "auto"
    assert sent["parallel_tool_calls"] is True
    assert sent["response_format"]["json_schema"]["name"] == "out"
    assert sent["max_tokens"] == 321
    assert sent["temperature"] == 0.5
    assert sent["top_p"] == 0.9
    assert sent["reasoning_effort"] == "high"
    for private in ("metadata", "store", "include", "prompt_cache_key", "client_metadata", "instructions"):
        assert private not in sent
    dropped = response.headers[DROPPED_HEADER]
    assert "web_search" in dropped
    assert "apply_patch" not in dropped  # a custom tool is run by the client: kept, as a function
    created = events[0]["response"]
    assert created["metadata"] == {"k": "v"}
    assert created["store"] is False
    assert created["prompt_cache_key"] == "cache-1"
    assert created["instructions"] == "Be brief."


async def test_reasoning_signatures_survive_a_stateless_replay(
    upstream: FakeUpstream, client: openai.AsyncOpenAI
) -> None:
    """A Gemini thought signature goes out in a reasoning item's encrypted_content and comes back upstream
    on its tool call when the client replays the output (as Codex and the Agents SDK do)."""
    upstream.reset(
        StreamTurn(fixture("google/gemini3_tool_call_thought_signature_extra_content")),
        StreamTurn(fixture(TEXT)),
    )
    first = await client.responses.create(model="gemini", input="weather?", store=False)
    reasoning = next(item for item in first.output if item.type == "reasoning")
    assert (reasoning.encrypted_content or "").startswith("c2r1.")
    call = next(item for item in first.output if item.type == "function_call")
    replay = [
        {"role": "user", "content": "weather?"},
        *(item.model_dump(exclude_none=True) for item in first.output),
        {"type": "function_call_output", "call_id": call.call_id, "output": "sunny"},
    ]
    await client.responses.create(model="gemini", input=replay, store=False)
    assistant = upstream.bodies[1]["messages"][1]
    assert assistant["tool_calls"][0]["extra_content"]["google"]["thought_signature"]


async def test_no_tools_sends_no_tool_fields(upstream: FakeUpstream, http: httpx.AsyncClient) -> None:
    upstream.reset(StreamTurn(fixture(TEXT)))
    await post_stream(http, {"input": "hi", "tools": [{"type": "web_search"}], "parallel_tool_calls": False})
    assert not {"tools", "tool_choice", "parallel_tool_calls"} & set(upstream.bodies[0])


async def test_namespace_calls_come_back_with_their_namespace(
    upstream: FakeUpstream, http: httpx.AsyncClient
) -> None:
    tools = CODEX_LIKE["tools"]
    call = retarget_tool_call(fixture(TOOL), "multi_agent_v1__spawn_agent", '{"task":"x"}')
    upstream.reset(StreamTurn(call), CompletionTurn(completion_from_chunks(call)))
    _, events = await post_stream(http, {"input": "spawn", "tools": tools})
    named = [e for e in events if e["type"] in ("response.output_item.added", "response.output_item.done")]
    calls = [e["item"] for e in named if e["item"]["type"] == "function_call"]
    assert len(calls) == 2
    assert all((c["name"], c["namespace"]) == ("spawn_agent", "multi_agent_v1") for c in calls)
    done = next(e for e in events if e["type"] == "response.function_call_arguments.done")
    assert done["name"] == "spawn_agent"
    final_call = events[-1]["response"]["output"][-1]
    assert (final_call["name"], final_call["namespace"]) == ("spawn_agent", "multi_agent_v1")
    assert check_stream(events) == []

    plain = await http.post("/responses", json={"model": "m", "input": "spawn", "tools": tools})
    output_call = plain.json()["output"][-1]
    assert (output_call["name"], output_call["namespace"]) == ("spawn_agent", "multi_agent_v1")


async def test_tool_choice_function_and_allowed_tools(
    upstream: FakeUpstream, http: httpx.AsyncClient
) -> None:
    tools = CODEX_LIKE["tools"]
    upstream.reset(StreamTurn(fixture(TEXT)), StreamTurn(fixture(TEXT)))
    await post_stream(
        http, {"input": "x", "tools": tools, "tool_choice": {"type": "function", "name": "spawn_agent"}}
    )
    allowed = {
        "type": "allowed_tools",
        "mode": "required",
        "tools": [{"type": "function", "name": "exec_command"}],
    }
    await post_stream(http, {"input": "x", "tools": tools, "tool_choice": allowed})
    first, second = upstream.bodies
    assert first["tool_choice"] == {"type": "function", "function": {"name": "multi_agent_v1__spawn_agent"}}
    assert second["tool_choice"] == "required"
    assert [t["function"]["name"] for t in second["tools"]] == ["exec_command"]


# -------------------------------------------------------------------------------------- previous_response_id


async def test_previous_response_id_chain(upstream: FakeUpstream, client: openai.AsyncOpenAI) -> None:
    upstream.reset(
        StreamTurn(retext(fixture(TEXT), "Hello Ana.")),
        CompletionTurn(completion_from_chunks(retext(fixture(TEXT), "Your name is Ana."))),
        StreamTurn(fixture(TEXT)),
    )
    async with client.responses.stream(model="m", instructions="Be nice.", input="I am Ana.") as stream:
        first = await stream.get_final_response()
    second = await client.responses.create(model="m", input="Who am I?", previous_response_id=first.id)
    async with client.responses.stream(model="m", input="Thanks", previous_response_id=second.id) as stream:
        third = await stream.get_final_response()
    assert third.previous_response_id == second.id
    last = upstream.bodies[2]["messages"]
    assert [(m["role"], m["content"]) for m in last] == [
        ("user", "I am Ana."),  # instructions are not carried over, as on the real API
        ("assistant", "Hello Ana."),
        ("user", "Who am I?"),
        ("assistant", "Your name is Ana."),
        ("user", "Thanks"),
    ]
    fetched = await client.responses.retrieve(second.id)
    assert fetched.output_text == "Your name is Ana."
    await client.responses.delete(second.id)
    with pytest.raises(openai.NotFoundError):
        await client.responses.retrieve(second.id)


async def test_store_false_keeps_nothing(upstream: FakeUpstream, client: openai.AsyncOpenAI) -> None:
    upstream.reset(StreamTurn(fixture(TEXT)))
    response = await client.responses.create(model="m", input="hi", store=False, stream=True)
    final = [event async for event in response][-1]
    with pytest.raises(openai.NotFoundError) as caught:
        await client.responses.retrieve(final.response.id)
    assert caught.value.body["code"] == "response_not_found"  # type: ignore[index]


async def test_sqlite_store_survives_a_restart(
    upstream_server: tuple[FakeUpstream, str], tmp_path: Path
) -> None:
    upstream, url = upstream_server
    upstream.reset(StreamTurn(fixture(TEXT)), StreamTurn(fixture(TEXT)))
    path = tmp_path / "state" / "responses.sqlite3"
    with running_bridge(url, store="sqlite", store_path=path) as bridge:
        async with openai.AsyncOpenAI(base_url=bridge, api_key="k", max_retries=0) as sdk:
            first = await sdk.responses.create(model="m", input="one")
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    with running_bridge(url, store="sqlite", store_path=path) as bridge:
        async with openai.AsyncOpenAI(base_url=bridge, api_key="k", max_retries=0) as sdk:
            await sdk.responses.create(model="m", input="two", previous_response_id=first.id)
    assert [m["content"] for m in upstream.bodies[1]["messages"]] == ["one", "Olá!", "two"]


# ---------------------------------------------------------------------------------------------- other routes


async def test_models_health_and_no_v1_prefix(
    upstream: FakeUpstream, bridge: str, http: httpx.AsyncClient
) -> None:
    models = await http.get("/models")
    assert models.status_code == 200
    assert models.json()["data"][0]["id"] == "fake-model"
    assert upstream.served[0].headers["authorization"] == "Bearer sk-client"
    root = bridge.removesuffix("/v1")
    async with httpx.AsyncClient(base_url=root) as plain:
        assert (await plain.get("/health")).json() == {"status": "ok"}
        upstream.reset(StreamTurn(fixture(TEXT)))
        response = await plain.post("/responses", json={"model": "m", "input": "hi"})
        assert response.json()["status"] == "completed"


async def test_server_side_key_and_inbound_key(upstream_server: tuple[FakeUpstream, str]) -> None:
    upstream, url = upstream_server
    upstream.reset(StreamTurn(fixture(TEXT)))
    with running_bridge(url, upstream_api_key="sk-upstream", api_key="sk-inbound") as bridge:
        async with openai.AsyncOpenAI(base_url=bridge, api_key="sk-wrong", max_retries=0) as wrong:
            with pytest.raises(openai.AuthenticationError):
                await wrong.responses.create(model="m", input="hi")
            with pytest.raises(openai.AuthenticationError):
                await wrong.models.list()
        async with openai.AsyncOpenAI(base_url=bridge, api_key="sk-inbound", max_retries=0) as right:
            response = await right.responses.create(model="m", input="hi")
    assert response.status == "completed"
    assert [s.headers["authorization"] for s in upstream.served] == ["Bearer sk-upstream"]


async def test_record_dir_saves_upstream_streams(
    upstream_server: tuple[FakeUpstream, str], tmp_path: Path
) -> None:
    upstream, url = upstream_server
    chunks = fixture(TOOL)
    upstream.reset(StreamTurn(chunks))
    with running_bridge(url, record_dir=tmp_path / "rec") as bridge:
        async with (
            openai.AsyncOpenAI(base_url=bridge, api_key="k", max_retries=0) as sdk,
            sdk.responses.stream(model="gpt-oss", input="weather?") as stream,
        ):
            await stream.get_final_response()
    (recorded,) = (tmp_path / "rec").glob("*.jsonl")
    assert recorded.name == "0001-gpt-oss.jsonl"
    assert read_chunk_file(recorded) == chunks


# ----------------------------------------------------------------------------------------------- the command


def test_serve_command_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    import argparse

    from chat_to_responses.server import config_from_args

    parser = argparse.ArgumentParser(prog="chat-to-responses")
    add_serve_command(parser.add_subparsers(dest="command"))
    monkeypatch.setenv("CHAT_TO_RESPONSES_UPSTREAM_API_KEY", "sk-up")
    args = parser.parse_args(["serve", "--upstream", "http://127.0.0.1:8000/v1", "--store", "memory"])
    assert (args.command, args.host, args.port) == ("serve", "127.0.0.1", 8080)
    config = config_from_args(args)
    assert config.upstream_api_key == "sk-up"
    assert config.api_key is None
    assert config.store == "memory"
    assert "sk-up" not in repr(config)


def test_serve_runs_as_a_process(upstream_server: tuple[FakeUpstream, str], tmp_path: Path) -> None:
    import socket

    upstream, url = upstream_server
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [
        sys.executable,
        "-m",
        "chat_to_responses.server",
        "--upstream",
        f"{url}/v1",
        "--port",
        str(port),
    ]
    command += ["--store-path", str(tmp_path / "r.sqlite3"), "--log-level", "warning"]
    with subprocess.Popen(command, stderr=subprocess.PIPE) as process:
        try:
            for _ in range(200):
                try:
                    health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
                    break
                except httpx.TransportError:
                    time.sleep(0.05)
            assert health.json() == {"status": "ok"}
            upstream.reset(StreamTurn(fixture(TEXT)))
            answer = httpx.post(f"http://127.0.0.1:{port}/v1/responses", json={"model": "m", "input": "hi"})
            assert answer.json()["output"][-1]["content"][0]["text"] == "Olá!"
        finally:
            process.terminate()
        # uvicorn shuts down gracefully, then re-raises the signal so the exit status tells what stopped it.
        assert process.wait(timeout=10) in (0, -signal.SIGTERM)


def test_serve_refuses_an_inbound_key_without_an_upstream_key(monkeypatch: pytest.MonkeyPatch) -> None:
    from chat_to_responses.server import main

    monkeypatch.setenv("CHAT_TO_RESPONSES_API_KEY", "sk-in")
    monkeypatch.delenv("CHAT_TO_RESPONSES_UPSTREAM_API_KEY", raising=False)
    assert main(["--upstream", "http://127.0.0.1:9/v1"]) == 2
    with pytest.raises(ValueError, match="http"):
        ServerConfig(upstream="file:///etc/passwd")


def test_app_serves_without_a_running_loop_fixture(upstream_server: tuple[FakeUpstream, str]) -> None:
    """create_app works under any ASGI server; here a second uvicorn, sync client, no anyio marker."""
    upstream, url = upstream_server
    upstream.reset(StreamTurn(fixture(TEXT)))
    with serving(create_app(ServerConfig(upstream=f"{url}/v1", store="none"))) as root:
        response = httpx.post(f"{root}/v1/responses", json={"model": "m", "input": "hi", "stream": True})
    assert parse_sse(response.content)[-1]["type"] == "response.completed"
