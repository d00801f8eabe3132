"""Where the Codex CLI end-to-end test gets Codex, and how a run says so before it downloads anything."""

from __future__ import annotations

import os
from pathlib import Path

CODEX_VERSION = "0.169.0"
DOWNLOAD_SIZE = "about 400 MB"
SKIP_ENV = "CHAT_TO_RESPONSES_SKIP_CODEX"


def cache_root() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "chat-to-responses-codex"


def skipped() -> bool:
    return os.environ.get(SKIP_ENV, "") not in ("", "0")


def header() -> str:
    """One line for the top of a test run: whether the Codex test will download Codex, and how not to."""
    prefix = cache_root() / CODEX_VERSION
    if skipped():
        return f"Codex CLI end-to-end test: skipped ({SKIP_ENV} is set)"
    if (prefix / "bin" / "codex").exists():
        return f"Codex CLI end-to-end test: Codex {CODEX_VERSION} from the cache {prefix}"
    return (
        f"Codex CLI end-to-end test: installs @openai/codex@{CODEX_VERSION} with npm ({DOWNLOAD_SIZE}, "
        f"once, cached in {prefix}); {SKIP_ENV}=1 skips it"
    )
