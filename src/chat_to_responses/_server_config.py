"""The Responses server's configuration: one frozen dataclass, fixed by the operator at start-up.

Nothing here can be chosen by a client: the upstream URL, the keys and the limits are the operator's. Keys
are kept out of ``repr`` so a logged or printed config never shows them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from ._history import ReasoningContentMode
from ._translator import ReasoningMode

StoreKind = Literal["sqlite", "memory", "none"]
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
            an SQLite file (default), process memory, or nowhere.
        store_path: the SQLite file (default :func:`default_store_path`).
        store_ttl: seconds a stored response lives; store_max_entries: how many are kept (least recently
            used ones go first).
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
    """

    upstream: str
    upstream_api_key: str | None = field(default=None, repr=False)
    api_key: str | None = field(default=None, repr=False)
    store: StoreKind = "sqlite"
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

    def __post_init__(self) -> None:
        _check_upstream(self.upstream)
        if self.api_key and not self.upstream_api_key:
            raise ValueError(
                "an inbound api_key needs an upstream_api_key: without one the client's token is passed "
                "through to the upstream, which checks it"
            )
        if self.store_ttl <= 0 or self.store_max_entries < 1:
            raise ValueError("store_ttl must be > 0 and store_max_entries >= 1")
        if self.max_body_bytes < 1 or self.max_connections < 1:
            raise ValueError("max_body_bytes and max_connections must be >= 1")

    @property
    def chat_completions_url(self) -> str:
        return f"{self.upstream.rstrip('/')}/chat/completions"

    @property
    def models_url(self) -> str:
        return f"{self.upstream.rstrip('/')}/models"
