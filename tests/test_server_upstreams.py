"""Several upstreams behind one endpoint (#16): ``serve --config FILE`` maps models (exact or glob) to
upstreams, each with its own URL, key and options. Two fake upstreams on 127.0.0.1, the bridge on
127.0.0.1, the openai SDK as the client."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

pytest.importorskip("starlette")

from chat_to_responses.server import add_serve_command, config_from_args, create_app, main
from chat_to_responses.server._limits import uvicorn_options
from fake_upstream import FakeUpstream, Hang, RawTurn, StreamTurn, fixture, retext, running_upstream, serving

pytestmark = pytest.mark.anyio

TEXT = "openai/text_usage_service_tier_obfuscation"
THINK = "groq/deepseek_r1_think_tags"
NO_FINISH = "vllm/evroc_kimi_k26_eof_without_finish_reason"
ONE = "[upstreams.a]\nbase_url = 'http://h/v1'\nmodels = ['m']\n"


def models_turn(*names: str) -> RawTurn:
    body = {"object": "list", "data": [{"id": n, "object": "model", "owned_by": "x"} for n in names]}
    return RawTurn(headers=(("content-type", "application/json"),), pieces=(json.dumps(body).encode(),))


@pytest.fixture(scope="module")
def two() -> Iterator[tuple[tuple[FakeUpstream, str], tuple[FakeUpstream, str]]]:
    with running_upstream() as a, running_upstream() as b:
        yield a, b


def config_file(tmp_path: Path, a: str, b: str) -> Path:
    path = tmp_path / "upstreams.toml"
    path.write_text(
        f"""
[upstreams.local]
base_url = "{a}/v1"
models = ["qwen-*", "shared-*"]
think_tags = false
read_timeout = 1.0

[upstreams.hosted]
base_url = "{b}/v1"
models = ["gpt-x", "gpt-4*", "shared-exact"]
api_key_env = "HOSTED_KEY_FOR_TEST"
max_tokens_field = "max_completion_tokens"
reasoning_effort = "drop"
reasoning_history = "always"
require_finish_reason = true
"""
    )
    return path


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_serve_command(parser.add_subparsers(dest="command"))
    return parser.parse_args(["serve", *argv])


@pytest.fixture
def bridge(
    two: tuple[tuple[FakeUpstream, str], tuple[FakeUpstream, str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[str]:
    (a, a_url), (b, b_url) = two
    a.reset()
    b.reset()
    monkeypatch.setenv("HOSTED_KEY_FOR_TEST", "sk-hosted")
    args = parse("--config", str(config_file(tmp_path, a_url, b_url)), "--store", "memory", "--metrics")
    config = config_from_args(args)
    with serving(create_app(config), **uvicorn_options(config)) as url:
        yield f"{url}/v1"


async def test_each_model_goes_to_its_upstream_with_its_options(
    two: tuple[tuple[FakeUpstream, str], tuple[FakeUpstream, str]], bridge: str
) -> None:
    (a, _), (b, _) = two
    a.reset(StreamTurn(retext(fixture(TEXT), "from local")))
    b.reset(StreamTurn(retext(fixture(TEXT), "from hosted")))
    async with openai.AsyncOpenAI(base_url=bridge, api_key="sk-client", max_retries=0) as client:
        local = await client.responses.create(
            model="qwen-7b", input="hi", max_output_tokens=50, reasoning={"effort": "low"}
        )
        hosted = await client.responses.create(
            model="gpt-4o", input="hi", max_output_tokens=60, reasoning={"effort": "low"}
        )
    assert (local.output_text, hosted.output_text) == ("from local", "from hosted")
    (to_a,), (to_b,) = a.served, b.served
    assert to_a.body["model"] == "qwen-7b"
    assert to_a.body["max_tokens"] == 50
    assert to_a.body["reasoning_effort"] == "low"
    assert to_a.headers["authorization"] == "Bearer sk-client"  # no key configured: passed through
    assert to_b.body["model"] == "gpt-4o"
    assert to_b.body["max_completion_tokens"] == 60
    assert "max_tokens" not in to_b.body
    assert "reasoning_effort" not in to_b.body
    assert to_b.headers["authorization"] == "Bearer sk-hosted"  # its own key, from its variable


async def test_an_exact_name_wins_over_an_earlier_glob(
    two: tuple[tuple[FakeUpstream, str], tuple[FakeUpstream, str]], bridge: str
) -> None:
    (a, _), (b, _) = two
    a.reset(StreamTurn(retext(fixture(TEXT), "local")))
    b.reset(StreamTurn(retext(fixture(TEXT), "hosted")))
    async with openai.AsyncOpenAI(base_url=bridge, api_key="sk-client", max_retries=0) as client:
        exact = await client.responses.create(model="shared-exact", input="hi")
        globbed = await client.responses.create(model="shared-other", input="hi")
    assert (exact.output_text, globbed.output_text) == ("hosted", "local")


async def test_an_unknown_model_is_a_404_naming_the_patterns(
    two: tuple[tuple[FakeUpstream, str], tuple[FakeUpstream, str]], bridge: str
) -> None:
    (a, _), (b, _) = two
    async with openai.AsyncOpenAI(base_url=bridge, api_key="sk-client", max_retries=0) as client:
        with pytest.raises(openai.NotFoundError) as caught:
            await client.responses.create(model="mistral-large", input="hi", stream=True)
    error = caught.value.body
    assert isinstance(error, dict)
    assert error["code"] == "model_not_found"
    assert error["param"] == "model"
    assert "'mistral-large'" in error["message"]
    assert "local: qwen-*, shared-*" in error["message"]
    assert "hosted: gpt-x, gpt-4*, shared-exact" in error["message"]
    assert a.served == []
    assert b.served == []


def test_models_are_merged(
    two: tuple[tuple[FakeUpstream, str], tuple[FakeUpstream, str]], bridge: str
) -> None:
    (a, _), (b, _) = two
    a.models_turn = models_turn("qwen-7b", "unrouted", "gpt-4o")  # gpt-4o is the hosted one's
    b.models_turn = models_turn("gpt-x", "gpt-4o", "gpt-y")
    answer = httpx.get(f"{bridge}/models", headers={"authorization": "Bearer sk-client"})
    assert answer.status_code == 200
    assert [m["id"] for m in answer.json()["data"]] == ["qwen-7b", "gpt-x", "gpt-4o"]


def test_models_leave_out_a_failing_upstream(
    two: tuple[tuple[FakeUpstream, str], tuple[FakeUpstream, str]], bridge: str
) -> None:
    (a, _), (b, _) = two
    a.models_turn = models_turn("qwen-7b")
    b.models_turn = RawTurn(status=500, pieces=(b'{"error": {"message": "down"}}',))
    answer = httpx.get(f"{bridge}/models")
    assert answer.status_code == 200
    assert [m["id"] for m in answer.json()["data"]] == ["qwen-7b"]
    a.models_turn = RawTurn(status=503, pieces=(b'{"error": {"message": "down"}}',))
    assert httpx.get(f"{bridge}/models").status_code == 503  # all down: the first failure


def test_metrics_and_health_name_each_upstream(
    two: tuple[tuple[FakeUpstream, str], tuple[FakeUpstream, str]], bridge: str
) -> None:
    (a, _), _ = two
    a.reset(StreamTurn(fixture(TEXT)))
    body = {"model": "qwen-7b", "input": "hi"}
    answer = httpx.post(f"{bridge}/responses", json=body, headers={"authorization": "Bearer x"})
    assert answer.status_code == 200
    scrape = httpx.get(bridge.removesuffix("/v1") + "/metrics").text
    assert 'c2r_requests_total{route="/v1/responses",status="200",upstream="local"} 1.0' in scrape
    health = httpx.get(bridge.removesuffix("/v1") + "/health?upstream=1").json()
    assert health["status"] == "ok"
    assert set(health["upstreams"]) == {"local", "hosted"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (ONE + "max_token = 1\n", "unknown keys ['max_token']"),
        ("[upstreams.a]\nbase_url = 'http://h/v1'\n", "models must be a non-empty list"),
        ("[upstreams.a]\nbase_url = 'h'\nmodels = ['m']\n", "upstream must be an http:// or https:// URL"),
        (ONE + "api_key_env = 'C2R_UNSET_VAR'\n",
         "api_key_env names C2R_UNSET_VAR, which is not set"),
        (ONE + "read_timeout = 0\n", "read_timeout must be"),
        (ONE + "think_tags = 'no'\n", "think_tags must be"),
        (ONE + "reasoning_history = 'sometimes'\n", "reasoning_history must be one of tool_turns, always"),
        ("[upstreams.a\n", "is not valid TOML"),
        ("upstream = 'x'\n", "unknown top-level keys ['upstream']"),
        ("", "no upstreams"),
    ],
)  # fmt: skip
def test_a_bad_config_file_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    assert main(["--config", str(path)]) == 2
    error = capsys.readouterr().err
    assert message in error
    assert str(path) in error


def test_config_and_upstream_are_exclusive(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = config_file(tmp_path, "http://127.0.0.1:1", "http://127.0.0.1:2")
    assert main(["--config", str(path), "--upstream", "http://127.0.0.1:3/v1"]) == 2
    assert "either --upstream or --config" in capsys.readouterr().err
    assert main([]) == 2
    assert "--upstream URL, or --config FILE" in capsys.readouterr().err


async def test_think_tags_follow_each_upstreams_option(
    two: tuple[tuple[FakeUpstream, str], tuple[FakeUpstream, str]], bridge: str
) -> None:
    (a, _), (b, _) = two
    a.reset(StreamTurn(fixture(THINK)))  # local: think_tags = false, the tags stay in the text
    b.reset(StreamTurn(fixture(THINK)))  # hosted: the server's default, the tags become reasoning
    async with openai.AsyncOpenAI(base_url=bridge, api_key="sk-client", max_retries=0) as client:
        local = await client.responses.create(model="qwen-7b", input="hi")
        hosted = await client.responses.create(model="gpt-x", input="hi")
    assert [item.type for item in local.output] == ["message"]
    assert "<think>" in local.output_text
    assert [item.type for item in hosted.output] == ["reasoning", "message"]
    assert "<think>" not in hosted.output_text


async def test_reasoning_history_follows_each_upstreams_option(
    two: tuple[tuple[FakeUpstream, str], tuple[FakeUpstream, str]], bridge: str
) -> None:
    """hosted: reasoning_history = "always", so even a text-only turn replays its reasoning_content."""
    _, (b, _) = two
    b.reset(StreamTurn(fixture(THINK)), StreamTurn(fixture(TEXT)))
    async with openai.AsyncOpenAI(base_url=bridge, api_key="sk-client", max_retries=0) as client:
        first = await client.responses.create(model="gpt-x", input="hi")
        await client.responses.create(model="gpt-x", input="more", previous_response_id=first.id)
    replayed = [m for m in b.served[1].body["messages"] if m["role"] == "assistant"]
    assert len(replayed) == 1
    assert replayed[0].get("reasoning_content")


async def test_timeouts_and_finish_rules_follow_each_upstreams_options(
    two: tuple[tuple[FakeUpstream, str], tuple[FakeUpstream, str]], bridge: str
) -> None:
    (a, _), (b, _) = two
    a.reset(Hang(headers_first=False), StreamTurn(fixture(NO_FINISH)))  # local: read_timeout = 1 s
    b.reset(StreamTurn(fixture(NO_FINISH)))  # hosted: require_finish_reason = true
    async with openai.AsyncOpenAI(base_url=bridge, api_key="sk-client", max_retries=0, timeout=30) as client:
        with pytest.raises(openai.APIStatusError) as caught:
            await client.responses.create(model="qwen-7b", input="hi")
        assert caught.value.status_code == 504
        lenient = [e async for e in await client.responses.create(model="qwen-7b", input="hi", stream=True)]
        strict = [e async for e in await client.responses.create(model="gpt-x", input="hi", stream=True)]
    assert lenient[-1].type == "response.completed"  # the server's default: a clean end without finish_reason
    assert strict[-1].type == "response.failed"
