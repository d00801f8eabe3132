"""The store's common interface: what a stored response is, what every backend does, and what they share.

- :class:`StoredResponse`: a response, the conversation that produced it and its owner.
- :class:`ResponseStore`: the async interface of every backend (``get``, ``put``, ``delete``, ``aclose``);
  :class:`NoStore` (``--store none``) stores nothing.
- :class:`StoreUnavailableError`: the store cannot be reached (the server answers 503).

The backends (``_sqlite``: memory and SQLite; ``_redis``: Redis) keep the same layout and policy; the
helpers they share (the JSON encoding, an entry's own items) are here, once.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Json = dict[str, Any]
Clock = Callable[[], float]

DEFAULT_MAX_BYTES = 256 * 1024 * 1024
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


@dataclass(frozen=True)
class StoredResponse:
    response: Json
    conversation: list[Any]  # the items that produced it (history + its input), not its output
    owner: str | None = None  # who may read, delete and continue it (None: anyone, when allowed)

    @property
    def id(self) -> str:
        return str(self.response["id"])

    @property
    def parent(self) -> str | None:
        previous = self.response.get("previous_response_id")
        return previous if isinstance(previous, str) else None

    def continued(self) -> list[Any]:
        """The items a response continuing from this one starts with: conversation + output."""
        return [*self.conversation, *self.output]

    @property
    def output(self) -> list[Any]:
        return list(self.response.get("output") or [])


class StoreUnavailableError(Exception):
    """The store cannot be reached (a Redis that is down): the server answers 503 to what needs it."""


class ResponseStore(ABC):
    """Async, bounded key-value store of responses."""

    @abstractmethod
    async def get(self, response_id: str) -> StoredResponse | None: ...

    @abstractmethod
    async def put(self, entry: StoredResponse) -> None:
        """Keep ``entry``. When its ``previous_response_id`` is stored, its conversation starts with that
        response's ``continued()`` (as the server builds it): only the rest is kept, with a link."""

    @abstractmethod
    async def delete(self, response_id: str) -> bool: ...

    async def aclose(self) -> None:
        """Release the store's resources (nothing by default)."""
        return None


class NoStore(ResponseStore):
    """Stores nothing (``--store none``): every id is unknown."""

    async def get(self, response_id: str) -> StoredResponse | None:
        return None

    async def put(self, entry: StoredResponse) -> None:
        return None

    async def delete(self, response_id: str) -> bool:
        return False


def _dumps(value: Any) -> str:
    # ASCII: a lone surrogate (half an emoji from an upstream) is kept as its \\u escape, which SQLite's
    # UTF-8 encoding would refuse and json.loads gives back as it was.
    return json.dumps(value, separators=(",", ":"), ensure_ascii=True)


def _own_items(entry: StoredResponse, parent_length: int | None) -> tuple[str | None, list[Any]]:
    """(link, items new in ``entry``): a link only when the conversation starts with the parent's items."""
    if parent_length is None or parent_length > len(entry.conversation):
        return None, entry.conversation
    return entry.parent, entry.conversation[parent_length:]


def redact_url(url: str) -> str:
    """The URL without its credentials (``redis://:secret@host`` → ``redis://***@host``)."""
    scheme, sep, rest = url.partition("://")
    if "@" not in rest:
        return url
    return f"{scheme}{sep}***@{rest.rsplit('@', 1)[1]}"
