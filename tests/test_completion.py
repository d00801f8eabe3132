"""Non-streamed completions map to the same output items as the stream of the same answer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openai.types.chat import ChatCompletion

from chat_to_responses import SequentialIds, read_chunk_file, translate
from chat_to_responses._completion import completion_to_response

CORPUS = Path(__file__).parent.parent / "fixtures" / "chat-streams"


def _accumulate(chunks: list[dict[str, Any]]) -> dict[str, Any]:
    """The non-streamed completion a provider would have returned for this stream (choice 0)."""
    content, reasoning, calls, finish, usage = [], [], {}, None, None
    for chunk in chunks:
        usage = chunk.get("usage") or usage
        for choice in chunk.get("choices") or []:
            if choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            content.append(delta.get("content") or "")
            reasoning.append(delta.get("reasoning_content") or "")
            for call in delta.get("tool_calls") or []:
                slot = calls.setdefault(
                    call["index"], {"id": "", "type": "function", "function": {"name": "", "arguments": ""}}
                )
                slot["id"] = call.get("id") or slot["id"]
                slot["function"]["name"] += (call.get("function") or {}).get("name") or ""
                slot["function"]["arguments"] += (call.get("function") or {}).get("arguments") or ""
            finish = choice.get("finish_reason") or finish
    message: dict[str, Any] = {"role": "assistant", "content": "".join(content) or None}
    if "".join(reasoning):
        message["reasoning_content"] = "".join(reasoning)
    if calls:
        message["tool_calls"] = [calls[i] for i in sorted(calls)]
    return {
        "id": "c",
        "object": "chat.completion",
        "created": 1700000000,
        "model": chunks[0].get("model") or "m",
        "choices": [{"index": 0, "message": message, "finish_reason": finish or "stop"}],
        "usage": usage,
    }


@pytest.mark.parametrize(
    "name",
    [
        "openai/parallel_tool_calls_two",
        "deepseek/reasoner_tool_call",
        "deepseek/chat_finish_length",
        "groq/deepseek_r1_think_tags",
        "openai/text_usage_service_tier_obfuscation",
    ],
)
def test_completion_maps_like_its_stream(name: str) -> None:
    chunks = read_chunk_file(CORPUS / f"{name}.jsonl")
    completion = ChatCompletion.model_validate(_accumulate(chunks))
    mapped = completion_to_response(completion, ids=SequentialIds())
    streamed = list(translate(chunks, ids=SequentialIds()))[-1].response
    strip = {"created_at", "usage"}
    assert mapped.status == streamed.status
    assert mapped.model_dump(exclude=strip)["output"] == streamed.model_dump(exclude=strip)["output"]
    assert mapped.incomplete_details == streamed.incomplete_details


def test_a_dict_completion_with_tool_calls_and_no_content() -> None:
    completion = {
        "id": "x",
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {"id": "a", "type": "function", "function": {"name": "f", "arguments": "{}"}},
                        {"id": "b", "type": "function", "function": {"name": "g", "arguments": '{"x":1}'}},
                    ],
                },
                "finish_reason": "tool_calls",
            }
        ],
    }
    response = completion_to_response(completion, ids=SequentialIds())
    assert [(i.type, i.call_id) for i in response.output] == [("function_call", "a"), ("function_call", "b")]  # type: ignore[union-attr]
    assert response.status == "completed"
