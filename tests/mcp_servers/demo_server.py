"""A small MCP server (the ``mcp`` SDK's ``MCPServer``, FastMCP before mcp 2) for the MCP tool tests.

- ``python demo_server.py stdio``: serve over stdio.
- ``python demo_server.py http``: serve streamable HTTP at ``http://127.0.0.1:<port>/mcp`` on a free
  loopback port, printed first on stdout as ``PORT <port>``.

``stats()`` reports this process's id and how many requests of each MCP method it served, so a test can
count connections (one ``server/discover`` or ``initialize`` per connection).
"""

from __future__ import annotations

import os
import socket
import sys
from collections import Counter
from typing import Any

import anyio
from mcp.server.context import ServerRequestContext
from mcp.server.mcpserver import Context, Image, MCPServer
from mcp.server.mcpserver.exceptions import ToolError

HEADER_NAME = "x-demo-header"
PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def build_server(name: str = "demo") -> MCPServer[Any]:
    """A fresh demo server."""
    methods: Counter[str] = Counter()

    async def count_methods(ctx: ServerRequestContext[Any, Any], call_next: Any) -> Any:
        methods[ctx.method] += 1
        return await call_next(ctx)

    server: MCPServer[Any] = MCPServer(name, log_level="WARNING", middleware=[count_methods])

    @server.tool()
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    @server.tool()
    def echo_meta(ctx: Context) -> dict[str, Any]:
        """Return the request's ``_meta`` as the server received it."""
        meta = ctx.request_context.meta
        return dict(meta) if meta else {}

    @server.tool()
    def fail(message: str = "boom") -> str:
        """Always fail: the server answers ``isError: true`` with ``message``."""
        raise ToolError(message)

    @server.tool()
    async def slow(seconds: float) -> str:
        """Sleep ``seconds``, then answer."""
        await anyio.sleep(seconds)
        return f"slept {seconds:g}s"

    @server.tool()
    def read_header(ctx: Context) -> str:
        """The value of the ``x-demo-header`` HTTP header of this request (empty over stdio)."""
        return (ctx.headers or {}).get(HEADER_NAME, "")

    @server.tool(structured_output=False)
    def media() -> list[Any]:
        """Unstructured mixed content: a text block and a 1x1 PNG image."""
        return ["a picture:", Image(data=PNG_1X1, format="png")]

    @server.tool()
    def stats() -> dict[str, Any]:
        """This process's id and the MCP methods it has served, by count."""
        return {"pid": os.getpid(), "methods": dict(methods)}

    return server


def serve_http() -> None:
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    app = build_server().streamable_http_app()
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    server.run(sockets=[sock])


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else "stdio"
    if mode == "stdio":
        build_server().run("stdio")
    elif mode == "http":
        serve_http()
    else:
        raise SystemExit(f"usage: {sys.argv[0]} stdio|http")
