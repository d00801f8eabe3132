"""Seed-compatible module path (``chat_cmpl_stream_handler.utils.pydantic_to_tool``), a thin re-export
shim; the code is in ``chat_to_responses._pydantic_tools``."""

from .._pydantic_tools import (
    PydanticToolConfig,
    PydanticToolHandlerFn,
    build_pydantic_tools_and_invokers,
    pydantic_to_tool,
)
from .._tools import ToolInvoker as ToolInvokerFn

__all__ = [
    "PydanticToolConfig",
    "PydanticToolHandlerFn",
    "ToolInvokerFn",
    "build_pydantic_tools_and_invokers",
    "pydantic_to_tool",
]
