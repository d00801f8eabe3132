"""A non-streamed ``ChatCompletion`` → a Responses ``Response``, through the same mapping as a stream.

One mapping, two entry points: the completion's message becomes one chunk whose delta holds the whole
message, and the stream translator turns it into output items. Every provider quirk handled for streams
(reasoning fields, ``<think>`` tags, tool calls without index, signatures, finish reasons, usage) is
handled here the same way, by the same code.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from openai.types.responses import Response

from ._translator import StreamTranslator


def completion_to_chunk(completion: Any) -> dict[str, Any]:
    """The chunk a stream would have carried for this completion (a dict or an SDK ``ChatCompletion``)."""
    data = completion.model_dump(mode="json") if hasattr(completion, "model_dump") else dict(completion)
    choices = []
    for choice in data.get("choices") or []:
        if not isinstance(choice, dict):
            continue
        message = dict(choice.get("message") or {})
        calls = message.get("tool_calls")
        if isinstance(calls, list):  # streamed fragments carry an index; whole calls get theirs in order
            message["tool_calls"] = [
                {**call, "index": i} if isinstance(call, dict) else call for i, call in enumerate(calls)
            ]
        choices.append({**choice, "delta": message})
    return {**{k: v for k, v in data.items() if k != "choices"}, "choices": choices}


def completion_to_response_dict(completion: Any, **options: Any) -> dict[str, Any]:
    """The terminal response (wire form) for a completion; options as for ``ChatCmplStreamHandler``."""
    translator = StreamTranslator(**options)
    events = translator.feed(completion_to_chunk(completion)) + translator.finish()
    terminal = events[-1]
    response: dict[str, Any] = terminal["response"]
    return response


def completion_to_response(
    completion: Any, *, response: Mapping[str, Any] | None = None, **options: Any
) -> Response:
    """The ``Response`` for a non-streamed chat completion: the same items a stream of it would give."""
    return Response.model_validate(completion_to_response_dict(completion, response=response, **options))


__all__ = ["completion_to_chunk", "completion_to_response", "completion_to_response_dict"]
