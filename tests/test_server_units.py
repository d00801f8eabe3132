"""The Responses server's pure parts, without HTTP: tool names, request conversion, stores, error mapping."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from chat_to_responses.server import MemoryStore, SQLiteStore, StoredResponse
from chat_to_responses.server._config import ServerConfig
from chat_to_responses.server._errors import BridgeError, upstream_http_error
from chat_to_responses.server._request import chat_payload, parse_request
from chat_to_responses.server._stream import write_coalesced
from chat_to_responses.server._tools import convert_tools

CONFIG = ServerConfig(upstream="http://127.0.0.1:8000/v1", store="memory")
CHAT_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


def namespace(name: str, *functions: str) -> dict[str, Any]:
    return {"type": "namespace", "name": name, "tools": [{"type": "function", "name": f} for f in functions]}


# ------------------------------------------------------------------------------------------------ tool names


def test_namespace_names_are_flattened_and_restored() -> None:
    tools = convert_tools([{"type": "function", "name": "exec"}, namespace("crm", "find", "update")])
    assert [t["function"]["name"] for t in tools.tools] == ["exec", "crm__find", "crm__update"]
    item = {"type": "function_call", "id": "fc_1", "call_id": "c", "name": "crm__find", "arguments": "{}"}
    restored = tools.names.restore_item(item)
    assert (restored["name"], restored["namespace"]) == ("find", "crm")
    assert item["name"] == "crm__find"  # never mutated: the translator keeps its own output list
    assert tools.names.restore_item({**item, "name": "exec"})["name"] == "exec"
    assert tools.names.upstream_item({**restored}) == {**item}


def test_flattened_names_never_collide_and_stay_valid() -> None:
    long_ns = "n" * 40
    tools = convert_tools(
        [
            {"type": "function", "name": "crm__find"},  # a plain tool already has the joined name
            namespace("crm", "find"),
            namespace(long_ns, "f" * 40),
            namespace("dotted.ns", "go"),
        ]
    )
    names = [t["function"]["name"] for t in tools.tools]
    assert len(set(names)) == len(names) == 4
    assert all(CHAT_NAME.fullmatch(n) for n in names)
    for flat, expected in zip(
        names[1:], [("crm", "find"), (long_ns, "f" * 40), ("dotted.ns", "go")], strict=True
    ):
        restored = tools.names.restore_item({"type": "function_call", "name": flat})
        assert (restored["namespace"], restored["name"]) == expected


def test_restore_event_rewrites_every_event_that_names_a_call() -> None:
    names = convert_tools([namespace("ns", "fn")]).names
    call = {"type": "function_call", "name": "ns__fn", "arguments": "{}"}
    added = names.restore_event({"type": "response.output_item.added", "item": call})
    done = names.restore_event({"type": "response.function_call_arguments.done", "name": "ns__fn"})
    final = names.restore_event({"type": "response.completed", "response": {"output": [call]}})
    assert added["item"]["namespace"] == "ns"
    assert done["name"] == "fn"
    assert final["response"]["output"][0]["name"] == "fn"
    delta = {"type": "response.output_text.delta", "delta": "x"}
    assert names.restore_event(delta) is delta
    plain = convert_tools([{"type": "function", "name": "f"}]).names
    assert not plain
    assert plain.restore_event(added) is added


def test_hosted_tools_are_dropped_and_reported() -> None:
    tools = convert_tools(
        [
            {"type": "web_search"},
            {"type": "mcp", "server_label": "docs"},
            {"type": "namespace", "name": "ns", "tools": [{"type": "file_search"}]},
        ]
    )
    assert tools.tools == []
    assert [d.split(" (")[0] for d in tools.dropped] == [
        "tool web_search",
        "tool mcp docs",
        "tool ns.file_search",
    ]


# ---------------------------------------------------------------------------------------- request conversion


def payload(body: dict[str, Any], config: ServerConfig = CONFIG) -> tuple[dict[str, Any], list[str]]:
    request = parse_request({"model": "m", "input": "hi", **body}, config)
    return chat_payload(request, request.input_items, config), request.dropped


def test_options_follow_the_configuration() -> None:
    strict = ServerConfig(
        upstream="http://127.0.0.1:1/v1", reasoning_effort="drop", max_tokens_field="max_completion_tokens"
    )
    sent, dropped = payload({"reasoning": {"effort": "low"}, "max_output_tokens": 50}, strict)
    assert "reasoning_effort" not in sent
    assert sent["max_completion_tokens"] == 50
    assert dropped == ["reasoning.effort (not sent upstream by configuration)"]
    sent, _ = payload({"reasoning": {"effort": "low"}, "max_output_tokens": 50})
    assert sent["reasoning_effort"] == "low"
    assert sent["max_tokens"] == 50


def test_text_format_logprobs_and_verbosity() -> None:
    sent, dropped = payload(
        {"text": {"format": {"type": "json_object"}, "verbosity": "low"}, "top_logprobs": 3}
    )
    assert sent["response_format"] == {"type": "json_object"}
    assert (sent["logprobs"], sent["top_logprobs"]) == (True, 3)
    assert dropped == ["text.verbosity (no chat equivalent)"]
    sent, _ = payload({"text": {"format": {"type": "text"}}, "include": ["message.output_text.logprobs"]})
    assert "response_format" not in sent
    assert sent["logprobs"] is True
    assert "top_logprobs" not in sent


def test_default_model_and_template() -> None:
    config = ServerConfig(upstream="http://127.0.0.1:1/v1", default_model="qwen3")
    request = parse_request({"input": "hi", "user": "u1", "truncation": "auto"}, config)
    assert request.model == "qwen3"
    assert request.stream is False
    assert request.store is True
    assert request.template["user"] == "u1"
    assert request.template["truncation"] == "auto"
    assert request.template["id"] == request.response_id
    assert request.response_id.startswith("resp_")


def test_previous_response_id_makes_input_optional() -> None:
    request = parse_request({"model": "m", "previous_response_id": "resp_1"}, CONFIG)
    assert request.input_items == []


# ---------------------------------------------------------------------------------------------------- stores


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def entry(n: int) -> StoredResponse:
    return StoredResponse(
        {"id": f"resp_{n}", "output": [{"type": "message", "n": n}]}, [{"role": "user", "n": n}]
    )


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["memory", "sqlite"])
async def test_stores_are_bounded_by_ttl_and_entries(kind: str, tmp_path: Path) -> None:
    clock = Clock()
    store = (
        MemoryStore(max_entries=3, ttl=60, clock=clock)
        if kind == "memory"
        else SQLiteStore(tmp_path / "s.sqlite3", max_entries=3, ttl=60, clock=clock)
    )
    try:
        for n in range(3):
            await store.put(entry(n))
            clock.now += 1
        assert await store.get("resp_0") == entry(0)  # used: now the most recent
        await store.put(entry(3))  # evicts the least recently used: resp_1
        assert await store.get("resp_1") is None
        assert [await store.get(f"resp_{n}") is not None for n in (0, 2, 3)] == [True, True, True]
        assert (await store.get("resp_3")).continued() == [
            {"role": "user", "n": 3},
            {"type": "message", "n": 3},
        ]  # type: ignore[union-attr]
        clock.now += 61
        assert await store.get("resp_3") is None  # expired
        await store.put(entry(4))
        assert await store.delete("resp_4")
        assert not await store.delete("resp_4")
    finally:
        await store.aclose()


@pytest.mark.anyio
async def test_sqlite_store_file_is_private_and_persistent(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "dir" / "s.sqlite3"
    first = SQLiteStore(path, max_entries=10, ttl=60)
    await first.put(entry(1))
    await first.aclose()
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    second = SQLiteStore(path, max_entries=10, ttl=60)
    try:
        assert await second.get("resp_1") == entry(1)
    finally:
        await second.aclose()


# ---------------------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("content", "message", "kind", "code"),
    [
        (
            b'{"error": {"message": "bad", "type": "invalid_request_error", "code": 400}}',
            "bad",
            "invalid_request_error",
            "400",
        ),
        (b'{"error": "plain"}', "plain", "upstream_error", None),
        (
            b"<html>Bad Gateway</html>",
            "upstream returned HTTP 502: <html>Bad Gateway</html>",
            "upstream_error",
            None,
        ),
        (b"", "upstream returned HTTP 502", "upstream_error", None),
    ],
)
def test_upstream_http_errors(content: bytes, message: str, kind: str, code: str | None) -> None:
    error = upstream_http_error(502, content)
    assert isinstance(error, BridgeError)
    assert (error.status, error.message, error.kind, error.code) == (502, message, kind, code)
    assert set(error.body()["error"]) == {"message", "type", "param", "code"}


# ------------------------------------------------------------------------------------------ write coalescing


class Writes:
    """A client's side of ``write_coalesced``: what each write held, and how many pieces existed by then."""

    def __init__(self, delay: float = 0.0) -> None:
        self.writes: list[bytes] = []
        self.made_at_write: list[int] = []
        self.made = 0
        self.delay = delay

    async def write(self, data: bytes) -> None:
        self.writes.append(data)
        self.made_at_write.append(self.made)
        if self.delay:
            await anyio.sleep(self.delay)

    async def pieces(self, n: int, *, gap: float | None = None) -> AsyncIterator[bytes]:
        """``n`` pieces, one after another (a burst), or ``gap`` seconds apart (a trickling upstream)."""
        for i in range(n):
            if gap is not None:
                await anyio.sleep(gap)
            self.made += 1
            yield b"%d," % i


@pytest.mark.anyio
async def test_a_burst_goes_out_in_few_writes_the_first_piece_alone() -> None:
    writes = Writes()
    await write_coalesced(writes.pieces(300), writes.write, max_pending=64)
    assert b"".join(writes.writes) == b"".join(b"%d," % i for i in range(300))
    assert writes.writes[0] == b"0,"  # response.created is not held back by what follows it
    # The rest in writes of up to max_pending pieces (+1 handed to the waiting writer): 5 writes, not 299.
    sizes = [data.count(b",") for data in writes.writes[1:]]
    assert sum(sizes) == 299
    assert max(sizes) <= 65
    assert len(sizes) == 5


@pytest.mark.anyio
async def test_pieces_that_trickle_in_are_each_written_before_the_next_exists() -> None:
    writes = Writes()
    await write_coalesced(writes.pieces(5, gap=0.01), writes.write)
    assert writes.writes == [b"0,", b"1,", b"2,", b"3,", b"4,"]
    assert writes.made_at_write == [1, 2, 3, 4, 5]


@pytest.mark.anyio
async def test_a_slow_client_holds_the_reading_back() -> None:
    writes = Writes(delay=0.01)
    await write_coalesced(writes.pieces(200), writes.write, max_pending=8)
    assert b"".join(writes.writes) == b"".join(b"%d," % i for i in range(200))
    # While a write waits for the client, the reader makes at most max_pending pieces (+1 handed over).
    written = 0
    for data, made in zip(writes.writes, writes.made_at_write, strict=True):
        assert data.count(b",") <= 8 + 1
        assert made - written <= 8 + 1
        written += data.count(b",")


@pytest.mark.anyio
async def test_a_failing_write_stops_the_reading_and_is_raised() -> None:
    writes = Writes()

    async def gone(data: bytes) -> None:
        await writes.write(data)
        raise OSError("client went away")

    with pytest.raises(OSError, match="client went away"):
        await write_coalesced(writes.pieces(1000, gap=0.001), gone)
    assert writes.made < 10  # the upstream is not read to its end for nobody


@pytest.mark.anyio
async def test_an_exception_from_the_frames_is_raised_as_itself() -> None:
    writes = Writes()

    async def broken() -> AsyncIterator[bytes]:
        yield b"0,"
        raise OSError("upstream read broke")

    with pytest.raises(OSError, match="upstream read broke"):
        await write_coalesced(broken(), writes.write)
    assert writes.writes == [b"0,"]  # what was made before the exception still went out


async def _keep_alive_forever(gap: float) -> AsyncIterator[bytes]:
    while True:  # an upstream that sends only SSE comments, never an event
        await anyio.sleep(gap)
        yield b": keep-alive\n\n"


@pytest.mark.anyio
@pytest.mark.parametrize("read_timeout", [0.2, 30.0])
async def test_the_total_deadline_holds_whatever_the_read_timeout(read_timeout: float) -> None:
    # With a read timeout shorter than the deadline, reads run without a timer of their own until the
    # deadline comes closer than the read timeout: the deadline must hold all the same.
    from chat_to_responses.server._limits import UpstreamLimitError, guarded_body

    config = ServerConfig(upstream="http://127.0.0.1:1/v1", stream_timeout=0.6, read_timeout=read_timeout)
    started = anyio.current_time()
    with pytest.raises(UpstreamLimitError, match="longer than"):
        async for _ in guarded_body(_keep_alive_forever(0.05), config, lambda: False):
            pass
    assert 0.55 < anyio.current_time() - started < 1.5


@pytest.mark.anyio
async def test_the_finish_grace_holds_with_a_short_read_timeout() -> None:
    from chat_to_responses.server._limits import guarded_body

    config = ServerConfig(upstream="http://127.0.0.1:1/v1", finish_grace=0.2, read_timeout=0.1)

    async def finish_then_silence() -> AsyncIterator[bytes]:
        yield b'data: {"choices": [{"finish_reason": "stop"}]}\n\n'
        await anyio.sleep(60)
        yield b"never"

    started = anyio.current_time()
    pieces = [piece async for piece in guarded_body(finish_then_silence(), config, lambda: True)]
    assert len(pieces) == 1
    assert anyio.current_time() - started < 1.0
