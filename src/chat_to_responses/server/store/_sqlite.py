"""The store in process memory or in one SQLite file (the interface is ``_base``'s).

An entry keeps the response object, its owner (a hash of the credential that created it: see
``server._limits.owner_of``) and only the conversation items that are new in it: a response continuing a
stored one links to it (``parent``) instead of copying its conversation, so a chain of n turns costs the
size of its items once, not n times. Reading an entry walks the links back to the root and joins the
pieces (``StoredResponse.conversation`` is whole, as before).

A link is never broken: an entry that others continue from stays as long as they do. Eviction therefore
takes leaves only (entries nothing continues from), least recently used first, until the store is within
``max_entries``, ``max_bytes`` (the JSON of the kept items and responses) and ``ttl`` (seconds since the
entry was last stored or read). An expired or deleted entry that others still continue from is hidden
(``get`` no longer finds it) and its data goes with the last entry that needs it.

- :class:`MemoryStore`: dicts in process memory (lost on restart).
- :class:`SQLiteStore`: one SQLite file via the stdlib ``sqlite3``, each call in a worker thread so the
  event loop never waits on the disk. WAL mode, so readers do not block the writer; ``auto_vacuum`` is
  incremental, so the file shrinks again after deletes and evictions. The file and its directory are
  private to the user (``0600`` / ``0700``, tightened when found looser): stored conversations are the
  user's data.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio.to_thread

from ._base import DEFAULT_MAX_BYTES, Clock, Json, ResponseStore, StoredResponse, _dumps, _own_items


@dataclass
class _Node:
    owner: str | None
    parent: str | None
    items: list[Any]
    response: Json
    length: int  # items of continued(): the prefix of an entry that links to this one
    size: int
    used_at: float
    children: int = 0
    hidden: bool = False


class MemoryStore(ResponseStore):
    """In process memory; leaves go least recently used first."""

    def __init__(
        self,
        *,
        max_entries: int,
        ttl: float,
        max_bytes: int = DEFAULT_MAX_BYTES,
        clock: Clock = time.monotonic,
    ) -> None:
        self._nodes: dict[str, _Node] = {}
        self._max_entries, self._max_bytes, self._ttl, self._clock = max_entries, max_bytes, ttl, clock
        self.size = 0  # bytes kept, as counted against max_bytes

    def _visible(self, response_id: str) -> _Node | None:
        node = self._nodes.get(response_id)
        if node is None or node.hidden:
            return None
        if self._clock() - node.used_at > self._ttl:
            self._drop(response_id)
            return None
        return node

    async def get(self, response_id: str) -> StoredResponse | None:
        node = self._visible(response_id)
        if node is None:
            return None
        node.used_at = self._clock()
        chain = [node]
        while chain[-1].parent is not None:
            chain.append(self._nodes[chain[-1].parent])
        conversation: list[Any] = []
        for link in reversed(chain[1:]):
            conversation += link.items
            conversation += link.response.get("output") or []
        return StoredResponse(node.response, [*conversation, *node.items], node.owner)

    async def put(self, entry: StoredResponse) -> None:
        if entry.id in self._nodes:  # ids are random: only a caller storing the same response again
            self._drop(entry.id)
            if entry.id in self._nodes:  # others continue from it: keep their links, take the new response
                self._nodes[entry.id].response, self._nodes[entry.id].hidden = entry.response, False
                return
        parent = self._visible(entry.parent) if entry.parent else None
        link, items = _own_items(entry, parent.length if parent else None)
        size = len(_dumps(items)) + len(_dumps(entry.response))
        length = len(entry.conversation) + len(entry.output)
        self._nodes[entry.id] = _Node(entry.owner, link, items, entry.response, length, size, self._clock())
        self.size += size
        if link is not None:
            self._nodes[link].children += 1
        self._evict()

    async def delete(self, response_id: str) -> bool:
        if self._visible(response_id) is None:
            return False
        self._drop(response_id)
        return True

    def _drop(self, response_id: str) -> None:
        """Hide an entry; its data goes once nothing continues from it."""
        node = self._nodes[response_id]
        node.hidden = True
        if node.children:
            return
        del self._nodes[response_id]
        self.size -= node.size
        parent = self._nodes.get(node.parent) if node.parent else None
        if parent is not None:
            parent.children -= 1
            if parent.hidden and not parent.children:
                self._drop(node.parent)  # type: ignore[arg-type]

    def _evict(self) -> None:
        now = self._clock()
        while self._nodes:
            over = len(self._nodes) > self._max_entries or self.size > self._max_bytes
            leaves = [(n.used_at, i) for i, n in self._nodes.items() if not n.children]
            used_at, oldest = min(leaves)
            if not over and now - used_at <= self._ttl:
                return
            self._drop(oldest)

    async def aclose(self) -> None:
        self._nodes.clear()
        self.size = 0


_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    id TEXT PRIMARY KEY,
    owner TEXT,
    parent TEXT REFERENCES entries (id),
    items TEXT NOT NULL,
    response TEXT NOT NULL,
    length INTEGER NOT NULL,
    size INTEGER NOT NULL,
    used_at REAL NOT NULL,
    children INTEGER NOT NULL DEFAULT 0,
    hidden INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS entries_leaves ON entries (children, used_at);
CREATE TABLE IF NOT EXISTS totals (bytes INTEGER NOT NULL);
INSERT INTO totals SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM totals);
DROP TABLE IF EXISTS responses;
"""
# `responses` was the table of the first format (a whole conversation per entry, no owner): its entries
# have no owner to check, so they are dropped rather than served to anyone.

_CHAIN = """
WITH RECURSIVE chain (id, parent, items, response, depth) AS (
    SELECT id, parent, items, response, 0 FROM entries WHERE id = ?
    UNION ALL
    SELECT e.id, e.parent, e.items, e.response, c.depth + 1 FROM entries e JOIN chain c ON e.id = c.parent
)
SELECT items, response FROM chain ORDER BY depth DESC
"""

_OWNER_ONLY = stat.S_IRUSR | stat.S_IWUSR


def _private_file(path: Path) -> None:
    """The store file and its SQLite companions exist and are ``0600``, in a ``0700`` directory."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, _OWNER_ONLY))
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if name.exists() and stat.S_IMODE(name.stat().st_mode) & ~_OWNER_ONLY:
            os.chmod(name, _OWNER_ONLY)  # a file made by an older version, or by hand: tightened


class SQLiteStore(ResponseStore):
    """One SQLite file; calls run in worker threads, one at a time (one connection, one lock)."""

    def __init__(
        self,
        path: Path,
        *,
        max_entries: int,
        ttl: float,
        max_bytes: int = DEFAULT_MAX_BYTES,
        clock: Clock = time.time,
    ) -> None:
        _private_file(path)
        old_umask = os.umask(0o077)  # the -wal and -shm files SQLite creates are private too
        try:
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA busy_timeout=5000")  # another server on the same file: wait, then fail
            if self._db.execute("PRAGMA auto_vacuum").fetchone()[0] != 2:
                self._db.execute("PRAGMA auto_vacuum=INCREMENTAL")
                self._db.execute("VACUUM")  # needed once for a file made without it
            self._db.execute("PRAGMA journal_mode=WAL")
        finally:
            os.umask(old_umask)
        self._db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across crashes of this process
        self._db.execute("PRAGMA journal_size_limit=8388608")  # the WAL file shrinks back after a checkpoint
        self._db.execute("PRAGMA foreign_keys=OFF")  # links are kept consistent here, counted in `children`
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()
        self._max_entries, self._max_bytes, self._ttl, self._clock = max_entries, max_bytes, ttl, clock
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

    @property
    def size(self) -> int:
        """Bytes kept, as counted against max_bytes."""
        with self._lock:
            return int(self._db.execute("SELECT bytes FROM totals").fetchone()[0])

    def _transaction(self, work: Callable[[], Any]) -> Any:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                result = work()
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            # Give freed pages back to the file system. executescript, since execute() stops after the first
            # step of this pragma, which frees a single page.
            self._db.executescript("PRAGMA incremental_vacuum;")
            return result

    def _visible(self, response_id: str, now: float) -> tuple[str | None] | None:
        row = self._db.execute(
            "SELECT owner FROM entries WHERE id = ? AND NOT hidden AND used_at >= ?",
            (response_id, now - self._ttl),
        ).fetchone()
        return None if row is None else (row[0],)

    def _get(self, response_id: str) -> StoredResponse | None:
        def work() -> StoredResponse | None:
            now = self._clock()
            found = self._visible(response_id, now)
            if found is None:
                return None
            self._db.execute("UPDATE entries SET used_at = ? WHERE id = ?", (now, response_id))
            return self._chain(response_id, found[0])

        result: StoredResponse | None = self._transaction(work)
        return result

    def _chain(self, response_id: str, owner: str | None) -> StoredResponse:
        rows = self._db.execute(_CHAIN, (response_id,)).fetchall()
        conversation: list[Any] = []
        for items, response in rows[:-1]:
            conversation += json.loads(items)
            conversation += json.loads(response).get("output") or []
        items, response = rows[-1]
        return StoredResponse(json.loads(response), [*conversation, *json.loads(items)], owner)

    def _put(self, entry: StoredResponse) -> None:
        def work() -> None:
            now = self._clock()
            self._drop(entry.id, replace=True)
            parent = entry.parent
            row = None
            if parent and self._visible(parent, now):
                row = self._db.execute("SELECT length FROM entries WHERE id = ?", (parent,)).fetchone()
            link, items = _own_items(entry, row[0] if row else None)
            items_json, response_json = _dumps(items), _dumps(entry.response)
            size = len(items_json) + len(response_json)
            length = len(entry.conversation) + len(entry.output)
            self._db.execute(
                "INSERT INTO entries (id, owner, parent, items, response, length, size, used_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (entry.id, entry.owner, link, items_json, response_json, length, size, now),
            )
            self._db.execute("UPDATE totals SET bytes = bytes + ?", (size,))
            if link is not None:
                self._db.execute("UPDATE entries SET children = children + 1 WHERE id = ?", (link,))
            self._evict(now)

        self._transaction(work)

    def _delete(self, response_id: str) -> bool:
        def work() -> bool:
            if self._visible(response_id, self._clock()) is None:
                return False
            self._drop(response_id)
            return True

        result: bool = self._transaction(work)
        return result

    def _drop(self, response_id: str, *, replace: bool = False) -> None:
        """Hide an entry; its data goes once nothing continues from it, then maybe its parent's."""
        while True:
            row = self._db.execute(
                "SELECT parent, size, children FROM entries WHERE id = ?", (response_id,)
            ).fetchone()
            if row is None:
                return
            parent, size, children = row
            if children:
                if replace:  # others continue from it: the same id is stored anew, their links kept
                    raise ValueError(f"response {response_id} is already stored and continued from")
                self._db.execute("UPDATE entries SET hidden = 1 WHERE id = ?", (response_id,))
                return
            self._db.execute("DELETE FROM entries WHERE id = ?", (response_id,))
            self._db.execute("UPDATE totals SET bytes = bytes - ?", (size,))
            if parent is None:
                return
            self._db.execute("UPDATE entries SET children = children - 1 WHERE id = ?", (parent,))
            hidden = self._db.execute("SELECT hidden FROM entries WHERE id = ?", (parent,)).fetchone()
            if not hidden or not hidden[0]:
                return
            response_id, replace = parent, False

    def _evict(self, now: float) -> None:
        while True:
            count, size = self._db.execute(
                "SELECT (SELECT count(*) FROM entries), (SELECT bytes FROM totals)"
            ).fetchone()
            oldest = self._db.execute(
                "SELECT id, used_at FROM entries WHERE children = 0 ORDER BY used_at LIMIT 1"
            ).fetchone()
            if oldest is None:
                return
            if count <= self._max_entries and size <= self._max_bytes and now - oldest[1] <= self._ttl:
                return
            self._drop(oldest[0])
