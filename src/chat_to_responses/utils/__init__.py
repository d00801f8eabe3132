"""Seed-compatible package path (``chat_cmpl_stream_handler.utils``): thin re-export shims only.

Its modules are public because seed users import them (``utils.mcp``, ``utils.pydantic_to_tool``,
``utils.get_strict_json_schema``, ``utils.tool_call``, ``utils.camel_to_snake``); the code lives in the
library's private modules and the same names are exported from ``chat_to_responses``.
"""
