"""Seed-compatible module path (``chat_cmpl_stream_handler.utils.get_strict_json_schema``), a thin
re-export shim; the code is in ``chat_to_responses._pydantic_tools``."""

from .._pydantic_tools import get_strict_json_schema

__all__ = ["get_strict_json_schema"]
