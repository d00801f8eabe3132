"""Seed-compatible module path (``chat_cmpl_stream_handler.events``): the tool loop's lifecycle events.

A thin re-export shim, public because seed users import this path; the events live in
``chat_to_responses._loop`` and are exported from ``chat_to_responses`` too. One intended difference:
``StreamEvent.event`` is a Responses stream event (``response.output_text.delta``…), not a chat
completion stream event (``content.delta``…).
"""

from ._loop import (
    IterationCompleted,
    IterationStarted,
    LifecycleEvent,
    RunCompleted,
    RunFailed,
    StreamEvent,
    ToolCallCompleted,
    ToolCallFailed,
    ToolCallStarted,
)
from ._tools import ToolResult

__all__ = [
    "IterationCompleted",
    "IterationStarted",
    "LifecycleEvent",
    "RunCompleted",
    "RunFailed",
    "StreamEvent",
    "ToolCallCompleted",
    "ToolCallFailed",
    "ToolCallStarted",
    "ToolResult",
]
