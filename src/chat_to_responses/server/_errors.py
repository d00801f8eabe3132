"""Errors of the Responses server, in the OpenAI error format.

Every failure the server reports before a stream starts is a :class:`BridgeError`: an HTTP status and the
four fields of the OpenAI error object (``{"error": {"message", "type", "param", "code"}}``), the shape the
openai SDK turns into ``BadRequestError``, ``NotFoundError``… Clients therefore see the same exceptions as
against the real API. Once a stream has started, failures are ``response.failed`` events instead (the core
translator's job), never an HTTP error.

An upstream HTTP error keeps its status code; its message is kept when the body is an error object (most
Chat Completions servers send the OpenAI shape), else the start of the body is quoted.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

Json = dict[str, Any]

_QUOTE_CHARS = 500


class BridgeError(Exception):
    """An error answered as ``status`` with an OpenAI-style error body."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        kind: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.kind = kind  # the error object's "type"
        self.param = param
        self.code = code

    def body(self) -> Json:
        return error_body(self.message, kind=self.kind, param=self.param, code=self.code)


def error_body(
    message: str,
    *,
    kind: str = "invalid_request_error",
    param: str | None = None,
    code: str | None = None,
) -> Json:
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def invalid(message: str, param: str | None, code: str = "invalid_value") -> BridgeError:
    """A 400 for a request field (``param`` names it, as the real API does)."""
    return BridgeError(400, message, param=param, code=code)


def not_found(response_id: str, param: str | None = None) -> BridgeError:
    # The Responses API's codes: a missing response chained from is previous_response_not_found.
    code = "previous_response_not_found" if param == "previous_response_id" else "response_not_found"
    return BridgeError(404, f"Response with id '{response_id}' not found.", param=param, code=code)


def _quote(content: bytes) -> str:
    text = content[:_QUOTE_CHARS].decode("utf-8", "replace").strip()
    return text + ("…" if len(content) > _QUOTE_CHARS else "")


def upstream_http_error(status: int, content: bytes) -> BridgeError:
    """The error for an upstream HTTP error response: same status, the upstream's message when it has one."""
    try:
        data = json.loads(content) if content else None
    except ValueError:
        data = None
    error = data.get("error") if isinstance(data, Mapping) else None
    if isinstance(error, str):  # some servers (Ollama, older llama.cpp) send {"error": "message"}
        error = {"message": error}
    if isinstance(error, Mapping) and isinstance(error.get("message"), str):
        code = error.get("code")
        return BridgeError(
            status,
            error["message"],
            kind=str(error.get("type") or "upstream_error"),
            param=error.get("param") if isinstance(error.get("param"), str) else None,
            code=None if code is None else str(code),
        )
    detail = f": {_quote(content)}" if content else ""
    return BridgeError(status, f"upstream returned HTTP {status}{detail}", kind="upstream_error")
