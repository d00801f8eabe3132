"""``serve --config FILE``: several upstreams, chosen by model, from a TOML file.

::

    [upstreams.vllm]                      # the name: in logs, metrics and /health?upstream=1
    base_url = "http://127.0.0.1:8000/v1"
    models = ["Qwen/*", "llama-3.1-8b"]   # exact names or globs; exact names win, then the first glob
    read_timeout = 900                    # per upstream: max_tokens_field, reasoning_effort,
                                          # reasoning_output, reasoning_history, think_tags,
                                          # require_finish_reason, connect_timeout, read_timeout
    [upstreams.openai]
    base_url = "https://api.openai.com/v1"
    models = ["gpt-*"]
    api_key_env = "OPENAI_API_KEY"        # the upstream key's environment variable (never the key itself)
    max_tokens_field = "max_completion_tokens"

An option left out is the server's (its ``serve`` flag or default). Every mistake is a ``ValueError``
naming the file, the upstream and the key: an unknown key, a wrong type, an unset key variable.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ._config import UpstreamSpec

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

_CHOICES: dict[str, tuple[str, ...]] = {
    "max_tokens_field": ("max_tokens", "max_completion_tokens"),
    "reasoning_effort": ("pass", "drop"),
    "reasoning_output": ("summary", "text"),
    "reasoning_history": ("tool_turns", "always", "never"),
}
_FLAGS = ("think_tags", "require_finish_reason")
_SECONDS = ("connect_timeout", "read_timeout")
_KNOWN = ("base_url", "models", "api_key_env", *_CHOICES, *_FLAGS, *_SECONDS)


def load_upstreams(path: Path, environ: Mapping[str, str] = os.environ) -> tuple[UpstreamSpec, ...]:
    """The upstreams of a config file, in the file's order."""
    try:
        with open(path, "rb") as file:
            data = tomllib.load(file)
    except OSError as exc:
        raise ValueError(f"cannot read the config file {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"the config file {path} is not valid TOML: {exc}") from None
    unknown = sorted(set(data) - {"upstreams"})
    if unknown:
        raise ValueError(f"{path}: unknown top-level keys {unknown} (expected [upstreams.NAME] tables)")
    tables = data.get("upstreams")
    if not isinstance(tables, dict) or not tables:
        raise ValueError(f"{path}: no upstreams; add at least one [upstreams.NAME] table")
    specs = []
    for name, table in tables.items():
        where = f"{path}: [upstreams.{name}]"
        if not isinstance(table, dict):
            raise ValueError(f"{where} must be a table")
        try:
            specs.append(_spec(name, table, environ))
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
    return tuple(specs)


def _spec(name: str, table: dict[str, Any], environ: Mapping[str, str]) -> UpstreamSpec:
    unknown = sorted(set(table) - set(_KNOWN))
    if unknown:
        raise ValueError(f"unknown keys {unknown} (known: {', '.join(_KNOWN)})")
    base_url, models = table.get("base_url"), table.get("models")
    if not isinstance(base_url, str):
        raise ValueError("base_url must be a string, e.g. 'http://127.0.0.1:8000/v1'")
    if isinstance(models, str):
        models = [models]
    if not isinstance(models, list) or not models or not all(isinstance(m, str) and m for m in models):
        raise ValueError("models must be a non-empty list of model names or globs, e.g. ['Qwen/*']")
    return UpstreamSpec(name, base_url, tuple(models), api_key=_key(table, environ), **_options(table))


def _options(table: dict[str, Any]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for key, choices in _CHOICES.items():
        if key in table:
            if table[key] not in choices:
                raise ValueError(f"{key} must be one of {', '.join(choices)}, not {table[key]!r}")
            options[key] = table[key]
    for key in _FLAGS:
        if key in table:
            if not isinstance(table[key], bool):
                raise ValueError(f"{key} must be true or false")
            options[key] = table[key]
    for key in _SECONDS:
        if key in table:
            seconds = table[key]
            if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not seconds > 0:
                raise ValueError(f"{key} must be a number of seconds > 0")
            options[key] = float(seconds)
    return options


def _key(table: dict[str, Any], environ: Mapping[str, str]) -> str | None:
    variable = table.get("api_key_env")
    if variable is None:
        return None  # each client's bearer token is passed through, as without a config file
    if not isinstance(variable, str) or not variable:
        raise ValueError("api_key_env must be the name of an environment variable")
    key = environ.get(variable)
    if not key:
        raise ValueError(f"api_key_env names {variable}, which is not set")
    return key
