"""Open Responses compliance of the bridge's HTTP face: the response object's required fields and their
types, exact echoes of tools and text formats, and ``POST /v1/responses/compact``.

The required fields are the Open Responses ``ResponseResource`` schema's (``spec_shapes``). The bridge
runs under uvicorn on 127.0.0.1 over a fake Chat Completions upstream that answers plausibly
(`plausible_upstream`).
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

from chat_to_responses import decode_carriers
from chat_to_responses.testing import CompletionTurn, ErrorTurn
from fake_upstream import FakeUpstream, StreamTurn, fixture, running_bridge
from plausible_upstream import TEXT_FIXTURE, plausible
from spec_shapes import spec_violations

pytestmark = pytest.mark.anyio

Json = dict[str, Any]


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
    # the stored copy is the same object
    assert (await http.get(f"/responses/{response['id']}")).json() == response


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


# ------------------------------------------------------------------------------------------ compaction

CONVERSATION = [
    {"type": "message", "role": "user", "content": "We launch on Tuesday."},
    {"type": "message", "role": "assistant", "content": "Understood: Tuesday."},
]


async def compact(http: httpx.AsyncClient, **body: Any) -> httpx.Response:
    return await http.post("/responses/compact", json={"model": "m", **body})


async def test_compact_summarises_through_the_upstream(
    upstream: FakeUpstream, http: httpx.AsyncClient
) -> None:
    reply = await compact(http, input=CONVERSATION, prompt_cache_key="k", instructions="Be brief.")
    assert reply.status_code == 200
    body = reply.json()
    assert body["object"] == "response.compaction"
    assert isinstance(body["created_at"], int)
    assert body["usage"]["total_tokens"] > 0
    [item] = body["output"]
    assert item["type"] == "compaction"
    assert item["id"].startswith("cmp_")
    assert item["encrypted_content"].startswith("c2r1.")
    sent = upstream.bodies[-1]
    assert "stream" not in sent
    assert [m["role"] for m in sent["messages"]] == ["system", "user", "assistant", "user"]
    assert sent["messages"][0]["content"] == "Be brief."
    assert "Summarize the conversation" in sent["messages"][-1]["content"]
    assert "prompt_cache_key" not in sent
    # nothing stored: the compaction is not a response
    assert (await http.get(f"/responses/{body['id']}")).status_code == 404


async def test_a_later_request_continues_from_the_compaction(
    upstream: FakeUpstream, http: httpx.AsyncClient
) -> None:
    [item] = (await compact(http, input=CONVERSATION)).json()["output"]
    summary = upstream.bodies[-1]  # what the upstream summarised
    follow_up = [item, {"type": "message", "role": "user", "content": "When do we launch?"}]
    reply = await http.post("/responses", json={"model": "m", "input": follow_up, "instructions": "Be kind."})
    assert reply.status_code == 200
    messages = upstream.bodies[-1]["messages"]
    assert [m["role"] for m in messages] == ["system", "user"]
    assert messages[0]["content"].startswith("Be kind.")
    assert (
        f"the user and the assistant talked ({len(summary['messages'])} messages)" in messages[0]["content"]
    )
    assert messages[1]["content"] == "When do we launch?"


async def test_compact_continues_a_stored_response(upstream: FakeUpstream, http: httpx.AsyncClient) -> None:
    first = (await http.post("/responses", json={"model": "m", "input": "remember Tuesday"})).json()
    reply = await compact(http, previous_response_id=first["id"], input="and Wednesday")
    assert reply.status_code == 200
    contents = [m["content"] for m in upstream.bodies[-1]["messages"]]
    assert contents[:3] == ["remember Tuesday", "Hello there, friend.", "and Wednesday"]


async def test_compact_without_a_model_is_a_400(
    upstream: FakeUpstream, upstream_server: tuple[FakeUpstream, str]
) -> None:
    # even when the server has a default model: the compact body requires one
    with running_bridge(upstream_server[1], default_model="fallback") as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            reply = await http.post("/responses/compact", json={"input": CONVERSATION})
    assert reply.status_code == 400
    assert reply.json()["error"]["param"] == "model"
    assert reply.json()["error"]["code"] == "missing_required_parameter"
    assert upstream.bodies == []


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"input": 3}, "input"),
        ({"input": "x", "previous_response_id": "resp_missing"}, "previous_response_id"),
        ({"input": [{"type": "compaction", "encrypted_content": "gAAAA-openai-blob"}]}, "input[0]"),
        ({"input": [{"type": "function_call_output", "call_id": "call_x", "output": "1"}]}, "input"),
    ],
)
async def test_bad_compact_requests_are_clear_errors(
    upstream: FakeUpstream, http: httpx.AsyncClient, body: Json, param: str
) -> None:
    reply = await compact(http, **body)
    assert reply.status_code in (400, 404)
    assert reply.json()["error"]["param"] == param
    assert upstream.bodies == []


async def test_compact_upstream_errors(upstream: FakeUpstream, http: httpx.AsyncClient) -> None:
    upstream.reset(ErrorTurn(429, {"error": {"message": "slow down", "type": "rate_limit"}}))
    reply = await compact(http, input=CONVERSATION)
    assert reply.status_code == 429
    assert reply.json()["error"]["message"] == "slow down"
    upstream.reset(
        CompletionTurn({"choices": [{"index": 0, "message": {"role": "assistant", "content": ""}}]})
    )
    reply = await compact(http, input=CONVERSATION)
    assert reply.status_code == 502
    assert "no text" in reply.json()["error"]["message"]


async def test_a_foreign_compaction_item_is_a_400_on_responses(
    upstream: FakeUpstream, http: httpx.AsyncClient
) -> None:
    item = {"type": "compaction", "encrypted_content": "gAAAA-openai-blob"}
    reply = await http.post("/responses", json={"model": "m", "input": [item]})
    assert reply.status_code == 400
    assert "compaction" in reply.json()["error"]["message"]
    assert upstream.bodies == []


async def test_a_tool_output_without_its_call_is_a_400(
    upstream: FakeUpstream, http: httpx.AsyncClient
) -> None:
    call = {"type": "function_call", "call_id": "call_1", "name": "f", "arguments": "{}"}
    orphan = {"type": "function_call_output", "call_id": "call_2", "output": "x"}
    reply = await http.post("/responses", json={"model": "m", "input": [call, orphan]})
    assert reply.status_code == 400
    assert (
        reply.json()["error"]["message"]
        == "No tool call found for function call output with call_id 'call_2'."
    )
    answered = [call, {**orphan, "call_id": "call_1"}]
    assert (await http.post("/responses", json={"model": "m", "input": answered})).status_code == 200


# ------------------------------------------------------------------------------------------ include

REASONING_TOOL = "llamacpp/gptoss20b_reasoning_tool_timings"
GEMINI_SIGNED = "google/gemini3_tool_call_thought_signature_extra_content"
INCLUDE = ["reasoning.encrypted_content"]


def carriers(item: Json) -> list[Json]:
    return decode_carriers(item.get("encrypted_content"))


def summary_text(item: Json) -> str:
    return "\n\n".join(part["text"] for part in item["summary"])


async def test_include_puts_the_reasoning_text_in_encrypted_content(
    upstream: FakeUpstream, http: httpx.AsyncClient
) -> None:
    upstream.reset(StreamTurn(fixture(REASONING_TOOL)), StreamTurn(fixture(REASONING_TOOL)))
    body = {"model": "m", "input": "hi", "stream": True, "store": False, "include": INCLUDE}
    events = sse_events((await http.post("/responses", json=body)).content)
    done = next(e["item"] for e in events if e["type"] == "response.output_item.done")
    assert done["type"] == "reasoning"
    assert carriers(done) == [{"kind": "reasoning_text", "text": summary_text(done)}]
    assert events[-1]["response"]["output"][0] == done
    # without include: no encrypted_content for a provider that sends no signature (as before)
    plain = sse_events((await http.post("/responses", json={**body, "include": []})).content)
    reasoning = plain[-1]["response"]["output"][0]
    assert reasoning["type"] == "reasoning"
    assert "encrypted_content" not in reasoning


async def test_a_stateless_client_replays_reasoning_from_encrypted_content_alone(
    upstream: FakeUpstream, http: httpx.AsyncClient
) -> None:
    upstream.reset(StreamTurn(fixture(REASONING_TOOL)), StreamTurn(fixture(TEXT_FIXTURE)))
    first = (
        await http.post("/responses", json={"model": "m", "input": "hi", "store": False, "include": INCLUDE})
    ).json()
    reasoning, call = first["output"][0], first["output"][-1]
    assert call["type"] == "function_call"
    # the client keeps only the opaque part of the reasoning item, as OpenAI store:false clients do
    replay = [
        {"role": "user", "content": "hi"},
        {
            "type": "reasoning",
            "id": reasoning["id"],
            "summary": [],
            "encrypted_content": reasoning["encrypted_content"],
        },
        call,
        {"type": "function_call_output", "call_id": call["call_id"], "output": "done"},
    ]
    reply = await http.post(
        "/responses", json={"model": "m", "input": replay, "store": False, "include": INCLUDE}
    )
    assert reply.status_code == 200
    assistant = upstream.bodies[1]["messages"][1]
    assert assistant["reasoning_content"] == summary_text(reasoning)


async def test_include_keeps_provider_signatures_next_to_the_text(
    upstream: FakeUpstream, http: httpx.AsyncClient
) -> None:
    upstream.reset(StreamTurn(fixture(GEMINI_SIGNED)), StreamTurn(fixture(TEXT_FIXTURE)))
    body = {"model": "gemini", "input": "weather?", "store": False, "include": INCLUDE}
    first = (await http.post("/responses", json=body)).json()
    signed = [item for item in first["output"] if item["type"] == "reasoning"]
    kinds = [[c["kind"] for c in carriers(item)] for item in signed]
    assert any("thought_signature" in k for k in kinds)
    call = next(item for item in first["output"] if item["type"] == "function_call")
    replay = [
        {"role": "user", "content": "weather?"},
        *first["output"],
        {"type": "function_call_output", "call_id": call["call_id"], "output": "sunny"},
    ]
    assert (await http.post("/responses", json={**body, "input": replay})).status_code == 200
    assistant = upstream.bodies[1]["messages"][1]
    assert assistant["tool_calls"][0]["extra_content"]["google"]["thought_signature"]


async def test_an_unknown_previous_response_id_is_previous_response_not_found(
    upstream: FakeUpstream, http: httpx.AsyncClient
) -> None:
    reply = await http.post(
        "/responses", json={"model": "m", "input": "x", "previous_response_id": "resp_gone"}
    )
    assert reply.status_code == 404
    assert reply.json()["error"]["code"] == "previous_response_not_found"
    assert reply.json()["error"]["param"] == "previous_response_id"
    # a missing response fetched by id keeps its own code
    assert (await http.get("/responses/resp_gone")).json()["error"]["code"] == "response_not_found"
