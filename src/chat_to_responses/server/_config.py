"""The Responses server's configuration: one frozen dataclass, fixed by the operator at start-up.

Nothing here can be chosen by a client: the upstream URL, the keys and the limits are the operator's. Keys
are kept out of ``repr`` so a logged or printed config never shows them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from .._history import ReasoningContentMode
from .._translator import ReasoningMode
from .store import REDIS_SCHEMES, redact_url

StoreKind = Literal["sqlite", "memory", "none"]
STORE_KINDS = ("sqlite", "memory", "none")
EffortPolicy = Literal["pass", "drop"]
MaxTokensField = Literal["max_tokens", "max_completion_tokens"]

MIB = 1024 * 1024


def default_store_path() -> Path:
    """``$XDG_STATE_HOME/chat-to-responses/responses.sqlite3`` (``~/.local/state`` when unset)."""
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "chat-to-responses" / "responses.sqlite3"


def _check_upstream(url: str) -> None:
    """A clear error at start-up for an upstream URL every request would fail on."""
    example = "e.g. http://127.0.0.1:8000/v1"
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"upstream must be an http:// or https:// URL ({example}), not {url!r}")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError as exc:
        raise ValueError(f"upstream {url!r} is not a valid URL: {exc}") from None
    if not parts.hostname:
        raise ValueError(f"upstream {url!r} has no host ({example})")
    if parts.query or parts.fragment:
        raise ValueError(f"upstream {url!r} must be a base URL, without '?' or '#' ({example})")


LOG_FORMAT = "%(levelname)s:     %(name)s: %(message)s"
WORKER_LOG_FORMAT = "%(levelname)s:     [%(process)d] %(name)s: %(message)s"  # the worker that logged it


def check_workers(config: ServerConfig, workers: int) -> None:
    """``serve --workers``: at least one, and a store the processes can share."""
    if workers < 1:
        raise ValueError("--workers must be >= 1")
    if workers > 1 and config.store == "memory":
        raise ValueError(
            "--store memory is private to each process: with --workers above 1 use --store sqlite (one "
            "file shared by the workers) or a redis:// store"
        )


@dataclass(frozen=True)
class UpstreamSpec:
    """One upstream of several (``serve --config FILE``): where it is, which models it serves, and the
    per-upstream options; an option left ``None`` is the server's own (its ``serve`` flag or default).

    ``models`` are exact names or ``fnmatch`` globs (``Qwen/*``, ``gpt-4.1-*``); a request's model goes to
    the upstream with that exact name, else to the first upstream (in the file's order) with a matching glob.
    """

    name: str
    base_url: str
    models: tuple[str, ...]
    api_key: str | None = field(default=None, repr=False)
    max_tokens_field: MaxTokensField | None = None
    reasoning_effort: EffortPolicy | None = None
    reasoning_output: ReasoningMode | None = None
    reasoning_history: ReasoningContentMode | None = None
    think_tags: bool | None = None
    require_finish_reason: bool | None = None
    connect_timeout: float | None = None
    read_timeout: float | None = None

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("an upstream needs a name")
        try:
            _check_upstream(self.base_url)
        except ValueError as exc:
            raise ValueError(f"upstream {self.name!r}: {exc}") from None
        if not self.models or not all(isinstance(m, str) and m for m in self.models):
            raise ValueError(f"upstream {self.name!r}: models must be a non-empty list of names or globs")


_OVERRIDES = (
    "max_tokens_field",
    "reasoning_effort",
    "reasoning_output",
    "reasoning_history",
    "think_tags",
    "require_finish_reason",
    "connect_timeout",
    "read_timeout",
)


@dataclass(frozen=True)
class ServerConfig:
    """How the server reaches its upstream and what it accepts.

    Attributes:
        upstream: the Chat Completions base URL, e.g. ``http://127.0.0.1:8000/v1``; the server POSTs to
            ``{upstream}/chat/completions`` and GETs ``{upstream}/models``.
        upstream_api_key: a server-side key for the upstream. When set, the client's token is never
            forwarded. When ``None``, the client's ``Authorization`` header is passed through as is.
        api_key: the key clients must send (``Authorization: Bearer …``); needs ``upstream_api_key``, since
            otherwise the client's token is the upstream's key and the upstream checks it.
        store: where responses are kept for ``previous_response_id`` and ``GET /v1/responses/{id}``:
            an SQLite file (default), process memory, nowhere, or a Redis-protocol server
            (``redis://HOST:PORT/DB``, ``rediss://`` for TLS), which several bridge processes share.
        store_path: the SQLite file (default :func:`default_store_path`).
        store_ttl: seconds a stored response lives after its last use; store_max_entries: how many are
            kept (least recently used ones go first; one that others continue from stays while they do).
        reasoning_effort: ``"pass"`` sends the client's ``reasoning.effort`` as ``reasoning_effort``
            (vLLM, llama.cpp, Ollama, OpenAI-compatible gateways accept it); ``"drop"`` never sends it.
        max_tokens_field: the chat field ``max_output_tokens`` becomes (``max_tokens`` is the one every
            upstream knows; OpenAI reasoning models want ``max_completion_tokens``).
        reasoning_output / think_tags / reasoning_history: how reasoning is reported and replayed (the
            core's ``reasoning`` and ``think_tags`` options, ``items_to_messages``'s ``reasoning_content``).
        require_finish_reason: an upstream stream that ends without a ``finish_reason`` is
            ``response.failed`` (it was cut); off by default, as some servers never send one.
        default_model: the model for requests that name none (else they are a 400).
        max_body_bytes: the largest request body accepted (413 above it).
        record_dir: save every upstream chunk stream there as a JSONL fixture.
        connect_timeout / read_timeout: seconds; the read timeout is the longest silence between two
            upstream bytes (prefill of a long prompt on a local model can take minutes).
        max_connections: connection pool size towards the upstream.

    Ownership and limits (the README's security section lists them with their defaults):
        store_max_bytes: the most bytes of stored items and responses (least recently used go first).
        store_anonymous: store responses of requests that carry no credential at all. Off by default:
            a stored response belongs to the credential that created it (``Authorization``), and only
            that credential reads, deletes or continues it; without one there is nobody to check.
        finish_grace: seconds to wait for the usage chunk after a ``finish_reason`` before completing
            without ``[DONE]`` or the end of the body.
        stream_timeout: the longest a response may take in all, streamed or not (keep-alive comments
            do not extend it).
        max_upstream_bytes: the largest upstream body read (a stream, a completion, the model list).
        image_url_schemes: the URL schemes an ``input_image`` may use (others are a 400).
        max_streams / max_streams_per_client: responses in progress at once, in all and per client (the
            credential, else the peer address); above them a 429.
        header_timeout: seconds a new connection has to send its request headers; idle_timeout: seconds
            an idle keep-alive connection is kept; max_header_bytes: the largest request head;
            max_inbound_connections: connections served at once (uvicorn answers 503 above it).
        metrics: serve ``GET /metrics`` (Prometheus text format; behind ``api_key`` when one is set).
        store_password: the Redis store's password (``serve`` reads it from
            ``CHAT_TO_RESPONSES_STORE_PASSWORD``, not the command line, which other users can read).
        upstreams: several upstreams chosen by model (``serve --config FILE``), instead of ``upstream`` and
            ``upstream_api_key``; the fields above are each one's defaults (see :class:`UpstreamSpec`).
    """

    upstream: str = ""
    upstream_api_key: str | None = field(default=None, repr=False)
    api_key: str | None = field(default=None, repr=False)
    store: StoreKind | str = "sqlite"
    store_path: Path | None = None
    store_ttl: float = 7 * 24 * 3600.0
    store_max_entries: int = 5000
    reasoning_effort: EffortPolicy = "pass"
    max_tokens_field: MaxTokensField = "max_tokens"
    reasoning_output: ReasoningMode = "summary"
    think_tags: bool = True
    reasoning_history: ReasoningContentMode = "tool_turns"
    require_finish_reason: bool = False
    default_model: str | None = None
    max_body_bytes: int = 32 * MIB
    record_dir: Path | None = None
    connect_timeout: float = 10.0
    read_timeout: float = 600.0
    max_connections: int = 1000
    store_max_bytes: int = 256 * MIB
    store_anonymous: bool = False
    finish_grace: float = 2.0
    stream_timeout: float = 3600.0
    max_upstream_bytes: int = 64 * MIB
    image_url_schemes: tuple[str, ...] = ("https", "http", "data")
    max_streams: int = 256
    max_streams_per_client: int = 64
    header_timeout: float = 10.0
    idle_timeout: float = 5.0
    max_header_bytes: int = 32 * 1024
    max_inbound_connections: int = 512
    metrics: bool = False
    upstreams: tuple[UpstreamSpec, ...] = ()
    store_password: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self._check_upstreams()
        if self.store not in STORE_KINDS and not self.store.startswith(REDIS_SCHEMES):
            raise ValueError(
                f"store must be sqlite, memory, none or a redis://HOST:PORT/DB URL, not {self.store!r}"
            )
        if self.api_key and not self.upstreams and not self.upstream_api_key:
            raise ValueError(
                "an inbound api_key needs an upstream_api_key: without one the client's token is passed "
                "through to the upstream, which checks it"
            )
        if self.store_ttl <= 0 or self.store_max_entries < 1:
            raise ValueError("store_ttl must be > 0 and store_max_entries >= 1")
        counts: tuple[str, ...] = ("max_body_bytes", "max_connections", "store_max_bytes")
        counts += ("max_upstream_bytes",)
        counts += ("max_streams", "max_streams_per_client", "max_header_bytes", "max_inbound_connections")
        for name in counts:
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1")
        for name in ("finish_grace", "stream_timeout", "header_timeout", "idle_timeout"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0")

    def __repr__(self) -> str:
        # The generated repr, but a store URL's credentials are hidden like the keys.
        shown = (
            f"{f.name}={redact_url(self.store) if f.name == 'store' else getattr(self, f.name)!r}"
            for f in fields(self)
            if f.repr
        )
        return f"ServerConfig({', '.join(shown)})"

    def _check_upstreams(self) -> None:
        if not self.upstreams:
            _check_upstream(self.upstream)
            return
        if self.upstream or self.upstream_api_key:
            raise ValueError("give either one upstream (--upstream) or several (a config file), not both")
        names = [spec.name for spec in self.upstreams]
        if len(set(names)) != len(names):
            raise ValueError(f"upstream names must be unique: {names}")
        keyless = [spec.name for spec in self.upstreams if not spec.api_key]
        if self.api_key and keyless:
            raise ValueError(
                f"an inbound api_key needs an upstream key for every upstream; none for {keyless}: without "
                "one the client's token is passed through to the upstream, which checks it"
            )

    def for_upstream(self, spec: UpstreamSpec) -> ServerConfig:
        """This config as a one-upstream config for ``spec``: its URL, key and options, the rest shared."""
        options = {name: getattr(spec, name) for name in _OVERRIDES if getattr(spec, name) is not None}
        return replace(self, upstream=spec.base_url, upstream_api_key=spec.api_key, upstreams=(), **options)

    @property
    def chat_completions_url(self) -> str:
        return f"{self.upstream.rstrip('/')}/chat/completions"

    @property
    def models_url(self) -> str:
        return f"{self.upstream.rstrip('/')}/models"
