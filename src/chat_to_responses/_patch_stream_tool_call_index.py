"""Seed-compatible module path: ``apply()`` is a no-op, as in chat-cmpl-stream-handler 0.6.

The seed monkey-patched the openai SDK here for providers that send ``tool_call.index = None``. This
library never needed it: :class:`~chat_to_responses.ChatCmplStreamHandler` matches tool-call fragments by
index, else by id, else to the latest call, without touching the SDK. The module stays so that code (and
conftests) calling ``apply()`` keep running; like the seed 0.6, the call warns that it can be deleted.
"""

from __future__ import annotations

import warnings

__all__ = ["apply"]


def apply() -> None:
    """Do nothing but warn (``DeprecationWarning``): delete the call."""
    warnings.warn(
        "_patch_stream_tool_call_index.apply() is a no-op: chat_to_responses handles tool calls without an "
        "index by itself. Remove the call.",
        DeprecationWarning,
        stacklevel=2,
    )
