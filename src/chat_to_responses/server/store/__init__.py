"""The response store, for ``previous_response_id`` and ``GET`` / ``DELETE /v1/responses/{id}``.

- ``_base``: the common interface (:class:`ResponseStore`, :class:`StoredResponse`) and what the
  backends share.
- ``_sqlite``: :class:`MemoryStore` (process memory) and :class:`SQLiteStore` (one SQLite file).
- ``_redis``: ``RedisStore``, shared by several bridge processes (imported only for a ``redis://`` URL,
  since it needs the ``redis`` extra).

:func:`open_store` picks the backend a server config names.
"""

from __future__ import annotations

import os
from pathlib import Path

from ._base import (
    DEFAULT_MAX_BYTES,
    REDIS_SCHEMES,
    NoStore,
    ResponseStore,
    StoredResponse,
    StoreUnavailableError,
    redact_url,
)
from ._sqlite import MemoryStore, SQLiteStore

__all__ = [
    "DEFAULT_MAX_BYTES",
    "REDIS_SCHEMES",
    "MemoryStore",
    "NoStore",
    "ResponseStore",
    "SQLiteStore",
    "StoreUnavailableError",
    "StoredResponse",
    "open_store",
    "redact_url",
]


def open_store(
    kind: str, path: Path, *, max_entries: int, ttl: float, max_bytes: int, password: str | None = None
) -> ResponseStore:
    """The store a server config names (``sqlite``, ``memory``, ``none`` or a ``redis://`` URL, with
    ``password`` for it)."""
    if kind.startswith(REDIS_SCHEMES):
        from ._redis import RedisStore

        return RedisStore(kind, max_entries=max_entries, ttl=ttl, max_bytes=max_bytes, password=password)
    if kind == "memory":
        return MemoryStore(max_entries=max_entries, ttl=ttl, max_bytes=max_bytes)
    if kind == "none":
        return NoStore()
    return SQLiteStore(Path(os.path.expanduser(path)), max_entries=max_entries, ttl=ttl, max_bytes=max_bytes)
