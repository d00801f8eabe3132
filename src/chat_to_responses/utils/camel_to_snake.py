"""Seed-compatible module path (``chat_cmpl_stream_handler.utils.camel_to_snake``), a thin re-export
shim; the code is in ``chat_to_responses._pydantic_tools`` (it names pydantic tools)."""

from .._pydantic_tools import camel_to_snake

__all__ = ["camel_to_snake"]
