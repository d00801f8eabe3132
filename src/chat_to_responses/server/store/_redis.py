"""The response store on Redis (or Valkey, or any Redis-protocol server): ``serve --store redis://HOST:PORT/DB``.

Several bridge processes, on one machine or many, share it: a chain started on one continues on any
other. The layout and the policy are the SQLite store's (``_sqlite``): an entry keeps its owner, its
own items and a link to the response it continues; only leaves are evicted, least recently used first,
until the store is within ``max_entries``, ``max_bytes`` and ``ttl``; an expired or deleted entry others
continue from is hidden and its data goes with the last entry that needs it.

Every operation is one Lua script, so it is atomic across replicas and never half-written: a process
that dies, or a connection that drops, leaves the store as before or as after. Keys, under a prefix:

- ``{p}e:{id}`` a hash per entry (owner, parent, items, response, length, size, children, hidden,
  used_at), with ``EX``: the policy's ``ttl`` past its last use, refreshed on the whole chain whenever an
  entry is stored or read, so Redis itself drops what is idle even when no write comes to evict it (a link
  never dangles: an entry's expiry is never before its descendants');
- ``{p}leaves`` a sorted set of the entries nothing continues from, by last use (the eviction order);
- ``{p}meta`` a hash of ``id → size parent`` for every entry (the count, and what to give back for an
  entry whose key Redis expired); ``{p}bytes`` the bytes kept.

Scripts touch keys they compute, which a single Redis (the usual deployment) allows; Redis Cluster does
not. Run Redis with ``maxmemory-policy noeviction`` (the bounds are kept here): an entry Redis evicts on
its own makes the chains through it unreadable (not found), never wrong. A Redis that cannot be reached
raises :class:`StoreUnavailableError` (the server answers 503).
"""

from __future__ import annotations

import json
import math
import time
from typing import Any

from ._base import (
    DEFAULT_MAX_BYTES,
    Clock,
    ResponseStore,
    StoredResponse,
    StoreUnavailableError,
    _dumps,
    _own_items,
    redact_url,
)

_DROP = """
local p = ARGV[1]
local function drop(id)
  while id do
    local key = p .. 'e:' .. id
    local meta = redis.call('HGET', p .. 'meta', id)
    if not meta then return end
    local size, parent = string.match(meta, '^(%d+) ?(.*)$')
    local children = tonumber(redis.call('HGET', key, 'children') or '0')
    if children > 0 then
      redis.call('HSET', key, 'hidden', '1')
      return
    end
    redis.call('DEL', key)
    redis.call('HDEL', p .. 'meta', id)
    redis.call('ZREM', p .. 'leaves', id)
    redis.call('DECRBY', p .. 'bytes', size)
    if parent == '' then return end
    local pkey = p .. 'e:' .. parent
    if redis.call('EXISTS', pkey) == 0 then
      id = parent  -- expired by Redis: its index entries go too
    else
      local left = redis.call('HINCRBY', pkey, 'children', -1)
      if left > 0 then return end
      redis.call('ZADD', p .. 'leaves', redis.call('HGET', pkey, 'used_at'), parent)
      if redis.call('HGET', pkey, 'hidden') ~= '1' then return end
      id = parent
    end
  end
end
local function visible(id, now, ttl)
  local row = redis.call('HMGET', p .. 'e:' .. id, 'hidden', 'used_at')
  return row[2] and row[1] ~= '1' and now - tonumber(row[2]) <= ttl
end
local function touch(id, now, ex)  -- the entry and its ancestors live ex seconds more
  if redis.call('ZSCORE', p .. 'leaves', id) then redis.call('ZADD', p .. 'leaves', now, id) end
  redis.call('HSET', p .. 'e:' .. id, 'used_at', now)
  while id and id ~= '' do
    redis.call('EXPIRE', p .. 'e:' .. id, ex)
    id = redis.call('HGET', p .. 'e:' .. id, 'parent')
  end
end
local function evict(now, ttl, max_entries, max_bytes)
  while true do
    local oldest = redis.call('ZRANGE', p .. 'leaves', 0, 0, 'WITHSCORES')
    if #oldest == 0 then return end
    local count = redis.call('HLEN', p .. 'meta')
    local bytes = tonumber(redis.call('GET', p .. 'bytes') or '0')
    if count <= max_entries and bytes <= max_bytes and now - tonumber(oldest[2]) <= ttl then return end
    if redis.call('HEXISTS', p .. 'meta', oldest[1]) == 0 then
      redis.call('ZREM', p .. 'leaves', oldest[1])
    else
      drop(oldest[1])
    end
  end
end
"""

# ARGV: prefix, id, now, ttl, ex. Returns nil, or {owner, items, response, items, response, …} root first.
_GET = (
    _DROP
    + """
local id, now, ttl, ex = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
if not visible(id, now, ttl) then return false end
touch(id, now, ex)
local out = {}
local cur = id
while cur and cur ~= '' do
  local row = redis.call('HMGET', p .. 'e:' .. cur, 'items', 'response', 'parent')
  if not row[1] then return false end  -- a link Redis itself evicted (maxmemory): not whole, not found
  table.insert(out, 1, row[2])
  table.insert(out, 1, row[1])
  cur = row[3]
end
table.insert(out, 1, redis.call('HGET', p .. 'e:' .. id, 'owner'))
return out
"""
)

# ARGV: prefix, id, now, ttl, ex, max_entries, max_bytes, owner, link, parent_length, items, response,
# length. Returns 'stale' when the parent it links to is gone or changed (the caller computes again).
_PUT = (
    _DROP
    + """
local id, now, ttl, ex = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
local max_entries, max_bytes = tonumber(ARGV[6]), tonumber(ARGV[7])
local owner, link, parent_length = ARGV[8], ARGV[9], ARGV[10]
local items, response, length = ARGV[11], ARGV[12], ARGV[13]
local key = p .. 'e:' .. id
if link ~= '' then
  if not visible(link, now, ttl) or redis.call('HGET', p .. 'e:' .. link, 'length') ~= parent_length then
    return 'stale'
  end
end
if redis.call('HEXISTS', p .. 'meta', id) == 1 then
  drop(id)
  if redis.call('HEXISTS', p .. 'meta', id) == 1 then
    return redis.error_reply('c2r: response ' .. id .. ' is already stored and continued from')
  end
end
local size = string.len(items) + string.len(response)
redis.call('HSET', key, 'owner', owner, 'parent', link, 'items', items, 'response', response,
  'length', length, 'size', size, 'children', 0, 'hidden', 0, 'used_at', now)
redis.call('HSET', p .. 'meta', id, size .. ' ' .. link)
redis.call('INCRBY', p .. 'bytes', size)
redis.call('ZADD', p .. 'leaves', now, id)
if link ~= '' then
  redis.call('HINCRBY', p .. 'e:' .. link, 'children', 1)
  redis.call('ZREM', p .. 'leaves', link)
end
touch(id, now, ex)
evict(now, ttl, max_entries, max_bytes)
return 'ok'
"""
)

# ARGV: prefix, id, now, ttl. Returns 1 when it was there.
_DELETE = (
    _DROP
    + """
if not visible(ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])) then return 0 end
drop(ARGV[2])
return 1
"""
)

# ARGV: prefix, id, now, ttl. The length of a visible entry's continued(), or nil.
_LENGTH = (
    _DROP
    + """
if not visible(ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])) then return false end
return redis.call('HGET', p .. 'e:' .. ARGV[2], 'length')
"""
)

_NO_OWNER = "-"  # owners are hashes ("o:…" here): this cannot be one


class RedisStore(ResponseStore):
    """A Redis-protocol server shared by any number of bridge processes."""

    def __init__(
        self,
        url: str,
        *,
        max_entries: int,
        ttl: float,
        max_bytes: int = DEFAULT_MAX_BYTES,
        clock: Clock = time.time,
        prefix: str = "c2r:",
        timeout: float = 5.0,
        password: str | None = None,
    ) -> None:
        import redis.asyncio

        secret: dict[str, Any] = {"password": password} if password else {}  # the URL's own wins
        self._redis = redis.asyncio.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout, decode_responses=True, **secret
        )
        self._errors = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
        self._scripts = {
            name: self._redis.register_script(text)
            for name, text in (("get", _GET), ("put", _PUT), ("delete", _DELETE), ("length", _LENGTH))
        }
        self._max_entries, self._max_bytes, self._ttl, self._clock = max_entries, max_bytes, ttl, clock
        self._ex = max(1, math.ceil(ttl))  # Redis expiry: whole seconds, never before the policy's
        self._prefix = prefix
        self._where = redact_url(url)

    async def _run(self, name: str, *args: Any) -> Any:
        try:
            return await self._scripts[name](args=[self._prefix, *args])
        except self._errors as exc:
            raise StoreUnavailableError(f"the response store {self._where} is unreachable: {exc}") from exc

    def _now(self) -> tuple[float, float, int]:
        return self._clock(), self._ttl, self._ex

    async def get(self, response_id: str) -> StoredResponse | None:
        found = await self._run("get", response_id, *self._now())
        if not found:
            return None
        owner, pieces = found[0], found[1:]
        conversation: list[Any] = []
        for n in range(0, len(pieces) - 2, 2):
            conversation += json.loads(pieces[n])
            conversation += json.loads(pieces[n + 1]).get("output") or []
        response = json.loads(pieces[-1])
        return StoredResponse(
            response, [*conversation, *json.loads(pieces[-2])], None if owner == _NO_OWNER else owner[2:]
        )

    async def put(self, entry: StoredResponse) -> None:
        owner = _NO_OWNER if entry.owner is None else f"o:{entry.owner}"
        length = len(entry.conversation) + len(entry.output)
        response = _dumps(entry.response)
        for _ in range(3):  # the parent may go between the two calls: then it is stored without a link
            parent_length = await self._parent_length(entry)
            link, items = _own_items(entry, parent_length)
            limits = (self._max_entries, self._max_bytes)
            result = await self._run(
                "put", entry.id, *self._now(), *limits, owner, link or "", parent_length or "",
                _dumps(items), response, length,
            )  # fmt: skip
            if result == "ok":
                return
        raise StoreUnavailableError("the response store kept changing under this write")

    async def _parent_length(self, entry: StoredResponse) -> int | None:
        if entry.parent is None:
            return None
        length = await self._run("length", entry.parent, self._clock(), self._ttl)
        return None if length is None else int(length)

    async def delete(self, response_id: str) -> bool:
        return bool(await self._run("delete", response_id, self._clock(), self._ttl))

    async def aclose(self) -> None:
        await self._redis.aclose()
