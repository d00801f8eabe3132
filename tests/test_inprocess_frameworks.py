"""Agent frameworks on the in-process Responses client: a two-turn tool call each, streamed and not.

Each framework takes the client from ``responses_client`` as its own Responses API client: the Agents SDK's
``OpenAIResponsesModel``, pydantic-ai's ``OpenAIResponsesModel``, LangChain's
``ChatOpenAI(use_responses_api=True)``. The upstream is the fake Chat Completions server on 127.0.0.1
replaying a recorded llama.cpp gpt-oss tool call (``weather`` for Florence), then a text answer; each test
checks what the upstream received on the second turn: the call, then its result, in one conversation.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from chat_to_responses import responses_client
from fake_upstream import FakeUpstream, StreamTurn, fixture, retext, running_upstream

pytestmark = pytest.mark.anyio

ANSWER = "It is sunny in Florence."
LOCATION = "Florence, Italy"  # what the recorded tool call asks for


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[FakeUpstream, str]]:
    with running_upstream() as (upstream, url):
        yield upstream, f"{url}/v1"


@pytest.fixture
def upstream(served: tuple[FakeUpstream, str]) -> FakeUpstream:
    return served[0].reset(
        StreamTurn(fixture("llamacpp/gptoss20b_reasoning_tool_timings")),
        StreamTurn(retext(fixture("llamacpp/gptoss20b_text_timings"), ANSWER)),
    )


@pytest.fixture
def url(served: tuple[FakeUpstream, str]) -> str:
    return served[1]


def weather(location: str) -> str:
    """The weather at a place."""
    return f"sunny in {location}"


def assert_upstream_history(upstream: FakeUpstream, streamed: bool, system: bool = True) -> None:
    first, second = upstream.bodies
    assert first.get("stream", False) is streamed
    assert second.get("stream", False) is streamed
    assert first["tools"][0]["function"]["name"] == "weather"
    roles = ["system"] * system + ["user", "assistant", "tool"]
    assert [m["role"] for m in second["messages"]] == roles
    call = second["messages"][-2]["tool_calls"][0]
    assert call["function"]["name"] == "weather"
    assert second["messages"][-1] == {
        "role": "tool",
        "tool_call_id": call["id"],
        "content": f"sunny in {LOCATION}",
    }


@pytest.mark.parametrize("streamed", [False, True], ids=["run", "run_streamed"])
async def test_openai_agents_responses_model(upstream: FakeUpstream, url: str, streamed: bool) -> None:
    pytest.importorskip("agents")  # openai-agents needs openai 3: absent from the openai 2.x test run
    from agents import Agent, OpenAIResponsesModel, RunConfig, Runner, function_tool

    async with responses_client(url) as client:
        model = OpenAIResponsesModel(model="gpt-oss-20b", openai_client=client)
        agent = Agent(name="forecaster", instructions="Use the weather tool.", model=model)
        agent.tools.append(function_tool(weather))
        config = RunConfig(tracing_disabled=True)
        if streamed:
            result: Any = Runner.run_streamed(agent, "Weather in Florence?", run_config=config)
            kinds = {event.type async for event in result.stream_events()}
            assert "raw_response_event" in kinds
        else:
            result = await Runner.run(agent, "Weather in Florence?", run_config=config)
    assert result.final_output == ANSWER
    assert_upstream_history(upstream, streamed)


@pytest.mark.parametrize("streamed", [False, True], ids=["run", "run_stream"])
async def test_pydantic_ai_responses_model(upstream: FakeUpstream, url: str, streamed: bool) -> None:
    pytest.importorskip("pydantic_ai")
    from pydantic_ai import Agent
    from pydantic_ai.models.openai import OpenAIResponsesModel
    from pydantic_ai.providers.openai import OpenAIProvider

    async with responses_client(url) as client:
        model = OpenAIResponsesModel("gpt-oss-20b", provider=OpenAIProvider(openai_client=client))
        agent = Agent(model, instructions="Use the weather tool.", tools=[weather])
        if streamed:
            async with agent.run_stream("Weather in Florence?") as result:
                deltas = [delta async for delta in result.stream_text(delta=True, debounce_by=None)]
            output = "".join(deltas)
            assert len(deltas) > 1
        else:
            output = (await agent.run("Weather in Florence?")).output
    assert output == ANSWER
    assert_upstream_history(upstream, streamed)


@pytest.mark.parametrize("streamed", [False, True], ids=["ainvoke", "astream"])
async def test_langchain_chat_openai_responses_api(upstream: FakeUpstream, url: str, streamed: bool) -> None:
    pytest.importorskip("langchain_openai")
    from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
    from langchain_core.tools import tool
    from langchain_openai import ChatOpenAI

    weather_tool = tool(weather)

    async def answer(model: Any, messages: list[BaseMessage]) -> Any:
        if not streamed:
            return await model.ainvoke(messages)
        chunks = [chunk async for chunk in model.astream(messages)]
        assert len(chunks) > 1
        message = chunks[0]
        for chunk in chunks[1:]:
            message = message + chunk
        return message

    async with responses_client(url) as client:
        llm = ChatOpenAI(
            model="gpt-oss-20b",
            use_responses_api=True,
            root_async_client=client,
            async_client=client.chat.completions,
            api_key="unused",  # the sync client LangChain builds beside ours is never used here
        )
        model = llm.bind_tools([weather_tool])
        messages: list[BaseMessage] = [HumanMessage("Weather in Florence?")]
        ai = await answer(model, messages)
        assert isinstance(ai, AIMessage)
        (call,) = ai.tool_calls
        assert (call["name"], call["args"]) == ("weather", {"location": LOCATION})
        messages += [ai, ToolMessage(weather_tool.invoke(call["args"]), tool_call_id=call["id"])]
        final = await answer(model, messages)
    assert final.text == ANSWER
    assert_upstream_history(upstream, streamed, system=False)
