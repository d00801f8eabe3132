"""``--store redis://HOST:PORT/DB`` (#16) against a real ``redis-server`` started on 127.0.0.1 and stopped
after: the SQLite store's policy (owners, linked chains, leaves evicted least recently used first within
entries, bytes and age, links never broken), Redis expiry as the backstop, two bridge processes continuing
each other's chains, and a 503 for what needs the store when Redis is down while other streams go on."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("redis")
pytest.importorskip("starlette")

import redis.asyncio

from bridge_processes import bridge_process, echo_inputs, post, redis_server, run_chain
from chat_to_responses.server.store import StoredResponse, StoreUnavailableError
from chat_to_responses.server.store._redis import RedisStore
from fake_upstream import FakeUpstream

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with redis_server() as (url, _):
        yield url


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def raw(redis_url: str) -> AsyncIterator[redis.asyncio.Redis]:
    client = redis.asyncio.Redis.from_url(redis_url, decode_responses=True)
    await client.flushdb()
    yield client
    await client.aclose()


@pytest.fixture
async def make(redis_url: str, raw: redis.asyncio.Redis) -> AsyncIterator[Any]:
    opened: list[RedisStore] = []
    clock = Clock()

    def make(**limits: Any) -> RedisStore:
        store = RedisStore(redis_url, **{"max_entries": 1000, "ttl": 60.0, "clock": clock, **limits})
        store.clock = clock  # type: ignore[attr-defined]
        opened.append(store)
        return store

    yield make
    for store in opened:
        await store.aclose()


def turn(n: int, previous: StoredResponse | None, owner: str | None = "alice") -> StoredResponse:
    history = previous.continued() if previous else []
    said = {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": f"a{n}"}]}
    response = {
        "id": f"resp_{n}",
        "previous_response_id": previous.id if previous else None,
        "output": [said],
    }
    asked = {"type": "message", "role": "user", "content": f"q{n}"}
    return StoredResponse(response, [*history, asked], owner)


async def chain(store: RedisStore, n: int, owner: str | None = "alice") -> list[StoredResponse]:
    turns: list[StoredResponse] = []
    for i in range(n):
        turns.append(turn(i, turns[-1] if turns else None, owner))
        await store.put(turns[-1])
    return turns


async def test_a_chain_reads_back_whole_and_is_stored_linked(make: Any, raw: redis.asyncio.Redis) -> None:
    store = make()
    turns = await chain(store, 4)
    for expected in turns:
        got = await store.get(expected.id)
        assert got == expected
    assert (await store.get("resp_3")).conversation[0]["content"] == "q0"  # type: ignore[union-attr]
    # each entry keeps only its own input: one item, not the whole history
    assert [await raw.hget(f"c2r:e:resp_{i}", "items") for i in (0, 3)] == [
        '[{"type":"message","role":"user","content":"q0"}]',
        '[{"type":"message","role":"user","content":"q3"}]',
    ]
    assert await raw.hget("c2r:e:resp_3", "parent") == "resp_2"


async def test_owner_and_anonymous_are_kept(make: Any) -> None:
    store = make()
    await store.put(turn(0, None, owner="bob"))
    await store.put(turn(1, None, owner=None))
    assert (await store.get("resp_0")).owner == "bob"  # type: ignore[union-attr]
    assert (await store.get("resp_1")).owner is None  # type: ignore[union-attr]
    assert await store.get("resp_unknown") is None


async def test_ttl_hides_and_redis_expiry_follows_the_last_use(make: Any, raw: redis.asyncio.Redis) -> None:
    store = make(ttl=100.0)
    turns = await chain(store, 2)
    assert 95 <= await raw.ttl("c2r:e:resp_0") <= 100  # EX: the policy's ttl, in whole seconds
    store.clock.now += 101
    assert await store.get("resp_0") is None  # the server's policy: unused for longer than ttl
    await store.put(turn(2, None))  # a write evicts what expired: both, the leaf then its parent
    assert await raw.exists("c2r:e:resp_0", "c2r:e:resp_1") == 0
    assert await raw.hlen("c2r:meta") == 1
    assert int(await raw.get("c2r:bytes")) == int(await raw.hget("c2r:e:resp_2", "size"))
    assert turns


async def test_a_continued_entry_stays_and_a_read_keeps_the_chain(
    make: Any, raw: redis.asyncio.Redis
) -> None:
    store = make(ttl=100.0)
    await chain(store, 3)
    store.clock.now += 60
    assert await store.get("resp_2") is not None  # a read refreshes the whole chain
    store.clock.now += 60
    assert await store.get("resp_0") is None  # its own last use is too old: hidden
    got = await store.get("resp_2")
    assert got is not None
    assert [item["content"] for item in got.conversation if item.get("role") == "user"] == ["q0", "q1", "q2"]


async def test_bounds_evict_leaves_least_recently_used_first(make: Any, raw: redis.asyncio.Redis) -> None:
    store = make(max_entries=3)
    a = await chain(store, 2)  # resp_0 <- resp_1
    store.clock.now += 1
    await store.put(turn(5, None))
    store.clock.now += 1
    await store.get("resp_1")  # now the most recently used
    store.clock.now += 1
    await store.put(turn(6, None))  # 4 entries: the oldest leaf (resp_5) goes, never resp_0 (continued)
    assert await store.get("resp_5") is None
    assert await store.get("resp_0") == a[0]
    assert await store.get("resp_1") == a[1]
    assert await raw.hlen("c2r:meta") == 3


async def test_max_bytes_bounds_the_store(make: Any, raw: redis.asyncio.Redis) -> None:
    store = make(max_bytes=600)
    for n in range(10):
        store.clock.now += 1
        await store.put(turn(n, None))
    assert int(await raw.get("c2r:bytes")) <= 600
    assert await store.get("resp_9") is not None
    assert await store.get("resp_0") is None


async def test_delete_hides_until_nothing_continues(make: Any, raw: redis.asyncio.Redis) -> None:
    store = make()
    await chain(store, 2)
    assert await store.delete("resp_0") is True
    assert await store.get("resp_0") is None
    assert await store.delete("resp_0") is False
    assert (await store.get("resp_1")).conversation[0]["content"] == "q0"  # type: ignore[union-attr]
    assert await store.delete("resp_1") is True
    assert await raw.exists("c2r:e:resp_0", "c2r:e:resp_1") == 0  # the hidden parent went with it
    assert await raw.hlen("c2r:meta") == 0
    assert int(await raw.get("c2r:bytes")) == 0


async def test_an_unreachable_redis_is_store_unavailable() -> None:
    from bridge_processes import free_port

    store = RedisStore(f"redis://127.0.0.1:{free_port()}/0", max_entries=10, ttl=60.0, timeout=1.0)
    with pytest.raises(StoreUnavailableError, match="unreachable"):
        await store.get("resp_1")
    with pytest.raises(StoreUnavailableError):
        await store.put(turn(0, None))
    await store.aclose()


# ------------------------------------------------------------------------- real bridge processes


def test_two_bridges_on_one_redis_continue_each_others_chains(
    upstream_server: tuple[FakeUpstream, str], redis_url: str, tmp_path: Path
) -> None:
    upstream, url = upstream_server
    upstream.reset(responder=echo_inputs)
    args = ["--upstream", f"{url}/v1", "--store", redis_url]
    with bridge_process(args, tmp_path / "a.log") as a, bridge_process(args, tmp_path / "b.log") as b:
        for n in range(3):
            responses = run_chain([a, b], f"x{n}", turns=4)  # every turn on the other process
        last = responses[-1]["id"]
        headers = {"authorization": "Bearer sk-client"}
        assert httpx.get(f"{a}/v1/responses/{last}", headers=headers).json()["id"] == last
        assert httpx.delete(f"{b}/v1/responses/{last}", headers=headers).status_code == 200
        assert httpx.get(f"{a}/v1/responses/{last}", headers=headers).status_code == 404
        other = httpx.get(f"{a}/v1/responses/{responses[0]['id']}", headers={"authorization": "Bearer x"})
        assert other.status_code == 404  # another credential's response stays invisible


def test_redis_down_is_a_503_for_the_store_and_nothing_else(
    upstream_server: tuple[FakeUpstream, str], tmp_path: Path
) -> None:
    upstream, url = upstream_server
    upstream.reset(responder=echo_inputs)
    with redis_server() as (redis_url, redis_process):
        args = ["--upstream", f"{url}/v1", "--store", redis_url]
        with bridge_process(args, tmp_path / "a.log") as bridge:
            first = run_chain([bridge], "d", turns=1)[0]
            _stop(redis_process)
            continued = post(bridge, {"model": "m", "input": "more", "previous_response_id": first["id"]})
            assert continued.status_code == 503
            assert continued.json()["error"]["code"] == "store_unavailable"
            headers = {"authorization": "Bearer sk-client"}
            assert httpx.get(f"{bridge}/v1/responses/{first['id']}", headers=headers).status_code == 503
            # a request that reads nothing stored is served, streamed or not, stored or not
            for body in ({"store": False}, {"stream": True}, {}):
                answer = post(bridge, {"model": "m", "input": "alone", **body})
                assert answer.status_code == 200
                assert "alone" in answer.text
                assert '"status":"failed"' not in answer.text.replace(" ", "")
    assert "could not store a response" in (tmp_path / "a.log").read_text()


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(timeout=10)


async def test_a_password_comes_from_the_environment_not_the_url(
    upstream_server: tuple[FakeUpstream, str], tmp_path: Path
) -> None:
    upstream, url = upstream_server
    upstream.reset(responder=echo_inputs)
    with redis_server("--requirepass", "s3cret-pw") as (redis_url, _):
        locked = RedisStore(redis_url, max_entries=10, ttl=60.0)
        with pytest.raises(StoreUnavailableError):  # no password: refused, as unreachable
            await locked.get("resp_1")
        await locked.aclose()
        args = ["--upstream", f"{url}/v1", "--store", redis_url]
        env = {"CHAT_TO_RESPONSES_STORE_PASSWORD": "s3cret-pw"}
        with (
            bridge_process(args, tmp_path / "a.log", env) as a,
            bridge_process(args, tmp_path / "b.log", env) as b,
        ):
            run_chain([a, b], "p", turns=2)


def test_a_store_url_password_is_not_in_the_config_repr() -> None:
    from chat_to_responses.server import ServerConfig

    config = ServerConfig(upstream="http://127.0.0.1:1/v1", store="redis://:hunter2@10.0.0.1:6379/0")
    assert "hunter2" not in repr(config)
    assert "redis://***@10.0.0.1:6379/0" in repr(config)
