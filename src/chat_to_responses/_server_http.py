"""uvicorn's h11 protocol with the limits on request heads uvicorn lacks (see ``_server_limits``).

uvicorn waits forever for the first request of a connection, so idle sockets pile up until the server runs
out of descriptors; and h11's size limit only holds while a head is incomplete in its buffer, so a large
head that arrives in one read is parsed whole. :class:`HeadLimitsH11` closes a connection that has not
sent a whole head within the timeout (after it opened, or after its last response) and answers 431 to a
head larger than the limit, before h11 parses it.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from ._server_errors import error_body


class HeadLimitsH11(H11Protocol):
    """The protocol; :func:`head_limits_protocol` makes one with its two limits set."""

    head_timeout = 10.0
    max_head_bytes = 32 * 1024
    _head_timer: asyncio.TimerHandle | None = None
    _head_size = 0
    _head_tail = b""
    _counting = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._expect_head()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._expect_head()

    def data_received(self, data: bytes) -> None:
        if self._counting and not self._count_head(data):
            _reject_head(self.transport, self.max_head_bytes)
            return
        super().data_received(data)

    def handle_events(self) -> None:
        cycle = self.cycle
        super().handle_events()
        if self.cycle is not cycle and self._head_timer is not None:  # a whole head came
            self._head_timer.cancel()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
        super().connection_lost(exc)

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


def head_limits_protocol(timeout: float, max_bytes: int) -> type[HeadLimitsH11]:
    """:class:`HeadLimitsH11` with these limits (uvicorn takes a protocol class, not an instance)."""
    return type("HeadLimitsH11", (HeadLimitsH11,), {"head_timeout": timeout, "max_head_bytes": max_bytes})


def _reject_head(transport: Any, max_bytes: int) -> None:
    message = f"Request head larger than {max_bytes} bytes, the server's limit."
    body = json.dumps(error_body(message, code="header_too_large")).encode()
    head = (
        "HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    transport.write(head.encode() + body)
    transport.close()
