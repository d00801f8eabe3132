"""Open Responses compliance of the bridge's HTTP face: the response object's required fields and their
types, exact echoes of tools and text formats, and ``POST /v1/responses/compact``.

The required fields below are the Open Responses ``ResponseResource`` schema's (every one required; the
nullable ones may be null). The bridge runs under uvicorn on 127.0.0.1 over a fake Chat Completions upstream
that answers plausibly (`plausible_upstream`).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import openai
import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from fake_upstream import FakeUpstream, StreamTurn, fixture, running_bridge, running_upstream
from plausible_upstream import plausible

pytestmark = pytest.mark.anyio

Json = dict[str, Any]

NUMBER, INTEGER, STRING, BOOL = (int, float), (int,), (str,), (bool,)
# field → (accepted types, nullable)
REQUIRED_FIELDS: dict[str, tuple[tuple[type, ...], bool]] = {
    "id": (STRING, False),
    "object": (STRING, False),
    "created_at": (INTEGER, False),
    "completed_at": (INTEGER, True),
    "status": (STRING, False),
    "incomplete_details": ((dict,), True),
    "model": (STRING, False),
    "previous_response_id": (STRING, True),
    "instructions": (STRING, True),
    "output": ((list,), False),
    "error": ((dict,), True),
    "tools": ((list,), False),
    "tool_choice": ((str, dict), False),
    "truncation": (STRING, False),
    "parallel_tool_calls": (BOOL, False),
    "text": ((dict,), False),
    "top_p": (NUMBER, False),
    "presence_penalty": (NUMBER, False),
    "frequency_penalty": (NUMBER, False),
    "top_logprobs": (INTEGER, False),
    "temperature": (NUMBER, False),
    "reasoning": ((dict,), True),
    "usage": ((dict,), True),
    "max_output_tokens": (INTEGER, True),
    "max_tool_calls": (INTEGER, True),
    "store": (BOOL, False),
    "background": (BOOL, False),
    "service_tier": (STRING, False),
    "metadata": ((dict,), False),
    "safety_identifier": (STRING, True),
    "prompt_cache_key": (STRING, True),
}


def spec_violations(response: Json) -> list[str]:
    """Each required field missing or of the wrong type (bool is not a number here)."""
    problems = []
    for key, (kinds, nullable) in REQUIRED_FIELDS.items():
        if key not in response:
            problems.append(f"{key}: missing")
            continue
        value = response[key]
        if value is None:
            if not nullable:
                problems.append(f"{key}: null")
        elif not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            problems.append(f"{key}: {type(value).__name__}")
    return problems


@pytest.fixture(scope="module")
def upstream_server() -> Iterator[tuple[FakeUpstream, str]]:
    with running_upstream() as served:
        yield served


@pytest.fixture
def upstream(upstream_server: tuple[FakeUpstream, str]) -> FakeUpstream:
    return upstream_server[0].reset(responder=plausible)


@pytest.fixture(scope="module")
def bridge(upstream_server: tuple[FakeUpstream, str]) -> Iterator[str]:
    with running_bridge(upstream_server[1]) as url:
        yield url


@pytest.fixture
async def http(bridge: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=bridge, timeout=30, headers={"authorization": "Bearer k"}) as raw:
        yield raw


def sse_events(body: bytes) -> list[Json]:
    return [
        json.loads(line.removeprefix("data: "))
        for line in body.decode().splitlines()
        if line.startswith("data: ")
    ]


WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Get the weather",
    "parameters": {
        "type": "object",
        "properties": {"location": {"type": "string"}},
        "required": ["location"],
    },
}


# ------------------------------------------------------------------------------------------ required fields


async def test_a_plain_response_has_every_required_field(
    upstream: FakeUpstream, http: httpx.AsyncClient
) -> None:
    response = (await http.post("/responses", json={"model": "m", "input": "hi"})).json()
    assert spec_violations(response) == []
    assert response["status"] == "completed"
    assert response["completed_at"] >= response["created_at"]
    # Nothing sent: the OpenAI defaults, and null for what has none.
    assert (response["temperature"], response["top_p"]) == (1.0, 1.0)
    assert (response["presence_penalty"], response["frequency_penalty"], response["top_logprobs"]) == (
        0,
        0,
        0,
    )
    assert response["max_tool_calls"] is response["safety_identifier"] is response["prompt_cache_key"] is None
    assert response["service_tier"] == "default"
    assert response["reasoning"] == {"effort": None, "summary": None}
    assert response["text"] == {"format": {"type": "text"}}


async def test_every_streamed_response_object_has_every_required_field(
    upstream: FakeUpstream, http: httpx.AsyncClient
) -> None:
    reply = await http.post("/responses", json={"model": "m", "input": "hi", "stream": True})
    events = sse_events(reply.content)
    responses = [event["response"] for event in events if "response" in event]
    assert [event["type"] for event in events if "response" in event] == [
        "response.created",
        "response.in_progress",
        "response.completed",
    ]
    assert all(spec_violations(response) == [] for response in responses)
    assert [r["completed_at"] is None for r in responses] == [True, True, False]


async def test_a_failed_response_has_every_required_field_and_no_completed_at(
    upstream: FakeUpstream, http: httpx.AsyncClient
) -> None:
    upstream.reset(StreamTurn(fixture("openai/parallel_tool_calls_two"), cut_after=3))
    reply = await http.post("/responses", json={"model": "m", "input": "hi", "stream": True})
    terminal = sse_events(reply.content)[-1]
    assert terminal["type"] == "response.failed"
    assert spec_violations(terminal["response"]) == []
    assert terminal["response"]["completed_at"] is None


async def test_sent_values_are_echoed_and_penalties_reach_the_upstream(
    upstream: FakeUpstream, http: httpx.AsyncClient
) -> None:
    sent = {
        "temperature": 0.5,
        "top_p": 0.9,
        "presence_penalty": 0.25,
        "frequency_penalty": -0.5,
        "top_logprobs": 2,
        "max_tool_calls": 3,
        "safety_identifier": "user-42",
        "prompt_cache_key": "cache-1",
        "reasoning": {"effort": "low"},
    }
    response = (await http.post("/responses", json={"model": "m", "input": "hi", **sent})).json()
    assert spec_violations(response) == []
    assert {key: response[key] for key in sent if key != "reasoning"} == {
        k: v for k, v in sent.items() if k != "reasoning"
    }
    assert response["reasoning"] == {"effort": "low", "summary": None}
    body = upstream.bodies[-1]
    assert (body["presence_penalty"], body["frequency_penalty"]) == (0.25, -0.5)
    assert "safety_identifier" not in body
    assert "prompt_cache_key" not in body
    assert "max_tool_calls" not in body


@pytest.mark.parametrize(
    ("field", "value"),
    [("presence_penalty", 3), ("frequency_penalty", "high"), ("max_tool_calls", 0), ("temperature", True)],
)
async def test_bad_sampling_values_are_a_400_naming_the_field(
    upstream: FakeUpstream, http: httpx.AsyncClient, field: str, value: Any
) -> None:
    reply = await http.post("/responses", json={"model": "m", "input": "hi", field: value})
    assert reply.status_code == 400
    assert reply.json()["error"]["param"] == field
    assert upstream.bodies == []


# ------------------------------------------------------------------------------------------ exact echoes


async def test_function_tools_are_echoed_in_the_spec_shape(
    upstream: FakeUpstream, http: httpx.AsyncClient
) -> None:
    strict_tool = {**WEATHER_TOOL, "name": "strict_one", "strict": True}
    bare_tool = {"type": "function", "name": "bare"}
    body = {"model": "m", "input": "weather?", "tools": [WEATHER_TOOL, strict_tool, bare_tool]}
    response = (await http.post("/responses", json=body)).json()
    assert spec_violations(response) == []
    assert response["tools"] == [
        {**WEATHER_TOOL, "strict": False},
        strict_tool,
        {"type": "function", "name": "bare", "description": None, "parameters": None, "strict": False},
    ]
    assert [item["type"] for item in response["output"]] == ["function_call"]
    # strict reaches the upstream only when true, as before
    assert [tool["function"].get("strict") for tool in upstream.bodies[-1]["tools"]] == [None, True, None]


async def test_a_json_schema_format_is_echoed_in_the_spec_shape(
    upstream: FakeUpstream, http: httpx.AsyncClient
) -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    fmt = {"type": "json_schema", "name": "place", "schema": schema}
    response = (
        await http.post("/responses", json={"model": "m", "input": "x", "text": {"format": fmt}})
    ).json()
    assert response["text"] == {
        "format": {
            "type": "json_schema",
            "name": "place",
            "description": None,
            "schema": schema,
            "strict": False,
        }
    }
    assert json.loads(response["output"][0]["content"][0]["text"]) == {"city": "San Francisco, CA"}
    strict = {**fmt, "strict": True, "description": "a place"}
    response = (
        await http.post("/responses", json={"model": "m", "input": "x", "text": {"format": strict}})
    ).json()
    assert response["text"]["format"] == strict
    assert upstream.bodies[-1]["response_format"]["json_schema"]["strict"] is True


async def test_the_openai_sdk_reads_the_shaped_response(upstream: FakeUpstream, bridge: str) -> None:
    async with openai.AsyncOpenAI(base_url=bridge, api_key="k", max_retries=0) as client:
        response = await client.responses.create(model="m", input="hi", tools=[WEATHER_TOOL])  # type: ignore[list-item]
    assert response.completed_at is not None
    assert response.tools[0].type == "function"
    assert response.tools[0].strict is False
    assert response.output[0].type == "function_call"
