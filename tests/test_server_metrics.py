"""``GET /metrics`` (#16): real requests through the bridge on 127.0.0.1, then a scrape over real HTTP parsed
by prometheus_client's own text-format parser."""

from __future__ import annotations

import httpx
import openai
import pytest

pytest.importorskip("starlette")
pytest.importorskip("prometheus_client")

from prometheus_client.parser import text_string_to_metric_families

from fake_upstream import ErrorTurn, FakeUpstream, StreamTurn, fixture, running_bridge

pytestmark = pytest.mark.anyio

USAGE = "openai/text_usage_service_tier_obfuscation"  # usage: 16 prompt tokens, 300 completion tokens
GROQ_ERROR = "groq/gptoss_text_then_error"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, by name and sorted labels (the parser fails on a malformed scrape)."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[sample.name, tuple(sorted(sample.labels.items()))] = sample.value
    return found


def value(scrape: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return scrape.get((name, tuple(sorted(labels.items()))), 0.0)


def scrape(bridge: str, key: str | None = None) -> httpx.Response:
    headers = {"authorization": f"Bearer {key}"} if key else {}
    return httpx.get(bridge.removesuffix("/v1") + "/metrics", headers=headers, timeout=10)


async def test_metrics_count_real_requests(upstream_server: tuple[FakeUpstream, str]) -> None:
    upstream, url = upstream_server
    upstream.reset(StreamTurn(fixture(USAGE)), StreamTurn(fixture(USAGE)), ErrorTurn(429, {"error": {}}))
    with running_bridge(url, metrics=True, store_anonymous=False) as bridge:
        async with openai.AsyncOpenAI(base_url=bridge, api_key="sk-a", max_retries=0) as client:
            first = await client.responses.create(model="gpt-x", input="hi", stream=True)
            first_id = [e async for e in first][-1].response.id
            second = await client.responses.create(model="gpt-x", input="more", previous_response_id=first_id)
            assert second.status == "completed"
            with pytest.raises(openai.RateLimitError):
                await client.responses.create(model="gpt-x", input="again")
            with pytest.raises(openai.NotFoundError):
                await client.responses.retrieve("resp_unknown")
        answer = scrape(bridge)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=")
    got = samples(answer.text)
    post = {"route": "/v1/responses", "upstream": "default"}
    assert value(got, "c2r_requests_total", status="200", **post) == 2
    assert value(got, "c2r_requests_total", status="429", **post) == 1
    assert value(got, "c2r_errors_total", status="429", kind="http", **post) == 1
    get_route = {"route": "/v1/responses/{id}", "status": "404", "upstream": "none"}
    assert value(got, "c2r_errors_total", kind="http", **get_route) == 1
    assert value(got, "c2r_tokens_total", model="gpt-x", direction="in") == 32
    assert value(got, "c2r_tokens_total", model="gpt-x", direction="out") == 600
    assert value(got, "c2r_store_lookups_total", result="hit") == 1  # the chained request
    assert value(got, "c2r_store_lookups_total", result="miss") == 1  # the unknown id
    assert value(got, "c2r_active_streams") == 0
    # one streamed response: one first event; two upstream bodies read (streamed and not)
    assert value(got, "c2r_time_to_first_event_seconds_count", route="/v1/responses") == 1
    assert value(got, "c2r_upstream_time_to_first_chunk_seconds_count", upstream="default") == 2
    assert value(got, "c2r_request_duration_seconds_count", route="/v1/responses") == 3


async def test_a_stream_that_fails_is_an_error(upstream_server: tuple[FakeUpstream, str]) -> None:
    upstream, url = upstream_server
    upstream.reset(StreamTurn(fixture(GROQ_ERROR)))
    with running_bridge(url, metrics=True) as bridge:
        async with openai.AsyncOpenAI(base_url=bridge, api_key="sk-a", max_retries=0) as client:
            events = [e async for e in await client.responses.create(model="m", input="hi", stream=True)]
        assert events[-1].type == "response.failed"
        got = samples(scrape(bridge).text)
    labels = {"route": "/v1/responses", "status": "200", "upstream": "default"}
    assert value(got, "c2r_errors_total", kind="response_failed", **labels) == 1


async def test_an_active_stream_is_counted_while_it_runs(upstream_server: tuple[FakeUpstream, str]) -> None:
    upstream, url = upstream_server
    upstream.reset(StreamTurn(fixture(USAGE), delay=0.01))
    with running_bridge(url, metrics=True) as bridge:
        async with httpx.AsyncClient(timeout=30) as http:
            body = {"model": "m", "input": "hi", "stream": True}
            headers = {"authorization": "Bearer sk-a"}
            async with http.stream("POST", f"{bridge}/responses", json=body, headers=headers) as answer:
                pieces = answer.aiter_bytes()
                await pieces.__anext__()
                during = samples(scrape(bridge).text)
                async for _ in pieces:
                    pass
        after = samples(scrape(bridge).text)
    assert value(during, "c2r_active_streams") == 1
    assert value(after, "c2r_active_streams") == 0


def test_metrics_are_off_by_default(upstream_server: tuple[FakeUpstream, str]) -> None:
    with running_bridge(upstream_server[1]) as bridge:
        assert scrape(bridge).status_code == 404


def test_metrics_need_the_inbound_key_when_one_is_set(upstream_server: tuple[FakeUpstream, str]) -> None:
    options = {"metrics": True, "api_key": "sk-in", "upstream_api_key": "sk-up"}
    with running_bridge(upstream_server[1], **options) as bridge:
        assert scrape(bridge).status_code == 401
        assert scrape(bridge, "sk-wrong").status_code == 401
        answer = scrape(bridge, "sk-in")
    assert answer.status_code == 200
    assert any(f.name == "c2r_requests" for f in text_string_to_metric_families(answer.text))


def test_unknown_paths_share_one_label(upstream_server: tuple[FakeUpstream, str]) -> None:
    with running_bridge(upstream_server[1], metrics=True) as bridge:
        for n in range(3):
            httpx.get(f"{bridge}/nowhere/{n}")
        got = samples(scrape(bridge).text)
    assert value(got, "c2r_requests_total", route="other", status="404", upstream="none") == 3


def test_model_labels_are_bounded() -> None:
    from chat_to_responses.server._metrics import MAX_MODELS, PrometheusMetrics

    metrics = PrometheusMetrics()
    for n in range(MAX_MODELS + 5):
        metrics.tokens(f"model-{n}", {"usage": {"input_tokens": 1, "output_tokens": 2}})
    got = samples(metrics.render()[0].decode())
    models = {dict(labels)["model"] for name, labels in got if name == "c2r_tokens_total"}
    assert len(models) == MAX_MODELS + 1
    assert value(got, "c2r_tokens_total", model="other", direction="in") == 5


def test_websocket_turns_are_counted(upstream_server: tuple[FakeUpstream, str]) -> None:
    """Codex may speak WebSocket mode: each turn counts like a request (route ``ws /v1/responses``)."""
    pytest.importorskip("websockets")
    import json

    from websockets.sync.client import connect

    upstream, url = upstream_server
    upstream.reset(StreamTurn(fixture(USAGE)))
    with running_bridge(url, metrics=True) as bridge:
        ws_url = bridge.replace("http://", "ws://") + "/responses"
        headers = {"authorization": "Bearer sk-a"}
        with connect(ws_url, open_timeout=10, additional_headers=headers) as ws:
            for body in ({"model": "m", "input": "hi"}, {"model": "m", "input": 5}):
                ws.send(json.dumps({"type": "response.create", **body}))
                while json.loads(ws.recv(timeout=10))["type"] not in ("response.completed", "error"):
                    pass
        got = samples(scrape(bridge).text)
    route = {"route": "ws /v1/responses"}
    assert value(got, "c2r_requests_total", status="200", upstream="default", **route) == 1
    assert value(got, "c2r_errors_total", status="400", upstream="none", kind="http", **route) == 1
    assert value(got, "c2r_time_to_first_event_seconds_count", **route) == 1
    assert value(got, "c2r_tokens_total", model="m", direction="out") == 300
    assert value(got, "c2r_active_streams") == 0
