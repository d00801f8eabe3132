"""MCP servers as chat tools, against real MCP servers (``tests/mcp_servers/demo_server.py``).

stdio servers are subprocesses started by the code under test; the streamable HTTP server is a
subprocess started by a fixture on a free 127.0.0.1 port.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import anyio
import pytest
from mcp import Client
from mcp.types import Tool as McpTool

from chat_to_responses._mcp_tools import (
    MCPConnectionError,
    MCPServerConfig,
    MCPToolCallError,
    MCPToolset,
    MCPToolTimeoutError,
    _tool_param,
    build_mcp_tools_and_invokers,
    call_mcp_tool,
    list_mcp_tools,
)
from chat_to_responses._tools import ToolInputError, ToolResult, make_tool_call

pytest.importorskip("uvicorn")

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="checks processes with POSIX signals")
DEMO_SERVER = Path(__file__).parent / "mcp_servers" / "demo_server.py"
HEADER = "x-demo-header"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def stdio_config(**options: Any) -> MCPServerConfig:
    return MCPServerConfig(command=sys.executable, args=[str(DEMO_SERVER), "stdio"], **options)


def call(name: str, arguments: Any = None) -> Any:
    text = arguments if isinstance(arguments, str) else json.dumps(arguments or {})
    return make_tool_call(f"call_{name}", name, text)


def seed_connections(stats_text: str) -> int:
    """``connections`` from the text a seed-compatible invoker returns (the stats as JSON)."""
    methods = json.loads(stats_text)["methods"]
    return int(methods.get("server/discover", 0) + methods.get("initialize", 0))


def connections(stats: ToolResult) -> int:
    """How many connections the demo server has seen (one handshake each)."""
    methods = stats.metadata["structured_content"]["methods"]
    return int(methods.get("server/discover", 0) + methods.get("initialize", 0))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def http_demo_server() -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """The demo server over streamable HTTP in a subprocess: ``(url, process)``."""
    process = subprocess.Popen(
        [sys.executable, str(DEMO_SERVER), "http"], stdout=subprocess.PIPE, text=True, cwd=DEMO_SERVER.parent
    )
    assert process.stdout is not None
    try:
        line = process.stdout.readline()
        assert line.startswith("PORT "), f"demo server did not start: {line!r}"
        yield f"http://127.0.0.1:{int(line.split()[1])}/mcp", process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        process.stdout.close()


@pytest.fixture(scope="module")
def http_url() -> Iterator[str]:
    with http_demo_server() as (url, _process):
        yield url


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


# --------------------------------------------------------------------------------------------- stdio


@pytest.mark.anyio
async def test_stdio_toolset_lists_labelled_tools_and_calls_them() -> None:
    async with MCPToolset([stdio_config(server_label="demo")]) as toolset:
        names = [tool["function"]["name"] for tool in toolset.tools]
        assert set(names) == {
            f"demo__{n}" for n in ("add", "echo_meta", "fail", "slow", "read_header", "media", "stats")
        }
        assert set(toolset.invokers) == set(names)
        add = next(tool for tool in toolset.tools if tool["function"]["name"] == "demo__add")
        assert add["type"] == "function"
        assert add["function"].get("description") == "Add two integers."
        parameters = add["function"].get("parameters")
        assert parameters is not None
        # strict and sanitised, as the seed's: titles gone, the object closed, every property required
        assert parameters == {
            "type": "object",
            "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
            "required": ["a", "b"],
            "additionalProperties": False,
        }
        assert add["function"].get("strict") is True

        # the tool's text, not its structured form wrapped as JSON; the MCP name (not the prefixed one)
        result = await toolset.invokers["demo__add"](call("demo__add", {"a": 2, "b": 40}), None)
        assert isinstance(result, ToolResult)
        assert result.content == "42"
        assert result.metadata["structured_content"] == {"result": 42}
        assert result.metadata["tool"] == "add"
        assert result.metadata["is_error"] is False
        assert "'demo'" in result.metadata["server"]

        # unstructured content: text joined, an image becomes a placeholder naming its mime type
        media = await toolset.invokers["demo__media"](call("demo__media"), None)
        assert media.content == "a picture:\n[image: image/png]"


@pytest.mark.anyio
async def test_tool_errors_are_returned_and_bad_arguments_raise_tool_input_error() -> None:
    async with MCPToolset(stdio_config(server_label="demo")) as toolset:
        failed = await toolset.invokers["demo__fail"](call("demo__fail", {"message": "disk full"}), None)
        assert isinstance(failed, ToolResult)
        assert failed.content.startswith("MCP tool 'demo__fail' reported an error: ")
        assert "disk full" in failed.content
        assert failed.metadata["is_error"] is True

        for bad in ("{not json", "[1, 2]"):
            with pytest.raises(ToolInputError):
                await toolset.invokers["demo__add"](call("demo__add", bad), None)

        # arguments the server rejects come back as an error result the model can read
        rejected = await toolset.invokers["demo__add"](call("demo__add", {"a": "x"}), None)
        assert rejected.metadata["is_error"] is True
        assert rejected.content.startswith("MCP tool 'demo__add' reported an error: ")


@pytest.mark.anyio
async def test_context_and_static_meta_are_forwarded_in_meta() -> None:
    config = stdio_config(meta={"tenant": "acme", "trace": "static"})
    async with MCPToolset([config]) as toolset:
        echo = toolset.invokers["echo_meta"]

        received = json.loads((await echo(call("echo_meta"), {"user_id": 7, "trace": "run-1"})).content)
        assert received["tenant"] == "acme"
        assert received["user_id"] == 7
        assert received["trace"] == "run-1"  # the run's context wins over the static meta

        received = json.loads((await echo(call("echo_meta"), ["a", 1])).content)
        assert received["context"] == ["a", 1]
        assert received["tenant"] == "acme"

        class Opaque:
            def __str__(self) -> str:
                return "opaque-context"

        received = json.loads((await echo(call("echo_meta"), Opaque())).content)
        assert received["context"] == "opaque-context"

        received = json.loads((await echo(call("echo_meta"), None)).content)
        assert "context" not in received
        assert received["trace"] == "static"


@pytest.mark.anyio
@posix_only
async def test_one_session_is_reused_and_closed_on_exit() -> None:
    async with MCPToolset(stdio_config()) as toolset:
        assert toolset.session_for("add") is toolset.session_for("stats")
        for n in range(3):
            result = await toolset.invokers["add"](call("add", {"a": n, "b": 1}), None)
            assert result.content == str(n + 1)
        async with anyio.create_task_group() as tg:  # concurrent calls share the session too
            for _ in range(3):
                tg.start_soon(toolset.invokers["slow"], call("slow", {"seconds": 0.2}), None)
        stats = await toolset.invokers["stats"](call("stats"), None)
        assert connections(stats) == 1
        assert stats.metadata["structured_content"]["methods"]["tools/call"] == 7
        pid = stats.metadata["structured_content"]["pid"]
        assert process_exists(pid)
        stats_invoker = toolset.invokers["stats"]

    assert not process_exists(pid)  # the stdio server is gone
    with pytest.raises(MCPToolCallError, match="connection is closed"):
        await stats_invoker(call("stats"), None)
    with pytest.raises(RuntimeError, match="not open"):
        _ = toolset.tools


@pytest.mark.anyio
async def test_filter_tool_sees_prefixed_names() -> None:
    seen: list[str] = []

    def keep(tool: Any) -> bool:
        seen.append(tool["function"]["name"])
        return tool["function"]["name"] in {"x__add", "x__fail"}

    async with MCPToolset([stdio_config(server_label="x", filter_tool=keep)]) as toolset:
        assert [tool["function"]["name"] for tool in toolset.tools] == ["x__add", "x__fail"]
        assert set(toolset.invokers) == {"x__add", "x__fail"}
    assert "x__stats" in seen


@pytest.mark.anyio
@posix_only
async def test_a_dead_stdio_server_fails_its_calls_without_cancelling_the_caller() -> None:
    async with MCPToolset(stdio_config()) as toolset:
        stats = await toolset.invokers["stats"](call("stats"), None)
        os.kill(stats.metadata["structured_content"]["pid"], signal.SIGKILL)
        with pytest.raises(MCPToolCallError, match="'add' on MCP server") as info:
            await toolset.invokers["add"](call("add", {"a": 1, "b": 2}), None)
        assert info.value.tool == "add"
        await anyio.sleep(0)  # the body goes on: nothing cancelled it


@pytest.mark.anyio
async def test_a_body_exception_propagates_unchanged() -> None:
    with pytest.raises(KeyError, match="mine"):
        async with MCPToolset(stdio_config()):
            raise KeyError("mine")


# --------------------------------------------------------------------------------------------- HTTP


@pytest.mark.anyio
async def test_http_headers_arrive_and_slow_tools_complete(http_url: str) -> None:
    # timeout=1 bounds connecting; it must not bound a tool call (the seed's HTTP read timeout did, and hung)
    config = MCPServerConfig(url=http_url, headers={HEADER: "hello"}, timeout=1.0, server_label="web")
    async with MCPToolset([config]) as toolset:
        header = await toolset.invokers["web__read_header"](call("web__read_header"), None)
        assert header.content == "hello"
        with anyio.fail_after(10):
            slow = await toolset.invokers["web__slow"](call("web__slow", {"seconds": 2}), None)
        assert slow.content == "slept 2s"
        # the server is shared by this module's tests: compare its handshake count before and after calls
        before = connections(await toolset.invokers["web__stats"](call("web__stats"), None))
        for _ in range(3):
            await toolset.invokers["web__add"](call("web__add", {"a": 1, "b": 1}), None)
        after = connections(await toolset.invokers["web__stats"](call("web__stats"), None))
        assert after == before  # calls reuse the connection


@pytest.mark.anyio
async def test_tool_timeout_raises_quickly_and_the_connection_survives(http_url: str) -> None:
    config = MCPServerConfig(url=http_url, headers={HEADER: "x"}, tool_timeout=0.5)
    async with MCPToolset(config) as toolset:
        started = time.monotonic()
        with pytest.raises(
            MCPToolTimeoutError, match=r"MCP tool 'slow' on MCP server .*127\.0\.0\.1.* 0\.5s"
        ) as info:
            await toolset.invokers["slow"](call("slow", {"seconds": 10}), None)
        assert time.monotonic() - started < 3
        assert info.value.tool == "slow"
        assert isinstance(info.value, TimeoutError)
        result = await toolset.invokers["add"](call("add", {"a": 2, "b": 2}), None)
        assert result.content == "4"


@pytest.mark.anyio
async def test_duplicate_names_across_servers_name_both(http_url: str) -> None:
    configs = [
        MCPServerConfig(url=http_url),
        stdio_config(filter_tool=lambda tool: tool["function"]["name"] == "add"),
    ]
    with pytest.raises(ValueError, match="duplicate MCP tool name 'add'") as info:
        async with MCPToolset(configs):
            pytest.fail("entered despite duplicate names")
    assert http_url.replace("/mcp", "") in str(info.value)
    assert "stdio:" in str(info.value)
    with pytest.raises(ValueError, match="duplicate MCP tool name 'add'"):
        await build_mcp_tools_and_invokers([MCPServerConfig(url=http_url), MCPServerConfig(url=http_url)])
    # distinct labels resolve it
    labelled = [
        MCPServerConfig(url=http_url, server_label="a"),
        MCPServerConfig(url=http_url, server_label="b"),
    ]
    async with MCPToolset(labelled) as toolset:
        assert {"a__add", "b__add"} <= set(toolset.invokers)


@pytest.mark.anyio
async def test_seed_compatible_function_connects_per_operation(http_url: str) -> None:
    config = MCPServerConfig(server_url=http_url, extra_headers={HEADER: "seed"}, server_label="seed")
    assert config.url == http_url
    assert config.headers == {HEADER: "seed"}
    tools, invokers = await build_mcp_tools_and_invokers([config])
    assert [tool["function"]["name"] for tool in tools] == list(invokers)
    assert "seed__add" in invokers

    # the seed's invokers return the tool's text, a str
    result = await invokers["seed__add"](call("seed__add", {"a": 20, "b": 22}), {"k": "v"})
    assert result == "42"
    header = await invokers["seed__read_header"](call("seed__read_header"), None)
    assert header == "seed"
    failed = await invokers["seed__fail"](call("seed__fail"), None)
    assert failed == "MCP tool 'seed__fail' reported an error: Error executing tool fail: boom"

    first = seed_connections(await invokers["seed__stats"](call("seed__stats"), None))
    second = seed_connections(await invokers["seed__stats"](call("seed__stats"), None))
    assert second == first + 1  # one short-lived connection per call

    timing_out = MCPServerConfig(url=http_url, tool_timeout=0.3)
    _, invokers = await build_mcp_tools_and_invokers(timing_out)
    with pytest.raises(MCPToolTimeoutError, match="'slow'"):
        await invokers["slow"](call("slow", {"seconds": 5}), None)


@pytest.mark.anyio
async def test_seed_list_and_call_functions(http_url: str) -> None:
    tools = await list_mcp_tools(http_url, server_label="aws", extra_headers={HEADER: "h"})
    assert len(tools) == 7
    for tool in tools:
        function = tool["function"]
        assert function["name"].startswith("aws__")
        assert function.get("strict") is True
        parameters = function.get("parameters") or {}
        assert parameters["additionalProperties"] is False
        assert "title" not in parameters
        assert all("title" not in prop for prop in parameters["properties"].values())
    only_add = await list_mcp_tools(http_url, filter_tool=lambda t: t["function"]["name"] == "add")
    assert [t["function"]["name"] for t in only_add] == ["add"]

    # the label prefix is stripped before the call; the tool's text comes back as a str
    assert await call_mcp_tool(http_url, "aws__add", '{"a": 1, "b": 2}', server_label="aws") == "3"
    assert await call_mcp_tool(http_url, "read_header", "", extra_headers={HEADER: "hi"}) == "hi"
    echoed = await call_mcp_tool(http_url, "echo_meta", "{}", meta={"trace": "t-1"})
    assert json.loads(echoed)["trace"] == "t-1"
    with pytest.raises(ToolInputError, match="JSON"):
        await call_mcp_tool(http_url, "add", "{oops")
    async with Client(http_url) as client:  # an initialized session is used instead of connecting
        assert len(await list_mcp_tools("http://unused.invalid/mcp", session=client.session)) == 7
        assert (
            await call_mcp_tool(
                "http://unused.invalid/mcp", "add", '{"a": 2, "b": 2}', session=client.session
            )
            == "4"
        )


@pytest.mark.anyio
async def test_seed_compatible_function_over_stdio() -> None:
    tools, invokers = await build_mcp_tools_and_invokers([stdio_config(server_label="s")])
    assert len(tools) == 7
    result = await invokers["s__add"](call("s__add", {"a": 1, "b": 2}), None)
    assert result == "3"


@pytest.mark.anyio
async def test_an_existing_session_is_used_and_left_open(http_url: str) -> None:
    async with Client(http_url) as client:
        config = MCPServerConfig(session=client.session, server_label="own", meta={"m": 1})
        async with MCPToolset([config]) as toolset:
            assert toolset.session_for("own__add") is client.session
            echoed = await toolset.invokers["own__echo_meta"](call("own__echo_meta"), {"c": 2})
            assert {"m": 1, "c": 2}.items() <= json.loads(echoed.content).items()
        tools, invokers = await build_mcp_tools_and_invokers(config)
        assert len(tools) == 7
        result = await invokers["own__add"](call("own__add", {"a": 1, "b": 1}), None)
        assert result == "2"
        assert (await client.call_tool("add", {"a": 0, "b": 0})).is_error is False  # still open


@pytest.mark.anyio
async def test_a_dead_http_server_fails_calls_without_cancelling_the_caller() -> None:
    with http_demo_server() as (url, process):
        async with MCPToolset(MCPServerConfig(url=url, timeout=2)) as toolset:
            await toolset.invokers["add"](call("add", {"a": 1, "b": 1}), None)
            process.kill()
            process.wait()
            for _ in range(2):
                with pytest.raises(MCPToolCallError, match="'add' on MCP server"):
                    await toolset.invokers["add"](call("add", {"a": 1, "b": 1}), None)
            await anyio.sleep(0.05)  # still running: the transport failure did not cancel this body


# --------------------------------------------------------------------------------------------- failures


@pytest.mark.anyio
async def test_unreachable_url_raises_a_clear_connection_error_quickly() -> None:
    url = f"http://user:secret@127.0.0.1:{free_port()}/mcp?token=secret"
    started = time.monotonic()
    with pytest.raises(MCPConnectionError, match=r"127\.0\.0\.1:\d+/mcp\) failed: ConnectError") as info:
        async with MCPToolset([MCPServerConfig(url=url, timeout=2)]):
            pytest.fail("connected to nothing")
    assert "secret" not in str(info.value)
    assert isinstance(info.value, ConnectionError)
    with pytest.raises(MCPConnectionError, match="ConnectError"):
        await build_mcp_tools_and_invokers([MCPServerConfig(url=url, timeout=2)])
    assert time.monotonic() - started < 5


@pytest.mark.anyio
async def test_unusable_stdio_commands_raise_connection_errors() -> None:
    with pytest.raises(
        MCPConnectionError, match=r"stdio: /nonexistent/mcp-server\) failed: FileNotFoundError"
    ):
        async with MCPToolset(MCPServerConfig(command="/nonexistent/mcp-server")):
            pass
    silent = MCPServerConfig(command=sys.executable, args=["-c", "import sys; sys.stdin.read()"], timeout=0.5)
    started = time.monotonic()
    with pytest.raises(MCPConnectionError, match=r"no answer within 0\.5s"):
        await build_mcp_tools_and_invokers([silent])
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "exactly one transport"),
        ({"url": "http://127.0.0.1:1/mcp", "command": "x"}, "got url, command"),
        ({"url": "127.0.0.1:1/mcp"}, "http"),
        ({"command": "x", "headers": {"a": "b"}}, "headers only apply"),
        ({"url": "http://127.0.0.1:1/mcp", "args": ["x"]}, "only apply to command"),
        ({"command": "x", "args": "--flag"}, "sequence of strings"),
        ({"command": "x", "timeout": 0}, "timeout"),
        ({"command": "x", "tool_timeout": -1}, "tool_timeout"),
        ({"command": "x", "server_label": "has space"}, "server_label"),
        ({"url": "http://127.0.0.1:1/a", "server_url": "http://127.0.0.1:1/b"}, "not both"),
        ({"url": "http://127.0.0.1:1/a", "headers": {"a": "1"}, "extra_headers": {"a": "2"}}, "not both"),
    ],
)
def test_invalid_configs_are_rejected(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MCPServerConfig(**options)


def test_configs_must_be_configs() -> None:
    with pytest.raises(TypeError, match="MCPServerConfig"):
        MCPToolset([cast(MCPServerConfig, "http://127.0.0.1:1/mcp")])


def test_schemas_are_made_strict_when_strict_mode_can_express_them() -> None:
    closed: dict[str, Any] = {
        "type": "object",
        "properties": {"q": {"type": "string"}, "opts": {"$ref": "#/$defs/Opts"}},
        "required": ["q", "opts"],
        "additionalProperties": False,
        "$defs": {
            "Opts": {
                "type": "object",
                "properties": {"n": {"anyOf": [{"type": "integer"}, {"type": "null"}]}},
                "required": ["n"],
                "additionalProperties": False,
            }
        },
    }
    param = _tool_param(McpTool(name="search", input_schema=closed), "lbl__")
    assert param["function"]["name"] == "lbl__search"
    assert param["function"].get("strict") is True
    assert param["function"].get("parameters") == closed  # already strict: unchanged

    # optional -> required but nullable (the invoker drops the null); titles and defaults go; open -> closed
    optional = {
        "type": "object",
        "title": "Args",
        "properties": {"q": {"type": "string", "title": "Q"}, "limit": {"type": "integer", "default": 3}},
        "required": ["q"],
    }
    made = _tool_param(McpTool(name="t", input_schema=optional), "")
    assert made["function"].get("strict") is True
    assert made["function"].get("parameters") == {
        "type": "object",
        "properties": {
            "q": {"type": "string"},
            "limit": {
                "anyOf": [{"type": "integer"}, {"type": "null"}],
                "description": "Default: 3 (send null to use it).",
            },
        },
        "required": ["q", "limit"],
        "additionalProperties": False,
    }

    # what strict mode cannot express is sent as the server wrote it, not strict
    free_map = {
        "type": "object",
        "properties": {"tags": {"type": "object", "additionalProperties": {"type": "string"}}},
        "required": ["tags"],
    }
    sent = _tool_param(McpTool(name="t", input_schema=free_map), "")
    assert sent["function"].get("strict") is False
    assert sent["function"].get("parameters") == free_map
    negated = {"type": "object", "properties": {"q": {"not": {"type": "null"}}}, "required": ["q"]}
    assert _tool_param(McpTool(name="t", input_schema=negated), "")["function"].get("strict") is False
    empty = _tool_param(McpTool(name="t", input_schema={}, description="d"), "")
    assert empty["function"].get("parameters") == {
        "type": "object",
        "properties": {},
        "required": [],
        "additionalProperties": False,
    }
    assert empty["function"].get("strict") is True
    assert empty["function"].get("description") == "d"


@pytest.mark.anyio
async def test_a_null_optional_argument_lets_the_server_apply_its_default() -> None:
    async with MCPToolset(stdio_config()) as toolset:
        fail = next(t for t in toolset.tools if t["function"]["name"] == "fail")
        assert fail["function"].get("parameters", {})["required"] == ["message"]
        result = await toolset.invokers["fail"](call("fail", {"message": None}), None)
        assert result.content.endswith(": boom")  # the server's default


@pytest.mark.anyio
async def test_one_unreachable_server_fails_the_toolset_cleanly(http_url: str) -> None:
    good = MCPServerConfig(url=http_url, server_label="good")
    bad = MCPServerConfig(url=f"http://127.0.0.1:{free_port()}/mcp", server_label="bad", timeout=2)
    async with Client(http_url) as observer:
        before = (await observer.call_tool("stats", {})).structured_content["methods"]
        with pytest.raises(MCPConnectionError, match="'bad'"):
            async with MCPToolset([good, bad]):
                pytest.fail("entered despite an unreachable server")
        after = (await observer.call_tool("stats", {})).structured_content["methods"]
    assert after.get("server/discover", 0) == before.get("server/discover", 0) + 1  # the good one connected
