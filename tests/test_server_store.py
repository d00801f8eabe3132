"""The response store (#17, defect 7 and the store half of 2, 5 and 12): owners kept, chains linked instead
of copied, bounded by bytes as well as entries and age, links never broken, space given back."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from chat_to_responses.server import MemoryStore, SQLiteStore, StoredResponse

pytestmark = pytest.mark.anyio

Store = MemoryStore | SQLiteStore


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["memory", "sqlite"])
async def make(request: pytest.FixtureRequest, tmp_path: Path, clock: Clock) -> AsyncIterator[Any]:
    opened: list[Store] = []

    def make(**limits: Any) -> Store:
        options = {"max_entries": 1000, "ttl": 60.0, "clock": clock, **limits}
        store: Store = (
            MemoryStore(**options)
            if request.param == "memory"
            else SQLiteStore(tmp_path / f"s{len(opened)}.sqlite3", **options)
        )
        opened.append(store)
        return store

    yield make
    for store in opened:
        await store.aclose()


def turn(
    n: int, previous: StoredResponse | None, text: str = "", owner: str | None = "alice"
) -> StoredResponse:
    """Turn ``n`` of a chain: the conversation so far (what the server builds) + its input; one output."""
    history = previous.continued() if previous else []
    said = {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": f"a{n}"}]}
    parent = previous.id if previous else None
    response = {"id": f"resp_{n}", "previous_response_id": parent, "output": [said]}
    return StoredResponse(response, [*history, {"role": "user", "content": f"q{n} {text}"}], owner)


async def chain(store: Store, length: int, text: str = "") -> list[StoredResponse]:
    entries: list[StoredResponse] = []
    for n in range(length):
        entries.append(turn(n, entries[-1] if entries else None, text))
        await store.put(entries[-1])
    return entries


async def test_a_chain_costs_its_items_once(make: Any) -> None:
    """#17: each entry held its whole conversation (1,000 tiny turns → 134 MB; 8 × 8 MB inputs → 739 MB)."""
    store = make()
    entries = await chain(store, 200, "x" * 1000)
    assert store.size < 200 * 1400  # linear; copies would be ~200 * 100 * 1000 bytes
    tip = await store.get("resp_199")
    assert tip == entries[-1]  # whole conversation, owner and all, joined from the links
    assert len(tip.conversation) == 2 * 200 - 1  # type: ignore[union-attr]


async def test_the_store_is_bounded_by_bytes(make: Any, clock: Clock) -> None:
    store = make(max_bytes=50_000)
    for n in range(20):
        await store.put(turn(n, None, "y" * 9_000))
        clock.now += 1
    assert store.size <= 50_000
    assert await store.get("resp_19") is not None
    assert await store.get("resp_0") is None  # least recently used went first


async def test_links_outlive_eviction_and_deletion(make: Any, clock: Clock) -> None:
    store = make(max_entries=4)
    a, b, c = await chain(store, 3, "z")
    clock.now += 1
    await store.put(turn(10, None))
    await store.put(turn(11, None))  # five entries: a leaf goes (c, the least recently used), never a or b
    assert await store.get("resp_2") is None
    assert await store.get("resp_1") == b
    c = turn(2, b)
    await store.put(c)  # b's conversation still whole: continue from it again
    assert await store.delete("resp_1")  # hidden: c continues from it
    assert await store.get("resp_1") is None
    assert not await store.delete("resp_1")
    assert await store.get("resp_2") == c
    before = store.size
    assert await store.delete("resp_2")  # the last that needed b: both go
    assert store.size < before - len(str(b.response))
    assert await store.get("resp_0") == a


async def test_an_unused_entry_expires_and_its_space_goes(make: Any, clock: Clock) -> None:
    store = make(ttl=60)
    await chain(store, 3)
    clock.now += 61
    assert [await store.get(f"resp_{n}") for n in range(3)] == [None, None, None]
    await store.put(turn(9, None))
    assert await store.get("resp_9") is not None
    assert store.size < 1000  # only resp_9: the expired chain is gone


async def test_owner_and_lone_surrogates_are_kept(make: Any) -> None:
    store = make()
    entry = turn(0, None, "half \ud83d emoji", owner="bob")
    entry.response["output"][0]["content"][0]["text"] = "cut \udc00"
    await store.put(entry)
    assert await store.get("resp_0") == entry


async def test_sqlite_gives_space_back_after_deletes(tmp_path: Path) -> None:
    """#17: the file never shrank after deletes."""
    path = tmp_path / "s.sqlite3"
    store = SQLiteStore(path, max_entries=1000, ttl=60)
    try:
        for n in range(100):
            await store.put(turn(n, None, "w" * 20_000))
        full = path.stat().st_size + Path(f"{path}-wal").stat().st_size
        for n in range(100):
            assert await store.delete(f"resp_{n}")
        await store.put(turn(500, None))  # a write checkpoints the log now and then
    finally:
        await store.aclose()  # the last connection checkpoints and truncates the log
    assert path.stat().st_size < full / 4


async def test_sqlite_tightens_a_loose_file_and_drops_ownerless_entries(tmp_path: Path) -> None:
    """#17: an existing 0644 store file was left readable by others; its old entries have no owner."""
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    columns = "id TEXT PRIMARY KEY, stored_at REAL, used_at REAL, response TEXT, conversation TEXT"
    db.execute(f"CREATE TABLE responses ({columns})")
    db.execute("INSERT INTO responses VALUES ('resp_old', 1, 1, '{\"id\": \"resp_old\"}', '[]')")
    db.commit()
    db.close()
    os.chmod(path, 0o644)
    store = SQLiteStore(path, max_entries=10, ttl=1e12)
    try:
        assert path.stat().st_mode & 0o777 == 0o600
        assert await store.get("resp_old") is None
        await store.put(turn(0, None))
        for companion in (Path(f"{path}-wal"), Path(f"{path}-shm")):
            assert companion.stat().st_mode & 0o077 == 0
    finally:
        await store.aclose()
