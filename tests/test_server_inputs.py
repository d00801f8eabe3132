"""Every input item and tool a Responses client sends is converted for the chat upstream, or a 400 names it.

Codex CLI 0.169.0 sends its tools as an ``additional_tools`` input item (role ``developer``, namespaces of
functions and ``custom`` tools) for the models of its catalog that use the "responses lite" request shape
(``gpt-6-astra``, ``gpt-5.6-luna``…), and an empty top-level ``tools``. Those tools must reach the upstream
as chat tools; an item type the server cannot convert must be a clear 400, never silently skipped.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from chat_to_responses.server._config import ServerConfig
from chat_to_responses.server._errors import BridgeError
from chat_to_responses.server._request import chat_payload, parse_request
from chat_to_responses.testing import check_stream

CONFIG = ServerConfig(upstream="http://127.0.0.1:8000/v1", store="memory")


def function(name: str, **extra: Any) -> dict[str, Any]:
    schema = {"type": "object", "properties": {"ms": {"type": "number"}}}
    return {"type": "function", "name": name, "strict": False, "parameters": schema, **extra}


def additional_tools(*tools: dict[str, Any]) -> dict[str, Any]:
    """The item as Codex 0.169.0 sends it (captured from the binary through the bridge)."""
    return {"type": "additional_tools", "id": "at_1", "role": "developer", "tools": list(tools)}


CODEX_ADDITIONAL = additional_tools(
    {
        "type": "namespace",
        "name": "functions",
        "description": "",
        "tools": [{"type": "custom", "name": "exec", "description": "Run JavaScript"}, function("wait")],
    },
    {"type": "namespace", "name": "clock", "description": "Time.", "tools": [function("sleep")]},
)


def convert(body: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    request = parse_request({"model": "gpt-6-astra", **body}, CONFIG)
    return chat_payload(request, request.input_items, CONFIG), request.dropped


def user(text: str) -> dict[str, Any]:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


def test_additional_tools_become_chat_tools() -> None:
    developer = {"type": "message", "role": "developer", "content": "Be brief."}
    body = {"tools": [], "input": [CODEX_ADDITIONAL, developer, user("hi")], "tool_choice": "auto"}
    payload, dropped = convert(body)
    names = [t["function"]["name"] for t in payload["tools"]]
    assert names == ["exec", "wait", "clock__sleep"]
    assert payload["tools"][1]["function"]["parameters"]["properties"] == {"ms": {"type": "number"}}
    assert payload["tool_choice"] == "auto"
    # The item itself is no message, and nothing is dropped (the custom tool becomes a function too).
    system, prompt = {"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}
    assert payload["messages"] == [system, prompt]
    assert dropped == []


def test_calls_to_additional_tools_are_restored_with_their_namespace() -> None:
    request = parse_request({"model": "m", "input": [CODEX_ADDITIONAL, user("hi")]}, CONFIG)
    item = {"type": "function_call", "call_id": "c1", "name": "clock__sleep", "arguments": "{}"}
    assert request.tools.names.restore_item(item)["namespace"] == "clock"
    assert request.tools.names.restore_item(item)["name"] == "sleep"
    # Replayed later with its namespace, the call is named as the upstream knows it.
    replay = {**item, "name": "sleep", "namespace": "clock"}
    payload = chat_payload(request, [CODEX_ADDITIONAL, user("hi"), replay], CONFIG)
    assert payload["messages"][-1]["tool_calls"][0]["function"]["name"] == "clock__sleep"


def test_tools_and_additional_tools_are_merged_without_duplicates() -> None:
    listed = [function("lookup", description="old")]
    extra = additional_tools(function("lookup", description="new"), function("other"))
    payload, _ = convert({"tools": listed, "input": [extra, user("hi")]})
    assert [(t["function"]["name"], t["function"].get("description")) for t in payload["tools"]] == [
        ("lookup", "new"),
        ("other", None),
    ]


def test_every_additional_tools_item_of_the_history_counts() -> None:
    first, later = additional_tools(function("a")), additional_tools(function("b"))
    payload, _ = convert({"input": [first, user("hi"), later, user("again")]})
    assert [t["function"]["name"] for t in payload["tools"]] == ["a", "b"]
    assert [m["role"] for m in payload["messages"]] == ["user", "user"]


@pytest.mark.parametrize(
    ("item", "param", "message"),
    [
        ({"type": "additional_tools", "tools": "x"}, "input[1].tools", "must be an array of tools"),
        (additional_tools({"name": "no type"}), "input[1].tools[0]", "must be an object with a 'type'"),
        (additional_tools({"type": "function"}), "input[1].tools[0].name", "Missing required parameter"),
        (additional_tools(function("f", parameters=[])), "input[1].tools[0].parameters", "JSON Schema"),
    ],
)
def test_a_malformed_additional_tools_item_is_a_400_naming_it(
    item: dict[str, Any], param: str, message: str
) -> None:
    with pytest.raises(BridgeError) as error:
        convert({"input": [user("hi"), item]})
    assert (error.value.status, error.value.param) == (400, param)
    assert message in error.value.message


@pytest.mark.parametrize(
    "kind",
    [
        "web_search_call",
        "local_shell_call",
        "tool_search_call",
        "tool_search_output",
        "image_generation_call",
        "item_reference",
        "something_new",
    ],
)
def test_an_item_the_upstream_cannot_be_given_is_a_400_naming_it(kind: str) -> None:
    with pytest.raises(BridgeError) as error:
        convert({"input": [user("hi"), {"type": kind, "id": "x_1"}]})
    assert error.value.status == 400
    assert error.value.param == "input[1].type"
    assert error.value.code == "unsupported_input_item"
    assert f"'{kind}' (input[1])" in error.value.message


def test_an_item_without_type_or_role_is_a_400() -> None:
    with pytest.raises(BridgeError) as error:
        convert({"input": [{"content": "hi"}]})
    assert (error.value.status, error.value.param) == (400, "input[0].type")


def test_a_malformed_reasoning_item_is_a_400() -> None:
    with pytest.raises(BridgeError) as error:
        convert({"input": [{"type": "reasoning", "summary": "text"}, user("hi")]})
    assert (error.value.status, error.value.param) == (400, "input[0].summary")


def test_every_item_codex_sends_is_converted() -> None:
    """One of each item Codex 0.169.0 sends on a turn with a tool call, as it sends them."""
    items = [
        CODEX_ADDITIONAL,
        {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "rules"}]},
        user("<environment_context>…</environment_context>"),
        user("run it"),
        {
            "type": "reasoning",
            "summary": [{"type": "summary_text", "text": "thinking"}],
            "content": None,
            "encrypted_content": None,
        },
        {
            "type": "function_call",
            "name": "sleep",
            "namespace": "clock",
            "arguments": '{"ms": 1}',
            "call_id": "call_1",
        },
        {"type": "function_call_output", "call_id": "call_1", "output": "slept"},
    ]
    payload, dropped = convert({"input": items})
    assert dropped == []
    assert [m["role"] for m in payload["messages"]] == ["system", "user", "user", "assistant", "tool"]
    assert payload["messages"][3]["reasoning_content"] == "thinking"


def test_additional_tools_given_earlier_stay_with_previous_response_id() -> None:
    """Through the server: the item is part of the stored conversation a later request continues."""
    pytest.importorskip("uvicorn")
    import httpx

    from fake_upstream import StreamTurn, fixture, retext, running_bridge, running_upstream

    text = StreamTurn(retext(fixture("llamacpp/gptoss20b_text_timings"), "ok"))
    with running_upstream() as (upstream, url), running_bridge(url) as bridge:
        upstream.reset(text, text)
        key = {"authorization": "Bearer sk-client"}  # a stored response belongs to a credential
        first = httpx.post(
            f"{bridge}/responses", json={"model": "m", "input": [CODEX_ADDITIONAL, user("hi")]}, headers=key
        )
        later = {"model": "m", "input": "again", "previous_response_id": first.json()["id"]}
        assert httpx.post(f"{bridge}/responses", json=later, headers=key).status_code == 200
    for body in upstream.bodies:
        assert [t["function"]["name"] for t in body["tools"]] == [
            "exec",
            "wait",
            "clock__sleep",
        ]
    assert [m["role"] for m in upstream.bodies[1]["messages"]] == ["user", "assistant", "user"]


# ------------------------------------------------------------------------------------------ custom tools

PATCH = "*** Begin Patch\n*** Add File: a.txt\n+hi\n*** End Patch\n"
APPLY_PATCH = {
    "type": "custom",
    "name": "apply_patch",
    "description": "Edit files.",
    "format": {"type": "grammar", "syntax": "lark", "definition": "start: begin_patch hunk+ end_patch"},
}


def test_a_custom_tool_becomes_a_function_of_its_raw_input() -> None:
    payload, dropped = convert(
        {"input": "hi", "tools": [APPLY_PATCH], "tool_choice": {"type": "custom", "name": "apply_patch"}}
    )
    (tool,) = payload["tools"]
    assert tool["function"]["name"] == "apply_patch"
    assert tool["function"]["parameters"]["properties"]["input"]["type"] == "string"
    assert tool["function"]["parameters"]["required"] == ["input"]
    description = tool["function"]["description"]
    assert description.startswith("Edit files.")
    assert description.endswith("lark grammar:\nstart: begin_patch hunk+ end_patch")
    assert payload["tool_choice"] == {"type": "function", "function": {"name": "apply_patch"}}
    assert dropped == []


def test_custom_calls_are_given_back_as_custom_tool_calls() -> None:
    request = parse_request(
        {"model": "m", "input": [CODEX_ADDITIONAL, user("hi")], "tools": [APPLY_PATCH]}, CONFIG
    )
    names = request.tools.names
    plain = {
        "type": "function_call",
        "id": "fc_1",
        "call_id": "c1",
        "name": "apply_patch",
        "status": "completed",
    }
    assert names.restore_item({**plain, "arguments": json.dumps({"input": PATCH})}) == {
        "type": "custom_tool_call",
        "id": "ctc_1",  # the core mints fc_; a custom call is ctc_
        "call_id": "c1",
        "status": "completed",
        "name": "apply_patch",
        "input": PATCH,
    }
    nested = names.restore_item({**plain, "name": "exec", "arguments": '{"input": "1+1"}'})
    assert (nested["name"], nested["namespace"], nested["input"]) == ("exec", "functions", "1+1")
    # A model that ignored the wrapper: its arguments are the input.
    assert names.restore_item({**plain, "arguments": "raw text"})["input"] == "raw text"


def test_replayed_custom_calls_and_outputs_become_the_function_call_and_result() -> None:
    call = {
        "type": "custom_tool_call",
        "call_id": "c1",
        "name": "exec",
        "namespace": "functions",
        "input": "1+1",
    }
    output = {"type": "custom_tool_call_output", "call_id": "c1", "output": "2"}
    payload, _ = convert({"input": [CODEX_ADDITIONAL, user("hi"), call, output]})
    assistant, tool = payload["messages"][-2:]
    assert assistant["tool_calls"] == [
        {
            "id": "c1",
            "type": "function",
            "function": {"name": "exec", "arguments": '{"input": "1+1"}'},
        }
    ]
    assert tool == {"role": "tool", "tool_call_id": "c1", "content": "2"}


@pytest.mark.parametrize(
    ("item", "param"),
    [
        ({"type": "custom_tool_call", "call_id": "c", "name": "x"}, "input[1].input"),
        ({"type": "custom_tool_call", "call_id": "c", "input": "x"}, "input[1].name"),
        ({"type": "custom_tool_call_output", "output": "x"}, "input[1].call_id"),
    ],
)
def test_a_malformed_custom_item_is_a_400(item: dict[str, Any], param: str) -> None:
    with pytest.raises(BridgeError) as error:
        convert({"input": [user("hi"), item]})
    assert (error.value.status, error.value.param) == (400, param)


@pytest.mark.parametrize("stream", [True, False])
def test_a_custom_call_streams_as_custom_tool_call_events(stream: bool) -> None:
    """Through the server and the real openai client, which parses every event into its own type."""
    pytest.importorskip("uvicorn")
    import openai

    from fake_upstream import StreamTurn, fixture, retarget_tool_call, running_bridge, running_upstream

    call = retarget_tool_call(
        fixture("openai/gpt5_tool_call"), "apply_patch", json.dumps({"input": PATCH}), "c1"
    )
    with running_upstream() as (upstream, url), running_bridge(url) as bridge:
        upstream.reset(StreamTurn(call))
        with openai.OpenAI(base_url=bridge, api_key="sk-test") as client:  # closed: no socket left behind
            if stream:
                created = client.responses.create(model="m", input="patch", tools=[APPLY_PATCH], stream=True)
                events = list(created)
                response = events[-1].response
            else:
                events, response = [], client.responses.create(model="m", input="patch", tools=[APPLY_PATCH])
    (item,) = response.output
    assert (item.type, item.name, item.call_id, item.input) == (
        "custom_tool_call",
        "apply_patch",
        "c1",
        PATCH,
    )
    if stream:
        kinds = [e.type for e in events]
        assert [e.sequence_number for e in events] == list(range(len(events)))
        assert not any(k.startswith("response.function_call") for k in kinds)
        deltas = [e.delta for e in events if e.type == "response.custom_tool_call_input.delta"]
        assert "".join(deltas) == PATCH
        done = [e for e in events if e.type == "response.custom_tool_call_input.done"]
        assert [e.input for e in done] == [PATCH]
        added = next(e for e in events if e.type == "response.output_item.added")
        assert added.item.type == "custom_tool_call"
        assert kinds[-1] == "response.completed"
        # The project's stream rules hold for the rewritten events too.
        assert (
            check_stream([e.model_dump(mode="json", by_alias=True, exclude_none=True) for e in events]) == []
        )


def test_the_functions_namespace_keeps_plain_names_unless_they_collide() -> None:
    extra = additional_tools(
        {"type": "namespace", "name": "functions", "tools": [function("wait"), function("run")]}
    )
    payload, _ = convert({"input": [extra, user("hi")], "tools": [function("wait")]})
    names = [t["function"]["name"] for t in payload["tools"]]
    assert names[0] == "wait"  # the plain tool keeps its name; the member of the namespace gets a hash
    assert names[1].startswith("functions__wait_")
    assert names[2] == "run"
    request = parse_request({"model": "m", "input": [extra, user("hi")], "tools": [function("wait")]}, CONFIG)
    call = {"type": "function_call", "call_id": "c", "name": "run", "arguments": "{}"}
    assert request.tools.names.restore_item(call)["namespace"] == "functions"
    assert "namespace" not in request.tools.names.restore_item({**call, "name": "wait"})
