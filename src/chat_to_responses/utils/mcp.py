"""Seed-compatible module path (``chat_cmpl_stream_handler.utils.mcp``), a thin re-export shim.

MCP servers as tools: the code is in ``chat_to_responses._mcp_tools`` (needs the ``[mcp]`` extra).
"""

from .._mcp_tools import (
    MCPConnectionError,
    MCPServerConfig,
    MCPToolCallError,
    MCPToolset,
    MCPToolsetError,
    MCPToolTimeoutError,
    ToolFilter,
    build_mcp_tools_and_invokers,
    call_mcp_tool,
    clear_endpoint_cache,
    list_mcp_tools,
)
from .._tools import ToolInvoker as ToolInvokerFn

ToolFilterFn = ToolFilter

__all__ = [
    "MCPConnectionError",
    "MCPServerConfig",
    "MCPToolCallError",
    "MCPToolTimeoutError",
    "MCPToolset",
    "MCPToolsetError",
    "ToolFilterFn",
    "ToolInvokerFn",
    "build_mcp_tools_and_invokers",
    "call_mcp_tool",
    "clear_endpoint_cache",
    "list_mcp_tools",
]
