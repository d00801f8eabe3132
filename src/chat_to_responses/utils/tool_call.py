"""Seed-compatible module path (``chat_cmpl_stream_handler.utils.tool_call``), a thin re-export shim;
the code is in ``chat_to_responses._tools``."""

from .._tools import ToolInvoker as ToolInvokerFn
from .._tools import args_from_tool_call

__all__ = ["ToolInvokerFn", "args_from_tool_call"]
