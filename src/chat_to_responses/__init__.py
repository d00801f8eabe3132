"""chat-to-responses: Chat Completions streams in, Responses API streams out.

The core is :class:`ChatCmplStreamHandler` (sans-IO: ``feed(chunk) -> events``, ``finish() -> events``);
:func:`translate` and :func:`atranslate` drive it over sync and async chunk iterables;
:func:`translate_sse` / :func:`atranslate_sse` are the wire path (SSE bytes in, SSE frames out, no
pydantic models), what an HTTP bridge runs. SSE framing both
ways: :func:`encode_sse` for Responses events, :class:`ChatSSEDecoder` / :func:`read_chunk_file` for Chat
Completions streams. :func:`responses_client` / :func:`responses_client_sync` are openai clients whose
``responses.*`` run the HTTP bridge in-process (for any framework that takes an openai client). Test
helpers (stream validator, snapshots, record/replay) are in ``chat_to_responses.testing``.
"""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING, Any

from ._carriers import decode_carriers
from ._dist import __version__ as __version__
from ._handler import ChatCmplStreamHandler, atranslate, to_event_model, translate
from ._history import items_to_messages, messages_to_items, output_items_to_message
from ._ids import IdFactory, SequentialIds, random_id
from ._loop import (
    ChatCompletionStreamHandler,
    ChunkStreamer,
    FunctionTool,
    IterationCompleted,
    IterationStarted,
    LifecycleEvent,
    MaxIterationsReached,
    OnToolError,
    ResponsesStreamHandler,
    RunCompleted,
    RunFailed,
    StreamEvent,
    StreamResult,
    Tool,
    ToolCallCompleted,
    ToolCallFailed,
    ToolCallStarted,
    ToolCallTimeout,
    ToolErrorContent,
    UnknownToolError,
    UpstreamError,
    default_tool_error_content,
    merge_tools_and_invokers,
    stream_until_user_input,
    stream_until_user_input_events,
)
from ._pydantic_tools import (
    PydanticToolConfig,
    build_pydantic_tools_and_invokers,
    get_strict_json_schema,
    pydantic_to_tool,
)
from ._sse import (
    ChatSSEDecoder,
    encode_sse,
    encode_sse_done,
    iter_jsonl_chunks,
    read_chunk_body,
    read_chunk_file,
)
from ._tools import ToolCall, ToolInputError, ToolInvoker, ToolParam, ToolResult, args_from_tool_call
from ._wire import atranslate_sse, translate_sse

if TYPE_CHECKING:
    import openai

ToolInvokerFn = ToolInvoker  # the seed's name

__all__ = [
    "ChatCmplStreamHandler",
    "ChatCompletionStreamHandler",
    "ChatSSEDecoder",
    "ChunkStreamer",
    "FunctionTool",
    "IdFactory",
    "IterationCompleted",
    "IterationStarted",
    "LifecycleEvent",
    "MCPConnectionError",
    "MCPServerConfig",
    "MCPToolCallError",
    "MCPToolTimeoutError",
    "MCPToolset",
    "MCPToolsetError",
    "MaxIterationsReached",
    "OnToolError",
    "PydanticToolConfig",
    "ResponsesStreamHandler",
    "RunCompleted",
    "RunFailed",
    "SequentialIds",
    "StreamEvent",
    "StreamResult",
    "Tool",
    "ToolCall",
    "ToolCallCompleted",
    "ToolCallFailed",
    "ToolCallStarted",
    "ToolCallTimeout",
    "ToolErrorContent",
    "ToolInputError",
    "ToolInvoker",
    "ToolInvokerFn",
    "ToolParam",
    "ToolResult",
    "UnknownToolError",
    "UpstreamError",
    "args_from_tool_call",
    "atranslate",
    "atranslate_sse",
    "build_mcp_tools_and_invokers",
    "build_pydantic_tools_and_invokers",
    "call_mcp_tool",
    "decode_carriers",
    "default_tool_error_content",
    "encode_sse",
    "encode_sse_done",
    "get_strict_json_schema",
    "items_to_messages",
    "iter_jsonl_chunks",
    "list_mcp_tools",
    "merge_tools_and_invokers",
    "messages_to_items",
    "output_items_to_message",
    "pydantic_to_tool",
    "random_id",
    "read_chunk_body",
    "read_chunk_file",
    "responses_client",
    "responses_client_sync",
    "stream_until_user_input",
    "stream_until_user_input_events",
    "to_event_model",
    "translate",
    "translate_sse",
]


def responses_client(
    upstream: str | openai.AsyncOpenAI | openai.OpenAI, *, api_key: str | None = None, **options: Any
) -> openai.AsyncOpenAI:
    """An ``openai.AsyncOpenAI`` whose ``responses.*`` run in-process over a Chat Completions upstream.

    The same code as ``chat-to-responses serve``, with no server; see :mod:`chat_to_responses._inprocess`.
    Needs the ``server`` extra.
    """
    _require_server_extra()
    from ._inprocess import responses_client as make

    return make(upstream, api_key=api_key, **options)


def responses_client_sync(
    upstream: str | openai.AsyncOpenAI | openai.OpenAI, *, api_key: str | None = None, **options: Any
) -> openai.OpenAI:
    """The sync ``openai.OpenAI`` counterpart of :func:`responses_client`."""
    _require_server_extra()
    from ._inprocess import responses_client_sync as make

    return make(upstream, api_key=api_key, **options)


def _require_server_extra() -> None:
    missing = [name for name in ("starlette", "httpx") if importlib.util.find_spec(name) is None]
    if missing:
        raise ModuleNotFoundError(
            f"the in-process Responses client needs {' and '.join(missing)}: "
            "pip install 'chat-to-responses[server]'"
        )


# MCP tools need the optional `mcp` package (the [mcp] extra): imported on first use.
_MCP_NAMES = frozenset(
    {
        "MCPConnectionError",
        "MCPServerConfig",
        "MCPToolCallError",
        "MCPToolTimeoutError",
        "MCPToolset",
        "MCPToolsetError",
        "build_mcp_tools_and_invokers",
        "call_mcp_tool",
        "list_mcp_tools",
    }
)


def __getattr__(name: str) -> object:
    if name not in _MCP_NAMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        from . import _mcp_tools
    except ModuleNotFoundError as exc:  # pragma: no cover - depends on the environment
        from ._dist import install_command

        raise ModuleNotFoundError(f"{name} needs the mcp package: {install_command('mcp')}") from exc
    return getattr(_mcp_tools, name)
