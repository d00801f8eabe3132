"""A Responses API server over any Chat Completions upstream (``chat-to-responses serve``).

Codex CLI, the openai-agents SDK and every ``client.responses.*`` caller speak the Responses API; vLLM,
llama.cpp, Ollama, DeepSeek and most gateways speak Chat Completions. This server sits in between::

    chat-to-responses serve --upstream http://127.0.0.1:8000/v1          # listens on 127.0.0.1:8080

- :class:`ServerConfig` — everything the operator fixes (upstream, keys, store, limits).
- :func:`create_app` — the Starlette ASGI app for a config (run it under any ASGI server).
- :func:`serve` — run it under uvicorn.
- :func:`add_serve_command` / :func:`run_serve` — the ``serve`` sub-command, for the CLI.

Requests and streams go through the library's own pieces: ``items_to_messages`` for the history, the core
translator for every event, ``encode_sse`` for the framing. Needs the ``server`` extra
(``pip install 'chat-to-responses[server]'``: Starlette, uvicorn, httpx).

Security defaults: binds 127.0.0.1; the upstream is the operator's, never the client's choice; keys come
from environment variables (never the command line, which other users can read) and are never logged.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

# Only what the core dependencies provide is imported here, so the CLI can list `serve` without the extra.
from ._server_config import ServerConfig, default_store_path
from ._server_request import DROPPED_HEADER
from ._server_store import MemoryStore, ResponseStore, SQLiteStore, StoredResponse
from ._server_tools import NAMESPACE_SEPARATOR

if TYPE_CHECKING:
    from starlette.applications import Starlette

__all__ = [
    "DROPPED_HEADER",
    "NAMESPACE_SEPARATOR",
    "MemoryStore",
    "ResponseStore",
    "SQLiteStore",
    "ServerConfig",
    "StoredResponse",
    "add_serve_command",
    "config_from_args",
    "create_app",
    "default_store_path",
    "main",
    "run_serve",
    "serve",
]

UPSTREAM_KEY_ENV = "CHAT_TO_RESPONSES_UPSTREAM_API_KEY"
API_KEY_ENV = "CHAT_TO_RESPONSES_API_KEY"

logger = logging.getLogger("chat_to_responses.server")

_DESCRIPTION = (
    "Serve POST /v1/responses (and GET/DELETE /v1/responses/{id}, GET /v1/models) over a Chat Completions "
    "upstream. Keys are read from environment variables, never from the command line."
)


def create_app(config: ServerConfig, *, store: ResponseStore | None = None) -> Starlette:
    """The Starlette ASGI app for ``config``; ``store`` replaces the configured store (its owner closes it).

    The upstream client and the store are opened by the app's lifespan and closed when it ends.
    """
    from ._server_app import create_app as create

    return create(config, store=store)


def serve(
    config: ServerConfig, *, host: str = "127.0.0.1", port: int = 8080, log_level: str = "info"
) -> None:
    """Run the server under uvicorn until interrupted (Ctrl-C / SIGTERM)."""
    import uvicorn

    if not _is_loopback(host) and not config.api_key:
        logger.warning(
            "listening on %s without an inbound key: anyone who can reach it can use the upstream", host
        )
    uvicorn.run(create_app(config), host=host, port=port, log_level=log_level, timeout_graceful_shutdown=5)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def add_serve_command(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``serve`` to an argparse sub-parsers object (``parser.add_subparsers(dest="command")``)."""
    serve_parser: argparse.ArgumentParser = subparsers.add_parser(
        "serve",
        help="run a Responses API server in front of a Chat Completions upstream",
        description=_DESCRIPTION,
    )
    _add_serve_arguments(serve_parser)
    return serve_parser


def _add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add(
        "--upstream",
        required=True,
        metavar="URL",
        help="Chat Completions base URL, e.g. http://127.0.0.1:8000/v1",
    )
    add("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    add("--port", type=int, default=8080, help="port to bind (default 8080)")
    add(
        "--upstream-api-key-env",
        default=UPSTREAM_KEY_ENV,
        metavar="VAR",
        help=f"env var with a server-side upstream key (default {UPSTREAM_KEY_ENV}); when unset, each "
        "client's bearer token is passed through",
    )
    add(
        "--api-key-env",
        default=API_KEY_ENV,
        metavar="VAR",
        help=f"env var with the key clients must send (default {API_KEY_ENV}); needs an upstream key",
    )
    add("--store", choices=("sqlite", "memory", "none"), default="sqlite", help="where responses are kept")
    add("--store-path", type=Path, metavar="PATH", help=f"SQLite file (default {default_store_path()})")
    add(
        "--store-ttl", type=float, default=7 * 24 * 3600.0, metavar="SECONDS", help="stored response lifetime"
    )
    add("--store-max-entries", type=int, default=5000, metavar="N", help="most stored responses kept")
    add(
        "--reasoning-effort",
        choices=("pass", "drop"),
        default="pass",
        help="send reasoning.effort upstream as reasoning_effort, or never",
    )
    add("--max-tokens-field", choices=("max_tokens", "max_completion_tokens"), default="max_tokens")
    add(
        "--reasoning-output",
        choices=("summary", "text"),
        default="summary",
        help="how raw reasoning is shown",
    )
    add("--no-think-tags", action="store_true", help="keep <think> tags in the text")
    add(
        "--require-finish-reason",
        action="store_true",
        help="fail a stream that ends without a finish_reason (cut)",
    )
    add("--reasoning-history", choices=("tool_turns", "always", "never"), default="tool_turns")
    add("--default-model", metavar="NAME", help="model for requests that name none")
    add("--max-body-bytes", type=int, default=32 * 1024 * 1024, metavar="N", help="request body size limit")
    add("--record", type=Path, metavar="DIR", help="save every upstream chunk stream as a JSONL fixture")
    add("--connect-timeout", type=float, default=10.0, metavar="SECONDS")
    add("--read-timeout", type=float, default=600.0, metavar="SECONDS", help="longest upstream silence")
    add("--max-connections", type=int, default=1000, metavar="N", help="upstream connection pool size")
    add("--log-level", choices=("debug", "info", "warning", "error"), default="info")


def _env_key(name: str) -> str | None:
    return os.environ.get(name) or None


def config_from_args(args: argparse.Namespace) -> ServerConfig:
    """The :class:`ServerConfig` for parsed ``serve`` arguments (keys read from the environment)."""
    return ServerConfig(
        upstream=args.upstream,
        upstream_api_key=_env_key(args.upstream_api_key_env),
        api_key=_env_key(args.api_key_env),
        store=args.store,
        store_path=args.store_path,
        store_ttl=args.store_ttl,
        store_max_entries=args.store_max_entries,
        reasoning_effort=args.reasoning_effort,
        max_tokens_field=args.max_tokens_field,
        reasoning_output=args.reasoning_output,
        think_tags=not args.no_think_tags,
        require_finish_reason=args.require_finish_reason,
        reasoning_history=args.reasoning_history,
        default_model=args.default_model,
        max_body_bytes=args.max_body_bytes,
        record_dir=args.record,
        connect_timeout=args.connect_timeout,
        read_timeout=args.read_timeout,
        max_connections=args.max_connections,
    )


def run_serve(args: argparse.Namespace) -> int:
    """Run ``serve`` for parsed arguments; the exit status (2 for a bad configuration)."""
    try:
        config = config_from_args(args)
    except ValueError as exc:
        print(f"chat-to-responses serve: {exc}", file=sys.stderr)
        return 2
    try:
        import starlette  # noqa: F401 - checked here for a clear message instead of a traceback
        import uvicorn  # noqa: F401
    except ModuleNotFoundError as exc:
        print(
            f"chat-to-responses serve: {exc.name} is missing: pip install 'chat-to-responses[server]'",
            file=sys.stderr,
        )
        return 2
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s:     %(name)s: %(message)s")
    if args.log_level != "debug":  # httpx logs every upstream request at INFO: our own line says more
        logging.getLogger("httpx").setLevel(logging.WARNING)
    serve(config, host=args.host, port=args.port, log_level=args.log_level)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m chat_to_responses.server --upstream URL …``: the ``serve`` command on its own."""
    parser = argparse.ArgumentParser(prog="chat-to-responses serve", description=_DESCRIPTION)
    _add_serve_arguments(parser)
    return run_serve(parser.parse_args(argv))


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
