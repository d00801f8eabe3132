"""A stand-in for a model server: bundled recordings served as a Chat Completions API on 127.0.0.1.

    python examples/replay_upstream.py &                            # 127.0.0.1:8000 (--port to change)
    chat-to-responses serve --upstream http://127.0.0.1:8000/v1 &   # the Responses API on 127.0.0.1:8080
    python examples/bridge_openai_sdk.py

A request that offers tools and does not end with a tool result gets a recorded DeepSeek tool call
(``weather`` for San Francisco); any other request a recorded answer. Streamed requests only (what
the bridge sends for streamed Responses requests). Needs the ``server`` extra.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from chat_to_responses.testing import ReplayTransport

RECORDINGS = Path(__file__).resolve().parent.parent / "fixtures" / "chat-streams"
TOOL_CALL = RECORDINGS / "deepseek" / "reasoner_tool_call.jsonl"
ANSWER = RECORDINGS / "deepseek" / "reasoner_reasoning_content.jsonl"


def recording_for(body: dict[str, Any]) -> Path:
    messages = body.get("messages") or [{}]
    return TOOL_CALL if body.get("tools") and messages[-1].get("role") != "tool" else ANSWER


async def chat_completions(request: Request) -> Response:
    body = await request.json()
    # The library's replay transport answers as the recorded server did (SSE framing and all).
    replay = ReplayTransport.from_files(recording_for(body))
    answer = await replay.handle_async_request(
        httpx.Request("POST", "http://replay.invalid/v1/chat/completions", json=body)
    )
    content_type = answer.headers.get("content-type", "application/json")
    return StreamingResponse(answer.stream, status_code=answer.status_code, media_type=content_type)


async def models(request: Request) -> Response:
    return JSONResponse(
        {"object": "list", "data": [{"id": "replay", "object": "model", "owned_by": "replay"}]}
    )


app = Starlette(
    routes=[
        Route("/v1/chat/completions", chat_completions, methods=["POST"]),
        Route("/v1/models", models, methods=["GET"]),
    ]
)

if __name__ == "__main__":
    import uvicorn

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--port", type=int, default=8000)
    uvicorn.run(app, host="127.0.0.1", port=parser.parse_args().port)
