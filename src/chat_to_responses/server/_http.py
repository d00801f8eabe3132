"""uvicorn's HTTP protocol with the limits on request heads uvicorn lacks (see ``_limits``).

uvicorn waits forever for the first request of a connection, so idle sockets pile up until the server runs
out of descriptors; and a head is parsed however large it is (httptools), or whenever it arrives in one
read (h11's limit only holds while a head is incomplete in its buffer). :class:`HeadLimits` closes a
connection that has not sent a whole head within the timeout (after it opened, or after its last
response) and answers 431 to a head larger than the limit, before the parser sees it. It goes on top of
the protocol uvicorn would pick itself: httptools when installed, else h11.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from ._errors import error_body


class HeadLimits:
    """A mixin for a uvicorn protocol; :func:`head_limits_protocol` makes one with its two limits set."""

    head_timeout = 10.0
    max_head_bytes = 32 * 1024
    max_connections = 512
    connections: set[Any]
    _head_timer: asyncio.TimerHandle | None = None
    _head_size = 0
    _head_tail = b""
    _counting = False

    # What the protocol class provides (uvicorn's H11Protocol and HttpToolsProtocol both do).
    transport: asyncio.Transport
    loop: asyncio.AbstractEventLoop
    cycle: Any

    def connection_made(self, transport: asyncio.Transport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        if len(self.connections) > self.max_connections:  # before it can sit idle holding a descriptor
            _reply_and_close(transport, 503, "Service Unavailable", "The server has too many connections.")
            return
        self._expect_head()

    def on_response_complete(self) -> None:
        super().on_response_complete()  # type: ignore[misc]
        # Answered before its body was read (a 413): the rest of that body is no head, do not count it.
        if self.cycle is None or not getattr(self.cycle, "more_body", False):
            self._expect_head()

    def data_received(self, data: bytes) -> None:
        if self._counting and not self._count_head(data):
            message = f"Request head larger than {self.max_head_bytes} bytes, the server's limit."
            _reply_and_close(self.transport, 431, "Request Header Fields Too Large", message)
            return
        cycle = self.cycle
        super().data_received(data)  # type: ignore[misc]
        if self.cycle is not cycle and self._head_timer is not None:  # a whole head came
            self._head_timer.cancel()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
        super().connection_lost(exc)  # type: ignore[misc]

    def _expect_head(self) -> None:
        self._counting, self._head_size, self._head_tail = True, 0, b""
        if self._head_timer is not None:
            self._head_timer.cancel()
        self._head_timer = self.loop.call_later(self.head_timeout, self._head_timed_out)

    def _count_head(self, data: bytes) -> bool:
        """Count the head's bytes up to its blank line; False once there are too many."""
        joined = self._head_tail + data
        end = joined.find(b"\r\n\r\n")
        if end >= 0:
            self._counting = False
            return self._head_size + end + 4 - len(self._head_tail) <= self.max_head_bytes
        self._head_size += len(data)
        self._head_tail = joined[-3:]
        return self._head_size <= self.max_head_bytes

    def _head_timed_out(self) -> None:
        if self.cycle is None or self.cycle.response_complete:
            self.transport.close()


def head_limits_protocol(timeout: float, max_bytes: int, max_connections: int) -> type[Any]:
    """uvicorn's protocol with :class:`HeadLimits` and these limits (uvicorn takes a class)."""
    base: type[Any]
    try:
        from uvicorn.protocols.http import httptools_impl

        base = httptools_impl.HttpToolsProtocol
    except ImportError:  # httptools is optional: uvicorn's fallback, h11
        from uvicorn.protocols.http import h11_impl

        base = h11_impl.H11Protocol
    limits = {"head_timeout": timeout, "max_head_bytes": max_bytes, "max_connections": max_connections}
    return type(f"HeadLimits{base.__name__}", (HeadLimits, base), limits)


def _reply_and_close(transport: asyncio.Transport, status: int, reason: str, message: str) -> None:
    """An OpenAI-style error answered before any request was parsed, then the end of the connection."""
    code = "header_too_large" if status == 431 else "server_busy"
    body = json.dumps(error_body(message, kind="invalid_request_error", code=code)).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    transport.write(head.encode() + body)
    transport.close()
