"""MCP servers as chat tools for the tool loop, on the ``mcp`` 2.x client API.

Each configured MCP server (streamable HTTP ``url``, a stdio ``command``, or an ``session`` you already
initialized) becomes a list of chat :data:`~chat_to_responses._tools.ToolParam` schemas plus one
:data:`~chat_to_responses._tools.ToolInvoker` per tool, the shape the tool loop takes.

Two forms:

- ``async with MCPToolset(configs) as toolset:`` — the efficient form. One connection per server is opened
  on entry (the servers concurrently), kept open, reused by every call and closed on exit. Each owned
  connection lives in its own task of a task group held by the toolset's ``AsyncExitStack``: the ``mcp``
  transports run their own task groups, and a transport failure (the server went away, an HTTP error) would
  otherwise cancel *the caller's* code inside ``async with``. Here it only closes that server's connection:
  calls in flight and later calls to that server raise :class:`MCPToolCallError`, the other servers keep
  working.
- ``await build_mcp_tools_and_invokers(configs)`` — the seed-compatible form (``chat-cmpl-stream-handler``
  0.5). It needs no context manager, so it cannot keep anything open: discovery opens a short-lived
  connection per server, and every invoker call opens (and closes) its own. Prefer :class:`MCPToolset`.

What the seed got wrong, and what this module does instead:

- Discovery with ``mcp`` 2.x: the seed unpacked three values from the streamable HTTP transport (it yields
  two in 2.x), handed it an ``httpx`` client (2.x uses ``httpx2``), swallowed the error, probed SSE paths
  and raised ``ConnectionError("Failed to establish MCP connection")``. Here the ``mcp``
  :class:`~mcp.Client` negotiates the protocol (2026 ``server/discover``, falling back to the ``initialize``
  handshake), and a failure raises :class:`MCPConnectionError` naming the server and the underlying cause.
- Slow tools behind custom headers hung: with headers the seed built its own HTTP client, whose default
  5 s read timeout is shorter than a slow tool; the read error fires inside the transport's task group and
  tears the connection down under a request still waiting for its answer. Here the HTTP client has no read
  timeout; the deadlines are explicit and ours: ``timeout`` for connecting and listing tools,
  ``tool_timeout`` for each call (``anyio.fail_after``; the abandoned request is cancelled on the server),
  after which :class:`MCPToolTimeoutError` is raised.
- The model saw only "Tool invocation failed.": here a tool error (``isError: true``) is *returned* as
  ``ToolResult("MCP tool '<name>' reported an error: <text>", metadata={"is_error": True, ...})`` so the
  model can read it and correct itself, while transport failures and timeouts are *raised*
  (:class:`MCPToolCallError`, :class:`MCPToolTimeoutError`, naming server and tool) so the loop's
  ``on_tool_error`` decides what the model sees. Arguments that are not a JSON object raise
  :class:`~chat_to_responses._tools.ToolInputError` (the loop tells the model); so does a JSON-RPC
  ``invalid params`` error from the server.
- A new connection for every call: see :class:`MCPToolset`.

Results: the content blocks as text, joined by newlines (what the tool wrote for a model to read; the
seed returned the same); images, audio, blobs and resource links become a short placeholder naming the
mime type or uri (embedded *text* resources keep their text). ``structuredContent`` is kept in the
result's ``metadata`` and is sent as JSON text only when the server sent no content blocks. The run's
``context`` is forwarded in the request's ``_meta``: a mapping is merged into it, anything else goes
under ``"context"`` (JSON form, else ``str``), on top of the config's static ``meta``.

Tool schemas are made strict, as the seed's were, but without changing the tool's contract: titles and
defaults removed, every object closed with all its properties required, and each *optional* property made
nullable (its description states the default); the invoker removes those nulls before calling the server,
so the server applies its own defaults (the seed made optional parameters plainly required, so the model
had to invent values). A schema strict mode cannot express (free-form maps, keywords such as ``oneOf`` or
``not``) is sent as the server wrote it, with ``strict: false``.

Seed-compatible functions (``chat_to_responses.utils.mcp``): :func:`list_mcp_tools`,
:func:`call_mcp_tool` (returns the tool's text) and :func:`build_mcp_tools_and_invokers`, whose invokers
return the tool's text as a ``str``; :class:`MCPToolset`'s invokers return a ``ToolResult`` whose
``content`` is the same text and whose ``metadata`` has the server, the tool, ``is_error`` and any
``structured_content``.
"""

from __future__ import annotations

import copy
import dataclasses
import importlib.metadata
import json
import logging
import math
import os
import re
import shlex
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import InitVar, dataclass, field
from types import TracebackType
from typing import Any, NoReturn, cast
from urllib.parse import urlsplit, urlunsplit

import anyio
import anyio.abc
import httpx2
from mcp import Client, ClientSession, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp.types import (
    INVALID_PARAMS,
    AudioContent,
    BlobResourceContents,
    CallToolResult,
    ContentBlock,
    EmbeddedResource,
    ImageContent,
    Implementation,
    PaginatedRequestParams,
    RequestParamsMeta,
    ResourceLink,
    TextContent,
    TextResourceContents,
)
from mcp.types import Tool as McpTool
from openai.types.shared_params import FunctionDefinition
from pydantic import BaseModel

from ._pydantic_tools import drop_null_defaults, strict_parameters
from ._tools import ToolCall, ToolInputError, ToolInvoker, ToolParam, ToolResult, args_from_tool_call

__all__ = [
    "MCPConnectionError",
    "MCPServerConfig",
    "MCPToolCallError",
    "MCPToolTimeoutError",
    "MCPToolset",
    "MCPToolsetError",
    "ToolFilter",
    "build_mcp_tools_and_invokers",
    "call_mcp_tool",
    "clear_endpoint_cache",
    "list_mcp_tools",
]

logger = logging.getLogger(__name__)

ToolFilter = Callable[[ToolParam], bool]
"""Keeps a tool when it returns true; sees the chat tool schema, name already prefixed with the label."""

_LABEL_RE = re.compile(r"^[A-Za-z0-9_-]+$")
_MAX_LIST_PAGES = 100  # a server whose tools/list never stops paginating cannot hang discovery


def _package_version() -> str:
    try:
        return importlib.metadata.version("chat-to-responses")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0"


_CLIENT_INFO = Implementation(name="chat-to-responses", version=_package_version())


def _keep_all(_tool: ToolParam) -> bool:
    return True


# --------------------------------------------------------------------------------------------- errors


class MCPToolsetError(Exception):
    """Base of the errors this module raises about an MCP server; ``server`` describes it."""

    def __init__(self, message: str, *, server: str) -> None:
        super().__init__(message)
        self.server = server


class MCPConnectionError(MCPToolsetError, ConnectionError):
    """Could not connect to an MCP server, negotiate with it, or list its tools (the cause is chained)."""


class MCPToolCallError(MCPToolsetError):
    """A tool call failed below the tool itself: transport, protocol, or a closed connection."""

    def __init__(self, message: str, *, server: str, tool: str) -> None:
        super().__init__(message, server=server)
        self.tool = tool


class MCPToolTimeoutError(MCPToolCallError, TimeoutError):
    """A tool call did not finish within ``tool_timeout``; the request was cancelled on the server."""


# --------------------------------------------------------------------------------------------- config


@dataclass(frozen=True)
class MCPServerConfig:
    """One MCP server to expose as chat tools: exactly one of ``url``, ``command`` or ``session`` (a
    ``session`` may come with the ``url`` it is connected to, as seed configs do: the session is used).

    - ``url``: a streamable HTTP endpoint (``http://host:port/mcp``), with optional ``headers`` sent on
      every HTTP request (authorization, routing...).
    - ``command`` (+ ``args``, ``env`` merged over a minimal inherited environment, ``cwd``): a server
      run as a subprocess over stdio.
    - ``session``: an initialized ``mcp.ClientSession`` you own (it is used, never closed).

    ``timeout`` bounds connecting, the protocol handshake and listing tools (and the HTTP connect/write);
    ``tool_timeout`` bounds each tool call (``None``: no limit). ``server_label`` prefixes the tool names
    (``label__tool``). ``filter_tool`` keeps a tool when it returns true. ``meta`` is a static ``_meta``
    sent with every call (the run's context is merged over it).

    Seed-compatible spellings: ``server_url`` for ``url`` and ``extra_headers`` for ``headers`` (both
    readable too).
    """

    url: str | None = None
    headers: Mapping[str, str] | None = None
    timeout: float = 30.0
    tool_timeout: float | None = 300.0
    command: str | None = None
    args: Sequence[str] = ()
    env: Mapping[str, str] | None = None
    cwd: str | os.PathLike[str] | None = None
    session: ClientSession | None = field(default=None, compare=False)
    server_label: str | None = None
    filter_tool: ToolFilter = _keep_all
    meta: Mapping[str, Any] | None = None
    server_url: InitVar[str | None] = None
    extra_headers: InitVar[Mapping[str, str] | None] = None

    def __post_init__(self, server_url: str | None, extra_headers: Mapping[str, str] | None) -> None:
        if server_url is not None:
            if self.url is not None and self.url != server_url:
                raise ValueError(
                    "MCPServerConfig: pass url or server_url (its seed-compatible alias), not both"
                )
            object.__setattr__(self, "url", server_url)
        if extra_headers is not None:
            if self.headers is not None and dict(self.headers) != dict(extra_headers):
                raise ValueError(
                    "MCPServerConfig: pass headers or extra_headers (its seed-compatible alias), not both"
                )
            object.__setattr__(self, "headers", extra_headers)
        self._validate()

    def _validate(self) -> None:
        self._validate_transport()
        self._validate_options()

    def _validate_transport(self) -> None:
        transports = [
            name
            for name, value in (("url", self.url), ("command", self.command), ("session", self.session))
            if value is not None and not (name == "url" and self.session is not None)
        ]
        if len(transports) != 1:
            given = ", ".join(transports) if transports else "none"
            raise ValueError(
                "MCPServerConfig needs exactly one transport: url= (streamable HTTP), command= (stdio) "
                f"or session= (an initialized ClientSession); got {given}"
            )
        if self.url is not None and self.session is None:
            if not isinstance(self.url, str) or urlsplit(self.url).scheme not in ("http", "https"):
                raise ValueError(f"MCPServerConfig: url must be an http(s) URL, got {self.url!r}")
        elif self.headers is not None and self.url is None:
            raise ValueError("MCPServerConfig: headers only apply to url= (streamable HTTP) servers")
        if self.command is None and (self.args or self.env is not None or self.cwd is not None):
            raise ValueError("MCPServerConfig: args, env and cwd only apply to command= (stdio) servers")
        if isinstance(self.args, str):
            raise ValueError("MCPServerConfig: args must be a sequence of strings, not one string")
        if self.command is not None and not self.command:
            raise ValueError("MCPServerConfig: command must not be empty")

    def _validate_options(self) -> None:
        if not (isinstance(self.timeout, (int, float)) and self.timeout > 0):
            raise ValueError(
                f"MCPServerConfig: timeout must be a positive number of seconds, got {self.timeout!r}"
            )
        if self.tool_timeout is not None and not (
            isinstance(self.tool_timeout, (int, float)) and self.tool_timeout > 0
        ):
            raise ValueError(
                f"MCPServerConfig: tool_timeout must be positive seconds or None, got {self.tool_timeout!r}"
            )
        if self.server_label is not None and not _LABEL_RE.match(self.server_label):
            raise ValueError(
                "MCPServerConfig: server_label must be letters, digits, '_' or '-' (it prefixes function "
                f"names), got {self.server_label!r}"
            )
        if self.meta is not None and not isinstance(self.meta, Mapping):
            raise ValueError(f"MCPServerConfig: meta must be a mapping, got {type(self.meta).__name__}")
        if not callable(self.filter_tool):
            raise ValueError("MCPServerConfig: filter_tool must be callable")

    @property
    def display_name(self) -> str:
        """How errors name this server: label and endpoint (credentials and query string left out)."""
        if self.url is not None:
            where = _redact_url(self.url)
        elif self.command is not None:
            where = "stdio: " + shlex.join([self.command, *self.args])
        else:
            where = "existing session"
        label = f" {self.server_label!r}" if self.server_label else ""
        return f"MCP server{label} ({where})"


# The seed's attribute names, readable (they are init-only aliases in the dataclass).
def _server_url(config: MCPServerConfig) -> str | None:
    return config.url


def _extra_headers(config: MCPServerConfig) -> Mapping[str, str] | None:
    return config.headers


setattr(MCPServerConfig, "server_url", property(_server_url))  # noqa: B010
setattr(MCPServerConfig, "extra_headers", property(_extra_headers))  # noqa: B010


def _redact_url(url: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _as_configs(configs: Sequence[MCPServerConfig] | MCPServerConfig) -> list[MCPServerConfig]:
    items = [configs] if isinstance(configs, MCPServerConfig) else list(configs)
    for item in items:
        if not isinstance(item, MCPServerConfig):
            raise TypeError(f"expected MCPServerConfig, got {type(item).__name__}")
    return items


# --------------------------------------------------------------------------------------------- connecting


@asynccontextmanager
async def _connect(config: MCPServerConfig) -> AsyncIterator[Client]:
    """An ``mcp.Client`` connected to an owned (url or command) server, protocol negotiated."""
    async with AsyncExitStack() as stack:
        if config.url is not None:
            # No read timeout: a tool may legitimately take minutes, and an HTTP read timeout fires inside
            # the transport's task group, where it kills the connection instead of failing one call. The
            # deadlines are enforced around each operation instead (timeout / tool_timeout).
            http = await stack.enter_async_context(
                httpx2.AsyncClient(
                    headers=dict(config.headers or {}), timeout=httpx2.Timeout(config.timeout, read=None)
                )
            )
            client = Client(streamable_http_client(config.url, http_client=http), client_info=_CLIENT_INFO)
        else:
            assert config.command is not None
            parameters = StdioServerParameters(
                command=config.command,
                args=list(config.args),
                env=dict(config.env) if config.env is not None else None,
                cwd=os.fspath(config.cwd) if config.cwd is not None else None,
            )
            client = Client(parameters, client_info=_CLIENT_INFO)
        yield await stack.enter_async_context(client)


async def _list_tools(target: Client | ClientSession) -> list[McpTool]:
    tools: list[McpTool] = []
    cursor: str | None = None
    for _ in range(_MAX_LIST_PAGES):
        if isinstance(target, Client):
            page = await target.list_tools(cursor=cursor)
        else:
            page = await target.list_tools(params=PaginatedRequestParams(cursor=cursor) if cursor else None)
        tools.extend(page.tools)
        cursor = page.next_cursor
        if cursor is None:
            break
    return tools


async def _call_tool(
    target: Client | ClientSession, name: str, arguments: dict[str, Any], meta: dict[str, Any] | None
) -> CallToolResult:
    # RequestParamsMeta is an open TypedDict (extra keys allowed); mypy does not model extra_items yet.
    request_meta = cast("RequestParamsMeta | None", meta)
    return await target.call_tool(name, arguments, meta=request_meta)


def _leaves(exc: BaseException) -> list[BaseException]:
    """The exceptions inside (nested) exception groups, or ``[exc]``."""
    inner = getattr(exc, "exceptions", None)
    if isinstance(inner, (list, tuple)) and inner and all(isinstance(e, BaseException) for e in inner):
        return [leaf for e in inner for leaf in _leaves(e)]
    return [exc]


def _explain(exc: BaseException) -> str:
    parts: list[str] = []
    for leaf in _leaves(exc):
        if isinstance(leaf, MCPError):
            text = f"MCP error {leaf.code}: {leaf.message}"
        else:
            detail = str(leaf).strip().splitlines()[0] if str(leaf).strip() else ""
            text = f"{type(leaf).__name__}: {detail}" if detail else type(leaf).__name__
        if text not in parts:
            parts.append(text)
    return "; ".join(parts)[:1000]


def _connection_error(exc: BaseException, config: MCPServerConfig, doing: str) -> MCPConnectionError:
    server = config.display_name
    if any(isinstance(leaf, TimeoutError) for leaf in _leaves(exc)):
        message = f"{doing} {server}: no answer within {config.timeout:g}s (timeout)"
    else:
        message = f"{doing} {server} failed: {_explain(exc)}"
    return MCPConnectionError(message, server=server)


def _call_error(exc: BaseException, config: MCPServerConfig, tool: str) -> Exception:
    """The exception an invoker raises for a failed call (``exc`` itself when it is already one)."""
    server = config.display_name
    leaves = _leaves(exc)
    for leaf in leaves:
        if isinstance(leaf, (ToolInputError, MCPToolsetError)):
            return leaf
    if any(isinstance(leaf, TimeoutError) for leaf in leaves):
        return MCPToolTimeoutError(
            f"MCP tool {tool!r} on {server} did not finish within {config.tool_timeout:g}s (tool_timeout); "
            "the request was cancelled",
            server=server,
            tool=tool,
        )
    for leaf in leaves:
        if isinstance(leaf, MCPError) and leaf.code == INVALID_PARAMS:
            return ToolInputError(f"MCP tool {tool!r} rejected the arguments: {leaf.message}")
    return MCPToolCallError(
        f"calling MCP tool {tool!r} on {server} failed: {_explain(exc)}", server=server, tool=tool
    )


def _raise_call_error(exc: Exception, config: MCPServerConfig, tool: str) -> NoReturn:
    error = _call_error(exc, config, tool)
    if error is exc:
        raise exc
    if any(error is leaf for leaf in _leaves(exc)):
        raise error from None  # already ours (or a ToolInputError), unwrapped from an exception group
    raise error from exc


# --------------------------------------------------------------------------------------------- links


class _Link:
    """Where one server's calls go."""

    def __init__(self, config: MCPServerConfig) -> None:
        self.config = config

    async def call(self, tool: str, arguments: dict[str, Any], meta: dict[str, Any] | None) -> CallToolResult:
        raise NotImplementedError

    def session(self) -> ClientSession:
        raise RuntimeError(f"{self.config.display_name} has no open session")


class _SessionLink(_Link):
    """A caller-owned, initialized ``ClientSession``: used as is, never closed."""

    def __init__(self, config: MCPServerConfig, session: ClientSession) -> None:
        super().__init__(config)
        self._session = session

    async def discover(self) -> list[McpTool]:
        if self._session.server_capabilities is None:
            raise ValueError(f"{self.config.display_name}: the session must be initialized before use")
        try:
            with anyio.fail_after(self.config.timeout):
                return await _list_tools(self._session)
        except Exception as exc:
            raise _connection_error(exc, self.config, "listing the tools of") from exc

    async def call(self, tool: str, arguments: dict[str, Any], meta: dict[str, Any] | None) -> CallToolResult:
        try:
            with anyio.fail_after(self.config.tool_timeout):
                return await _call_tool(self._session, tool, arguments, meta)
        except Exception as exc:
            _raise_call_error(exc, self.config, tool)

    def session(self) -> ClientSession:
        return self._session


class _EphemeralLink(_Link):
    """No connection kept: one per operation (the seed-compatible form)."""

    async def discover(self) -> list[McpTool]:
        try:
            with anyio.fail_after(self.config.timeout):
                async with _connect(self.config) as client:
                    return await _list_tools(client)
        except Exception as exc:
            raise _connection_error(exc, self.config, "connecting to") from exc

    async def call(self, tool: str, arguments: dict[str, Any], meta: dict[str, Any] | None) -> CallToolResult:
        connected = False
        try:
            with anyio.fail_after(self.config.timeout) as deadline:
                async with _connect(self.config) as client:
                    connected = True
                    deadline.deadline = (
                        math.inf
                        if self.config.tool_timeout is None
                        else anyio.current_time() + self.config.tool_timeout
                    )
                    return await _call_tool(client, tool, arguments, meta)
        except Exception as exc:
            if not connected:
                raise _connection_error(exc, self.config, f"connecting (to call {tool!r}) to") from exc
            _raise_call_error(exc, self.config, tool)


class _PersistentLink(_Link):
    """A connection owned by a task of the toolset's task group, open from discovery until ``stop()``."""

    def __init__(self, config: MCPServerConfig) -> None:
        super().__init__(config)
        self._client: Client | None = None
        self._stop = anyio.Event()
        self._failure: Exception | None = None

    async def run(
        self, *, task_status: anyio.abc.TaskStatus[list[McpTool]] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Connect, list the tools (reported through ``task_status``), then hold the connection open."""
        started = False
        try:
            with anyio.fail_after(self.config.timeout) as deadline:
                async with _connect(self.config) as client:
                    tools = await _list_tools(client)
                    deadline.deadline = math.inf  # the timeout covers connecting and discovery only
                    self._client = client
                    started = True
                    task_status.started(tools)
                    await self._stop.wait()
        except Exception as exc:
            if not started:
                raise _connection_error(exc, self.config, "connecting to") from exc
            # After discovery nobody awaits this task: keep the failure for the calls, never let it
            # cancel the toolset's task group (and with it the caller's code).
            self._failure = exc
            if self._stop.is_set():
                logger.debug("%s: error while closing: %s", self.config.display_name, _explain(exc))
            else:
                logger.warning("%s: connection lost: %s", self.config.display_name, _explain(exc))
        finally:
            self._client = None

    def stop(self) -> None:
        self._stop.set()

    def _require(self, tool: str) -> Client:
        if self._client is not None:
            return self._client
        if self._failure is not None:
            reason = f"the connection was lost ({_explain(self._failure)})"
        else:
            reason = "the connection is closed"
        raise MCPToolCallError(
            f"cannot call MCP tool {tool!r}: {reason}; {self.config.display_name}",
            server=self.config.display_name,
            tool=tool,
        )

    async def call(self, tool: str, arguments: dict[str, Any], meta: dict[str, Any] | None) -> CallToolResult:
        client = self._require(tool)
        try:
            with anyio.fail_after(self.config.tool_timeout):
                return await _call_tool(client, tool, arguments, meta)
        except Exception as exc:
            if self._client is None and self._failure is not None and not isinstance(exc, TimeoutError):
                exc = self._failure  # the call died with the connection: report why it died
            _raise_call_error(exc, self.config, tool)

    def session(self) -> ClientSession:
        if self._client is None:
            return super().session()
        return self._client.session


# --------------------------------------------------------------------------------------------- tools


# Keywords OpenAI strict mode rejects (structured outputs' supported subset).
_STRICT_UNSUPPORTED = frozenset(
    {
        "allOf",
        "oneOf",
        "not",
        "if",
        "then",
        "else",
        "patternProperties",
        "dependentRequired",
        "dependentSchemas",
        "unevaluatedProperties",
        "unevaluatedItems",
        "propertyNames",
        "contains",
        "prefixItems",
    }
)


def _satisfies_strict(schema: Mapping[str, Any]) -> bool:
    """True when ``schema`` meets OpenAI strict mode: an object root; every object closed
    (``additionalProperties: false``) with every property required; no unsupported keyword."""
    return schema.get("type") == "object" and _strict_node(schema)


def _strict_node(node: object) -> bool:
    if not isinstance(node, Mapping) or _STRICT_UNSUPPORTED.intersection(node):
        return False
    kind = node.get("type")
    properties = node.get("properties")
    if kind == "object" or (isinstance(kind, list) and "object" in kind) or properties is not None:
        required = node.get("required", [])
        if node.get("additionalProperties") is not False or not isinstance(required, list):
            return False
        properties = properties if properties is not None else {}
        if not isinstance(properties, Mapping) or set(required) != set(properties):
            return False
    children = _strict_children(node)
    return children is not None and all(_strict_node(child) for child in children)


def _strict_children(node: Mapping[str, Any]) -> list[object] | None:
    """The subschemas to check (``None``: a subschema container of an unexpected shape)."""
    properties = node.get("properties")
    children: list[object] = list(properties.values()) if isinstance(properties, Mapping) else []
    if "items" in node:
        children.append(node["items"])
    if "anyOf" in node:
        if not isinstance(node["anyOf"], list):
            return None
        children.extend(node["anyOf"])
    for key in ("$defs", "definitions"):
        if key in node:
            if not isinstance(node[key], Mapping):
                return None
            children.extend(node[key].values())
    return children


@dataclass(frozen=True)
class _Converted:
    """An MCP tool as a chat tool, and how to turn the model's arguments back into the server's."""

    param: ToolParam
    source: dict[str, Any] | None  # the server's schema, when the parameters were rewritten for strict mode

    def arguments(self, arguments: dict[str, Any]) -> dict[str, Any]:
        return arguments if self.source is None else drop_null_defaults(arguments, self.source)


def _tool_param(tool: McpTool, prefix: str) -> ToolParam:
    return _convert(tool, prefix).param


def _convert(tool: McpTool, prefix: str) -> _Converted:
    """The chat tool for an MCP tool: strict parameters when strict mode can express its schema, else the
    schema as the server wrote it (see the module docstring)."""
    schema: dict[str, Any] = copy.deepcopy(tool.input_schema) if tool.input_schema else {}
    if not schema:
        schema = {"type": "object", "properties": {}}
    rewritten = strict_parameters(schema) if schema.get("type") == "object" else schema
    strict = _satisfies_strict(rewritten)
    function: FunctionDefinition = {
        "name": f"{prefix}{tool.name}",
        "parameters": rewritten if strict else schema,
        "strict": strict,
    }
    description = tool.description or tool.title
    if description:
        function["description"] = description
    return _Converted({"type": "function", "function": function}, schema if strict else None)


# --------------------------------------------------------------------------------------------- calls


def _json_default(value: object) -> object:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    return str(value)


def _jsonable(value: object) -> Any:
    """A JSON-compatible copy of ``value`` (unknown objects as ``str``)."""
    try:
        return json.loads(json.dumps(value, default=_json_default))
    except Exception:  # best effort: circular references, a failing model_dump...
        return str(value)


def _request_meta(static: Mapping[str, Any] | None, context: Any) -> dict[str, Any] | None:
    """The call's ``_meta``: the config's static meta, then the run's context over it."""
    meta: dict[str, Any] = {str(key): _jsonable(value) for key, value in (static or {}).items()}
    if isinstance(context, Mapping):
        meta.update({str(key): _jsonable(value) for key, value in context.items()})
    elif context is not None:
        meta["context"] = _jsonable(context)
    return meta or None


def _describe_block(block: ContentBlock) -> str:
    if isinstance(block, TextContent):
        return block.text
    if isinstance(block, ImageContent):
        return f"[image: {block.mime_type}]"
    if isinstance(block, AudioContent):
        return f"[audio: {block.mime_type}]"
    if isinstance(block, ResourceLink):
        mime = f", {block.mime_type}" if block.mime_type else ""
        return f"[resource link: {block.uri}{mime}]"
    if isinstance(block, EmbeddedResource):
        resource = block.resource
        mime = f", {resource.mime_type}" if resource.mime_type else ""
        if isinstance(resource, TextResourceContents):
            return f"[resource: {resource.uri}{mime}]\n{resource.text}"
        if isinstance(resource, BlobResourceContents):
            return f"[resource: {resource.uri}{mime}, binary]"
    return f"[{getattr(block, 'type', type(block).__name__)} content]"


def _tool_result(result: CallToolResult, *, name: str, tool: str, server: str) -> ToolResult:
    text = "\n".join(_describe_block(block) for block in result.content)
    metadata: dict[str, Any] = {"server": server, "tool": tool, "is_error": result.is_error}
    if result.structured_content is not None:
        metadata["structured_content"] = result.structured_content
        if not result.content:
            text = json.dumps(result.structured_content, ensure_ascii=False)
    if result.is_error:
        # Returned, not raised: a tool that failed is an answer the model should read and act on.
        return ToolResult(
            content=f"MCP tool {name!r} reported an error: {text or '(no details)'}", metadata=metadata
        )
    return ToolResult(content=text, metadata=metadata)


async def _call(
    link: _Link, converted: _Converted, tool: str, tool_call: ToolCall, context: Any
) -> ToolResult:
    arguments = converted.arguments(args_from_tool_call(tool_call))
    result = await link.call(tool, arguments, _request_meta(link.config.meta, context))
    name = converted.param["function"]["name"]
    return _tool_result(result, name=name, tool=tool, server=link.config.display_name)


def _invoker(link: _Link, converted: _Converted, tool: str) -> ToolInvoker:
    async def invoke(tool_call: ToolCall, context: Any) -> ToolResult:
        return await _call(link, converted, tool, tool_call, context)

    invoke.__name__ = invoke.__qualname__ = f"mcp_invoke_{converted.param['function']['name']}"
    return invoke


def _text_invoker(link: _Link, converted: _Converted, tool: str) -> ToolInvoker:
    """The seed's invoker: the tool's text, as a ``str``."""

    async def invoke(tool_call: ToolCall, context: Any) -> str:
        return (await _call(link, converted, tool, tool_call, context)).content

    invoke.__name__ = invoke.__qualname__ = f"mcp_invoke_{converted.param['function']['name']}"
    return invoke


class _Registry:
    """Tools and invokers of several servers, with their names checked for clashes."""

    def __init__(self, *, text_results: bool = False) -> None:
        self.tools: list[ToolParam] = []
        self.invokers: dict[str, ToolInvoker] = {}
        self.links: dict[str, _Link] = {}
        self._make_invoker = _text_invoker if text_results else _invoker

    def add(self, link: _Link, mcp_tools: Sequence[McpTool]) -> None:
        config = link.config
        prefix = f"{config.server_label}__" if config.server_label else ""
        for mcp_tool in mcp_tools:
            converted = _convert(mcp_tool, prefix)
            param = converted.param
            if not config.filter_tool(param):
                continue
            name = param["function"]["name"]
            if name in self.links:
                other = self.links[name].config.display_name
                raise ValueError(
                    f"duplicate MCP tool name {name!r}: offered by {other} and by {config.display_name}; "
                    "give one of them a distinct server_label (or drop one with filter_tool)"
                )
            self.tools.append(param)
            self.invokers[name] = self._make_invoker(link, converted, mcp_tool.name)
            self.links[name] = link


# --------------------------------------------------------------------------------------------- public API


class MCPToolset:
    """MCP servers as chat tools, one connection per server kept open for the whole ``async with``.

    ``tools`` is the list of chat tool schemas, ``invokers`` maps each name to its invoker; pass both to
    the tool loop. Entering connects to every server (concurrently) and lists its tools; exiting closes
    every connection this toolset opened (a stdio server's process is ended). A ``session=`` server's
    session is used as is and left open. Not reusable once exited.
    """

    def __init__(self, configs: Sequence[MCPServerConfig] | MCPServerConfig) -> None:
        self._configs = _as_configs(configs)
        self._registry: _Registry | None = None
        self._stack: AsyncExitStack | None = None
        self._entered = False

    @property
    def tools(self) -> list[ToolParam]:
        return self._open_registry().tools

    @property
    def invokers(self) -> dict[str, ToolInvoker]:
        return self._open_registry().invokers

    def session_for(self, tool_name: str) -> ClientSession:
        """The open ``ClientSession`` that serves ``tool_name`` (the exposed, prefixed name)."""
        registry = self._open_registry()
        if tool_name not in registry.links:
            raise KeyError(f"no MCP tool named {tool_name!r} in this toolset")
        return registry.links[tool_name].session()

    def _open_registry(self) -> _Registry:
        if self._registry is None:
            raise RuntimeError("MCPToolset is not open: use `async with MCPToolset(configs) as toolset:`")
        return self._registry

    async def __aenter__(self) -> MCPToolset:
        if self._entered:
            raise RuntimeError("MCPToolset cannot be entered twice")
        self._entered = True
        stack = AsyncExitStack()
        await stack.__aenter__()
        try:
            task_group = await stack.enter_async_context(anyio.create_task_group())
            links: list[_Link] = []
            for config in self._configs:
                if config.session is not None:
                    links.append(_SessionLink(config, config.session))
                else:
                    persistent = _PersistentLink(config)
                    stack.callback(persistent.stop)  # runs before the task group's exit waits for it
                    links.append(persistent)
            discovered = await self._discover_all(task_group, links)
            registry = _Registry()
            for link, mcp_tools in zip(links, discovered, strict=True):
                registry.add(link, mcp_tools)
        except BaseException:
            # Closed without the exception: a task group would wrap it in an ExceptionGroup.
            await stack.aclose()
            raise
        self._registry = registry
        self._stack = stack
        return self

    @staticmethod
    async def _discover_all(task_group: anyio.abc.TaskGroup, links: list[_Link]) -> list[list[McpTool]]:
        found: list[list[McpTool]] = [[] for _ in links]
        failures: list[Exception | None] = [None] * len(links)

        async def discover(index: int, link: _Link) -> None:
            try:
                if isinstance(link, _PersistentLink):
                    found[index] = await task_group.start(link.run)
                elif isinstance(link, _SessionLink):
                    found[index] = await link.discover()
            except Exception as exc:
                failures[index] = exc

        async with anyio.create_task_group() as starter:
            for index, link in enumerate(links):
                starter.start_soon(discover, index, link)
        errors = [failure for failure in failures if failure is not None]
        for extra in errors[1:]:
            logger.warning("%s", extra)
        if errors:
            raise errors[0]
        return found

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        stack, self._stack = self._stack, None
        self._registry = None
        if stack is not None:
            # The body's exception is not passed in: the task group would wrap it in an ExceptionGroup.
            # It propagates unchanged once the connections are closed.
            await stack.aclose()


async def build_mcp_tools_and_invokers(
    configs: Sequence[MCPServerConfig] | MCPServerConfig,
) -> tuple[list[ToolParam], dict[str, ToolInvoker]]:
    """``(tools, invokers)`` for the tool loop, without a context manager (seed-compatible: each invoker
    returns the tool's text as a ``str``).

    Nothing stays open: discovery connects to each server in turn and disconnects, and each invoker call
    opens its own short-lived connection (a new subprocess for a stdio server). ``session=`` servers use
    their session. :class:`MCPToolset` keeps one connection per server instead; prefer it.
    """
    registry = _Registry(text_results=True)
    for config in _as_configs(configs):
        link = _link(config)
        registry.add(link, await link.discover())
    return registry.tools, registry.invokers


def _link(config: MCPServerConfig) -> _SessionLink | _EphemeralLink:
    return _SessionLink(config, config.session) if config.session is not None else _EphemeralLink(config)


async def list_mcp_tools(
    server_url: str,
    *,
    server_label: str | None = None,
    filter_tool: ToolFilter = _keep_all,
    extra_headers: Mapping[str, str] | None = None,
    session: ClientSession | None = None,
) -> list[ToolParam]:
    """The server's tools as chat tool schemas (seed-compatible); ``session``, if given, is used instead
    of connecting to ``server_url``."""
    config = MCPServerConfig(
        server_url=server_url,
        server_label=server_label,
        filter_tool=filter_tool,
        extra_headers=extra_headers,
        session=session,
    )
    tools, _ = await build_mcp_tools_and_invokers([config])
    return tools


async def call_mcp_tool(
    server_url: str,
    tool_name: str,
    arguments: str,
    *,
    server_label: str | None = None,
    meta: Mapping[str, Any] | None = None,
    extra_headers: Mapping[str, str] | None = None,
    session: ClientSession | None = None,
) -> str:
    """Call one tool and return its text (seed-compatible). ``tool_name`` may carry the
    ``{server_label}__`` prefix; ``arguments`` is the model's JSON text (``""`` for none). A tool error
    (``isError``) is returned as text for the model; a failed call raises :class:`MCPToolCallError`."""
    name = tool_name
    if server_label and name.startswith(f"{server_label}__"):
        name = name[len(server_label) + 2 :]
    config = MCPServerConfig(
        server_url=server_url,
        server_label=server_label,
        extra_headers=extra_headers,
        session=session,
        meta=meta,
    )
    call = ToolCall.model_validate(
        {"id": "call_mcp", "type": "function", "function": {"name": tool_name, "arguments": arguments}}
    )
    result = await _link(config).call(name, args_from_tool_call(call), _request_meta(meta, None))
    return _tool_result(result, name=tool_name, tool=name, server=config.display_name).content


def clear_endpoint_cache() -> None:
    """Seed-compatible no-op: connections are not discovered by probing endpoints, so nothing is cached."""
