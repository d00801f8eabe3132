"""Stored responses, for ``previous_response_id`` and ``GET`` / ``DELETE /v1/responses/{id}``.

Each entry is self-contained: the response object (with its output items) and the conversation items that
produced it — the stored conversation of its own ``previous_response_id``, that response's output, then
its own input. Continuing from an entry therefore needs one read, and evicting an old entry never breaks a
newer chain. The price is space (a long chain repeats its prefix), which the bounds keep in check.

Both stores are bounded: an entry older than ``ttl`` seconds is gone, and beyond ``max_entries`` the least
recently used go first.

- :class:`MemoryStore`: an ordered dict in process memory (lost on restart).
- :class:`SQLiteStore`: one SQLite file via the stdlib ``sqlite3``, each call in a worker thread so the
  event loop never waits on the disk. WAL mode, so readers do not block the writer. The file and its
  directory are private to the user (``0600`` / ``0700``): stored conversations are the user's data.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio.to_thread

Json = dict[str, Any]
Clock = Callable[[], float]


@dataclass(frozen=True)
class StoredResponse:
    response: Json
    conversation: list[Any]  # the items that produced it (history + its input), not its output

    @property
    def id(self) -> str:
        return str(self.response["id"])

    def continued(self) -> list[Any]:
        """The items a response continuing from this one starts with: conversation + output."""
        return [*self.conversation, *(self.response.get("output") or [])]


class ResponseStore(ABC):
    """Async, bounded key-value store of responses."""

    @abstractmethod
    async def get(self, response_id: str) -> StoredResponse | None: ...

    @abstractmethod
    async def put(self, entry: StoredResponse) -> None: ...

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


class MemoryStore(ResponseStore):
    """In process memory, least recently used first out."""

    def __init__(self, *, max_entries: int, ttl: float, clock: Clock = time.monotonic) -> None:
        self._entries: OrderedDict[str, tuple[float, StoredResponse]] = OrderedDict()
        self._max_entries, self._ttl, self._clock = max_entries, ttl, clock

    async def get(self, response_id: str) -> StoredResponse | None:
        found = self._entries.get(response_id)
        if found is None:
            return None
        stored_at, entry = found
        if self._clock() - stored_at > self._ttl:
            del self._entries[response_id]
            return None
        self._entries.move_to_end(response_id)
        return entry

    async def put(self, entry: StoredResponse) -> None:
        self._entries[entry.id] = (self._clock(), entry)
        self._entries.move_to_end(entry.id)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    async def delete(self, response_id: str) -> bool:
        return self._entries.pop(response_id, None) is not None


_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    id TEXT PRIMARY KEY,
    stored_at REAL NOT NULL,
    used_at REAL NOT NULL,
    response TEXT NOT NULL,
    conversation TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS responses_used_at ON responses (used_at);
"""


def _private_file(path: Path) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        path.touch(mode=0o600)


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class SQLiteStore(ResponseStore):
    """One SQLite file; calls run in worker threads, one at a time (one connection, one lock)."""

    def __init__(self, path: Path, *, max_entries: int, ttl: float, clock: Clock = time.time) -> None:
        _private_file(path)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across crashes of this process
        self._db.executescript(_SCHEMA)
        self._max_entries, self._ttl, self._clock = max_entries, ttl, clock
        self._closed = False

    async def get(self, response_id: str) -> StoredResponse | None:
        return await anyio.to_thread.run_sync(self._get, response_id)

    async def put(self, entry: StoredResponse) -> None:
        await anyio.to_thread.run_sync(self._put, entry)

    async def delete(self, response_id: str) -> bool:
        return await anyio.to_thread.run_sync(self._delete, response_id)

    async def aclose(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._db.close()

    def _get(self, response_id: str) -> StoredResponse | None:
        now = self._clock()
        with self._lock:
            row = self._db.execute(
                "SELECT response, conversation FROM responses WHERE id = ? AND stored_at > ?",
                (response_id, now - self._ttl),
            ).fetchone()
            if row is None:
                return None
            self._db.execute("UPDATE responses SET used_at = ? WHERE id = ?", (now, response_id))
        return StoredResponse(json.loads(row[0]), json.loads(row[1]))

    def _put(self, entry: StoredResponse) -> None:
        now = self._clock()
        row = (entry.id, now, now, _dumps(entry.response), _dumps(entry.conversation))
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute("INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?, ?)", row)
                self._evict(now)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def _evict(self, now: float) -> None:
        self._db.execute("DELETE FROM responses WHERE stored_at <= ?", (now - self._ttl,))
        self._db.execute(
            "DELETE FROM responses WHERE id IN "
            "(SELECT id FROM responses ORDER BY used_at DESC LIMIT -1 OFFSET ?)",
            (self._max_entries,),
        )

    def _delete(self, response_id: str) -> bool:
        with self._lock:
            cursor = self._db.execute("DELETE FROM responses WHERE id = ?", (response_id,))
        return cursor.rowcount > 0


def open_store(kind: str, path: Path, *, max_entries: int, ttl: float) -> ResponseStore:
    """The store a server config names (``sqlite``, ``memory`` or ``none``)."""
    if kind == "memory":
        return MemoryStore(max_entries=max_entries, ttl=ttl)
    if kind == "none":
        return NoStore()
    return SQLiteStore(Path(os.path.expanduser(path)), max_entries=max_entries, ttl=ttl)
