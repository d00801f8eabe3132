"""Every recorded provider stream in ``fixtures/chat-streams`` (100 streams, 32 providers).

For each: the emitted stream keeps every rule (``check_stream``), the real openai SDK's
``client.responses.stream()`` consumes our SSE over an httpx transport and its final output equals our
terminal response, and a snapshot pins the whole event sequence.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from chat_to_responses import ChatCmplStreamHandler, SequentialIds
from chat_to_responses._sse import encode_sse, read_chunk_file
from chat_to_responses.testing import check_stream
from chat_to_responses.testing import responses_snapshot as responses_snapshot  # the fixture

CORPUS = Path(__file__).parent.parent / "fixtures" / "chat-streams"
FILES = sorted(CORPUS.glob("*/*.jsonl"))
IDS = [str(p.relative_to(CORPUS).with_suffix("")).replace("/", "__") for p in FILES]  # snapshot file names

# What each kind of recording must end as; everything else completes.
FAILED = {
    "groq/gptoss_error_event_midstream",
    "groq/gptoss_text_then_error",
    "openrouter/minimax_error_chunk_after_length",
    "openai/audio_output_SELF_AUTHORED",  # audio output is unsupported: a clear failure, not an empty answer
}
INCOMPLETE = {
    "openai/finish_length_max_tokens",
    "deepseek/chat_finish_length",
    "vllm/opt125m_finish_length_stop_reason",
}


def test_the_whole_corpus_is_here() -> None:
    assert len(FILES) == 100
    assert (CORPUS / "MANIFEST.md").is_file()


def _translate(path: Path) -> list[dict[str, Any]]:
    handler = ChatCmplStreamHandler(ids=SequentialIds())
    events: list[dict[str, Any]] = []
    for chunk in read_chunk_file(path):
        events.extend(handler.feed_dicts(chunk))
    events.extend(handler.finish_dicts())
    return events


def _strip(value: Any) -> Any:
    """JSON form without nulls and the SDK's ``parsed`` helper fields, for comparing outputs."""
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if v is not None and k != "parsed"}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_corpus_stream_keeps_every_rule(path: Path) -> None:
    events = _translate(path)
    violations = check_stream(events, sse_frames=[encode_sse(e) for e in events])
    assert violations == [], "\n".join(map(str, violations))
    name = str(path.relative_to(CORPUS).with_suffix(""))
    expected = "failed" if name in FAILED else "incomplete" if name in INCOMPLETE else "completed"
    assert events[-1]["type"] == f"response.{expected}"


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_openai_sdk_consumes_corpus_stream(path: Path) -> None:
    events = _translate(path)
    body = b"".join(encode_sse(e) for e in events)

    def serve(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    terminal = events[-1]
    with (
        httpx.Client(transport=httpx.MockTransport(serve)) as http,
        openai.OpenAI(api_key="test", base_url="http://upstream.test/v1", http_client=http) as client,
        client.responses.stream(model="m", input="hi") as stream,
    ):
        seen = [event.type for event in stream]
        assert seen == [e["type"] for e in events]
        if terminal["type"] != "response.completed":
            with pytest.raises(RuntimeError, match=r"response\.completed"):  # only a completed one is final
                stream.get_final_response()
            return
        final = stream.get_final_response()
    assert final.id == terminal["response"]["id"]
    assert _strip(final.model_dump(mode="json")["output"]) == _strip(terminal["response"]["output"])


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_corpus_stream_snapshot(path: Path, responses_snapshot: Any) -> None:
    assert _translate(path) == responses_snapshot
