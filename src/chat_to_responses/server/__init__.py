"""A Responses API server over any Chat Completions upstream (``chat-to-responses serve``).

Codex CLI, the openai-agents SDK and every ``client.responses.*`` caller speak the Responses API; vLLM,
llama.cpp, Ollama, DeepSeek and most gateways speak Chat Completions. This server sits in between::

    chat-to-responses serve --upstream http://127.0.0.1:8000/v1          # listens on 127.0.0.1:8080

- :class:`ServerConfig` — everything the operator fixes (upstream, keys, store, limits).
- :func:`create_app` — the Starlette ASGI app for a config (run it under any ASGI server).
- :func:`serve` — run it under uvicorn.
- :func:`add_serve_command` / :func:`run_serve` — the ``serve`` sub-command, for the CLI.

Layout (private modules; this one holds the entry points): ``_config`` / ``_config_file`` (the operator's
settings, the TOML upstreams), ``_app`` (the ASGI app and its routes), ``_request`` → ``_upstream`` /
``_routes`` → ``_stream`` (one response, from request body to SSE frames), ``_ws`` (WebSocket mode),
``_compact``, ``_attempts``, ``_echo``, ``_include``, ``_tools``, ``_errors``, ``_limits`` / ``_http`` (the
guards), ``_metrics``, ``_workers`` (``--workers N``), and ``store/`` (the response store: the interface,
memory and SQLite, Redis).

Requests and streams go through the library's own pieces: ``items_to_messages`` for the history, the core
translator for every event, ``encode_sse`` for the framing. Needs the ``server`` extra
(``pip install 'chat-to-responses[server]'``: Starlette, uvicorn, httpx).

Security defaults: binds 127.0.0.1; the upstream is the operator's, never the client's choice; keys come
from environment variables (never the command line, which other users can read) and are never logged.
"""

from __future__ import annotations

import argparse
import errno
import importlib.util
import ipaddress
import logging
import os
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

# Only what the core dependencies provide is imported here, so the CLI can list `serve` without the extra.
from .._dist import install_command
from ._config import (
    LOG_FORMAT,
    WORKER_LOG_FORMAT,
    ServerConfig,
    UpstreamSpec,
    check_workers,
    default_store_path,
)
from ._config_file import load_upstreams
from ._request import DROPPED_HEADER
from ._tools import NAMESPACE_SEPARATOR
from .store import REDIS_SCHEMES, MemoryStore, ResponseStore, SQLiteStore, StoredResponse

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
    "UpstreamSpec",
    "add_serve_command",
    "config_from_args",
    "create_app",
    "default_store_path",
    "load_upstreams",
    "main",
    "run_serve",
    "serve",
]

UPSTREAM_KEY_ENV = "CHAT_TO_RESPONSES_UPSTREAM_API_KEY"
API_KEY_ENV = "CHAT_TO_RESPONSES_API_KEY"
STORE_PASSWORD_ENV = "CHAT_TO_RESPONSES_STORE_PASSWORD"

logger = logging.getLogger("chat_to_responses.server")

_DESCRIPTION = (
    "Serve POST /v1/responses (and GET/DELETE /v1/responses/{id}, GET /v1/models) over a Chat Completions "
    "upstream. Keys are read from environment variables, never from the command line."
)


def create_app(
    config: ServerConfig, *, store: ResponseStore | None = None, probe_upstream: bool = False
) -> Starlette:
    """The Starlette ASGI app for ``config``; ``store`` replaces the configured store (its owner closes it).

    The upstream client and the store are opened by the app's lifespan and closed when it ends. With
    ``probe_upstream``, start-up logs the upstream's URL and what it answers to ``GET /models`` (a warning
    when it is unreachable, or answers 404 to a URL that probably lacks ``/v1``).
    """
    from ._app import create_app as create

    return create(config, store=store, probe_upstream=probe_upstream)


def serve(
    config: ServerConfig,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    log_level: str = "info",
    workers: int = 1,
) -> None:
    """Run the server under uvicorn until interrupted (Ctrl-C / SIGTERM), in ``workers`` processes.

    At start-up the upstream is named and probed (``GET {upstream}/models``, in the background): the log
    says whether it answers. Raises ``OSError`` when ``host:port`` cannot be listened on (port in use),
    ``ValueError`` for a store the workers cannot share (``memory``).
    """
    check_workers(config, workers)
    _run(config, _listen(host, port), host=host, port=port, log_level=log_level, workers=workers)


def _listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound here so that a busy port is an error the caller can word, not a
    traceback or a uvicorn exit deep inside the server."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _run(
    config: ServerConfig, sock: socket.socket, *, host: str, port: int, log_level: str, workers: int = 1
) -> None:
    import uvicorn

    if not _is_loopback(host) and not config.api_key:
        logger.warning(
            "listening on %s without an inbound key: anyone who can reach it can use the upstream", host
        )
    if workers > 1:
        from ._workers import run_workers

        run_workers(config, sock, workers=workers, host=host, port=port, log_level=log_level)
        return
    app = create_app(config, probe_upstream=True)
    from ._limits import uvicorn_options

    uv_config = uvicorn.Config(
        app, host=host, port=port, log_level=log_level, timeout_graceful_shutdown=5, **uvicorn_options(config)
    )
    with sock:
        uvicorn.Server(uv_config).run(sockets=[sock])


def _listen_error(host: str, port: int, exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return f"port {port} on {host} is already in use: choose another with --port"
    return f"cannot listen on {host}:{port}: {exc.strerror or exc}: check --host and --port"


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
        formatter_class=_DefaultsFormatter,
    )
    _add_serve_arguments(serve_parser)
    return serve_parser


class _DefaultsFormatter(argparse.HelpFormatter):
    """Every option's help ends with its default (unless the text already gives it)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if "default" in text or action.default in (None, argparse.SUPPRESS) or not action.option_strings:
            return text
        return f"{text} (default: %(default)s)"


def _add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add(
        "--upstream",
        metavar="URL",
        help="Chat Completions base URL, usually ending in /v1, e.g. http://127.0.0.1:8000/v1 (no default: "
        "this or --config is required)",
    )
    add(
        "--config",
        type=Path,
        metavar="FILE",
        help="TOML file of several upstreams chosen by model ([upstreams.NAME] tables: base_url, models, "
        "api_key_env, per-upstream options); the other flags are their defaults (default: none)",
    )
    add("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, this machine only)")
    add("--port", type=int, default=8080, help="port to bind")
    add(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="server processes on the one port (one per core; they share the sqlite or redis store)",
    )
    add(
        "--upstream-api-key-env",
        default=UPSTREAM_KEY_ENV,
        metavar="VAR",
        help="env var with a server-side upstream key; when unset, each client's bearer token is passed "
        "through",
    )
    add(
        "--api-key-env",
        default=API_KEY_ENV,
        metavar="VAR",
        help="env var with the key clients must send; needs an upstream key",
    )
    add(
        "--store",
        default="sqlite",
        metavar="{sqlite,memory,none,redis://HOST:PORT/DB}",
        help="where responses are kept for previous_response_id; a Redis URL is shared by replicas "
        f"(its password from ${STORE_PASSWORD_ENV})",
    )
    add("--store-path", type=Path, metavar="PATH", help=f"SQLite file (default {default_store_path()})")
    add(
        "--store-ttl",
        type=float,
        default=7 * 24 * 3600.0,
        metavar="SECONDS",
        help="stored response lifetime",
    )
    add("--store-max-entries", type=int, default=5000, metavar="N", help="most stored responses kept")
    add(
        "--reasoning-effort",
        choices=("pass", "drop"),
        default="pass",
        help="send reasoning.effort upstream as reasoning_effort, or never",
    )
    add(
        "--max-tokens-field",
        choices=("max_tokens", "max_completion_tokens"),
        default="max_tokens",
        help="the chat field max_output_tokens becomes",
    )
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
        help="fail a stream that ends without a finish_reason, as cut (default: complete it)",
    )
    add(
        "--reasoning-history",
        choices=("tool_turns", "always", "never"),
        default="tool_turns",
        help="which replayed assistant turns carry reasoning_content",
    )
    add("--default-model", metavar="NAME", help="model for requests that name none (default: none, a 400)")
    add("--max-body-bytes", type=int, default=32 * 1024 * 1024, metavar="N", help="request body size limit")
    add(
        "--record",
        type=Path,
        metavar="DIR",
        help="save every upstream chunk stream as a JSONL fixture there (default: none)",
    )
    add("--connect-timeout", type=float, default=10.0, metavar="SECONDS", help="upstream connect timeout")
    add("--read-timeout", type=float, default=600.0, metavar="SECONDS", help="longest upstream silence")
    add("--max-connections", type=int, default=1000, metavar="N", help="upstream connection pool size")
    _add_limit_arguments(parser)
    add(
        "--metrics",
        action="store_true",
        help="serve GET /metrics (Prometheus text format), behind the inbound key when one is set",
    )
    add("--log-level", choices=("debug", "info", "warning", "error"), default="info", help="log verbosity")


def _add_limit_arguments(parser: argparse.ArgumentParser) -> None:
    """Ownership and limits: ServerConfig's fields of the same names (defaults from there, one place)."""
    defaults = ServerConfig(upstream="http://127.0.0.1/v1")
    add = parser.add_argument
    add(
        "--store-anonymous",
        action="store_true",
        help="also store responses of requests with no credential (they are then shared by all such "
        "requests); by default only a credential's own responses are stored and read back",
    )
    numbers: list[tuple[str, type, str]] = [
        ("store-max-bytes", int, "most bytes of stored responses kept"),
        ("finish-grace", float, "seconds to wait for usage after finish_reason without [DONE]"),
        ("stream-timeout", float, "longest a response may take in all"),
        ("max-upstream-bytes", int, "largest upstream body read"),
        ("max-streams", int, "responses in progress at once (429 above)"),
        ("max-streams-per-client", int, "responses in progress at once per credential or address"),
        ("header-timeout", float, "seconds a connection has to send its request head"),
        ("idle-timeout", float, "seconds an idle keep-alive connection is kept"),
        ("max-header-bytes", int, "largest request head"),
        ("max-inbound-connections", int, "connections served at once (503 above)"),
    ]
    for name, kind, what in numbers:
        default = getattr(defaults, name.replace("-", "_"))
        add(f"--{name}", type=kind, default=default, metavar="N", help=f"{what} (default {default})")
    add(
        "--image-url-schemes",
        default=",".join(defaults.image_url_schemes),
        metavar="LIST",
        help="URL schemes an input_image may use, comma-separated (default %(default)s)",
    )


def _env_key(name: str) -> str | None:
    return os.environ.get(name) or None


def _upstreams(args: argparse.Namespace) -> tuple[UpstreamSpec, ...]:
    config_file = getattr(args, "config", None)
    if config_file is None and not args.upstream:
        raise ValueError("give the upstream: --upstream URL, or --config FILE for several")
    if config_file is not None and args.upstream:
        raise ValueError("give either --upstream or --config, not both")
    return () if config_file is None else load_upstreams(config_file)


def config_from_args(args: argparse.Namespace) -> ServerConfig:
    """The :class:`ServerConfig` for parsed ``serve`` arguments (keys read from the environment)."""
    upstreams = _upstreams(args)
    if upstreams and _env_key(args.upstream_api_key_env):
        logger.warning(
            "%s is ignored with --config: each upstream's key comes from its api_key_env",
            args.upstream_api_key_env,
        )
    return ServerConfig(
        upstream=args.upstream or "",
        upstreams=upstreams,
        upstream_api_key=None if upstreams else _env_key(args.upstream_api_key_env),
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
        store_anonymous=args.store_anonymous,
        store_max_bytes=args.store_max_bytes,
        finish_grace=args.finish_grace,
        stream_timeout=args.stream_timeout,
        max_upstream_bytes=args.max_upstream_bytes,
        image_url_schemes=tuple(s.strip().lower() for s in args.image_url_schemes.split(",") if s.strip()),
        max_streams=args.max_streams,
        max_streams_per_client=args.max_streams_per_client,
        header_timeout=args.header_timeout,
        idle_timeout=args.idle_timeout,
        max_header_bytes=args.max_header_bytes,
        max_inbound_connections=args.max_inbound_connections,
        metrics=args.metrics,
        store_password=_env_key(STORE_PASSWORD_ENV),
    )


def _missing_module(config: ServerConfig) -> tuple[str, str] | None:
    """(module, extra) when a module the config needs is not installed: a clear message, not a traceback."""
    needed = [("starlette", "server"), ("uvicorn", "server")]
    if config.metrics:
        needed.append(("prometheus_client", "server"))
    if config.store.startswith(REDIS_SCHEMES):
        needed.append(("redis", "redis"))
    for module, extra in needed:
        if importlib.util.find_spec(module) is None:
            return module, extra
    return None


def run_serve(args: argparse.Namespace) -> int:
    """Run ``serve`` for parsed arguments; the exit status (2 for a bad configuration)."""
    try:
        config = config_from_args(args)
        check_workers(config, args.workers)
    except ValueError as exc:
        print(f"chat-to-responses serve: {exc}", file=sys.stderr)
        return 2
    missing = _missing_module(config)
    if missing is not None:
        name, extra = missing
        print(
            f"chat-to-responses serve: {name} is missing; install the {extra} extra: "
            f"{install_command(extra)}",
            file=sys.stderr,
        )
        return 2
    try:
        sock = _listen(args.host, args.port)
    except OSError as exc:
        print(f"chat-to-responses serve: {_listen_error(args.host, args.port, exc)}", file=sys.stderr)
        return 1
    log_format = WORKER_LOG_FORMAT if args.workers > 1 else LOG_FORMAT
    logging.basicConfig(level=args.log_level.upper(), format=log_format)
    if args.log_level != "debug":  # httpx logs every upstream request at INFO: our own line says more
        logging.getLogger("httpx").setLevel(logging.WARNING)
    _run(config, sock, host=args.host, port=args.port, log_level=args.log_level, workers=args.workers)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m chat_to_responses.server --upstream URL …``: the ``serve`` command on its own."""
    parser = argparse.ArgumentParser(
        prog="chat-to-responses serve", description=_DESCRIPTION, formatter_class=_DefaultsFormatter
    )
    _add_serve_arguments(parser)
    return run_serve(parser.parse_args(argv))
