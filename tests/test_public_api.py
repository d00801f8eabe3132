"""The public surface is explicit: a change to it is a deliberate change to this test."""

from __future__ import annotations

import chat_to_responses
import chat_to_responses.testing


def test_top_level_all() -> None:
    assert sorted(chat_to_responses.__all__) == [
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
    for name in chat_to_responses.__all__:
        assert getattr(chat_to_responses, name) is not None


def test_testing_all_resolves() -> None:
    assert sorted(chat_to_responses.testing.__all__) == [
        "CompletionTurn",
        "ErrorTurn",
        "RecordingTransport",
        "ReplayStream",
        "ReplayTransport",
        "ResponsesStreamSnapshotExtension",
        "StreamTurn",
        "Violation",
        "assert_stream_ok",
        "check_stream",
        "format_events",
        "recording_client",
        "responses_snapshot",
    ]
    for name in chat_to_responses.testing.__all__:
        assert getattr(chat_to_responses.testing, name) is not None


def test_default_ids_are_unique_and_prefixed() -> None:
    ids = {chat_to_responses.random_id("msg") for _ in range(1000)}
    assert len(ids) == 1000
    assert all(i.startswith("msg_") for i in ids)
    seq = chat_to_responses.SequentialIds()
    assert [seq("fc"), seq("fc"), seq("msg")] == ["fc_1", "fc_2", "msg_1"]
