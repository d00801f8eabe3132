"""openai-agents' own ``OpenAIResponsesModel`` pointed at the Responses server: an agent with a tool, run by
the real Runner (streamed and not), then a follow-up chained with ``previous_response_id``.

The upstream is the fake Chat Completions server replaying a recorded llama.cpp gpt-oss tool call
(``weather`` for Florence) and a recorded text answer re-worded.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("agents")  # openai-agents needs openai 3: absent from the openai 2.x test run
pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

import openai
from agents import Agent, OpenAIResponsesModel, RunConfig, Runner, function_tool

from fake_upstream import FakeUpstream, StreamTurn, fixture, retext, running_bridge, running_upstream

pytestmark = pytest.mark.anyio

ANSWER = "It is sunny in Florence."


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[FakeUpstream, str]]:
    with running_upstream() as (upstream, url), running_bridge(url) as bridge:
        yield upstream, bridge


def weather_agent(client: openai.AsyncOpenAI, calls: list[str]) -> Agent:
    @function_tool
    def weather(location: str) -> str:
        """The weather at a place."""
        calls.append(location)
        return f"sunny in {location}"

    model = OpenAIResponsesModel(model="gpt-oss-20b", openai_client=client)
    return Agent(name="forecaster", instructions="Use the weather tool.", tools=[weather], model=model)


def tool_then_answer() -> tuple[StreamTurn, StreamTurn]:
    return (
        StreamTurn(fixture("llamacpp/gptoss20b_reasoning_tool_timings")),
        StreamTurn(retext(fixture("llamacpp/gptoss20b_text_timings"), ANSWER)),
    )


@pytest.mark.parametrize("streamed", [False, True], ids=["run", "run_streamed"])
async def test_agent_with_a_tool(servers: tuple[FakeUpstream, str], streamed: bool) -> None:
    upstream, bridge = servers
    upstream.reset(*tool_then_answer())
    calls: list[str] = []
    config = RunConfig(tracing_disabled=True)
    async with openai.AsyncOpenAI(base_url=bridge, api_key="sk-agents", max_retries=0) as client:
        agent = weather_agent(client, calls)
        if streamed:
            result = Runner.run_streamed(agent, "Weather in Florence?", run_config=config)
            kinds = {event.type async for event in result.stream_events()}
            assert "raw_response_event" in kinds
        else:
            result = await Runner.run(agent, "Weather in Florence?", run_config=config)
    assert result.final_output == ANSWER
    assert calls == ["Florence, Italy"]
    first, second = upstream.bodies
    assert first["messages"][0] == {"role": "system", "content": "Use the weather tool."}
    assert first["tools"][0]["function"]["name"] == "weather"
    assert first.get("stream", False) is streamed
    tool_message = second["messages"][-1]
    assert tool_message["role"] == "tool"
    assert tool_message["content"] == "sunny in Florence, Italy"
    assistant = second["messages"][-2]
    assert assistant["tool_calls"][0]["function"]["name"] == "weather"
    assert assistant["reasoning_content"].startswith("User wants weather")  # replayed on the tool turn


async def test_agent_follow_up_with_previous_response_id(servers: tuple[FakeUpstream, str]) -> None:
    upstream, bridge = servers
    upstream.reset(
        *tool_then_answer(), StreamTurn(retext(fixture("llamacpp/gptoss20b_text_timings"), "Yes."))
    )
    config = RunConfig(tracing_disabled=True)
    async with openai.AsyncOpenAI(base_url=bridge, api_key="sk-agents", max_retries=0) as client:
        agent = weather_agent(client, [])
        first = await Runner.run(agent, "Weather in Florence?", run_config=config)
        follow_up = await Runner.run(
            agent, "Sure?", previous_response_id=first.last_response_id, run_config=config
        )
    assert follow_up.final_output == "Yes."
    roles = [m["role"] for m in upstream.bodies[2]["messages"]]
    assert roles == ["system", "user", "assistant", "tool", "assistant", "user"]
