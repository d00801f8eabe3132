"""The installed distribution: its version, and the command that adds an extra to it.

Both come from the package metadata, so pyproject.toml stays the one source. The install command names
the checkout when the package was installed from one (pip records it in ``direct_url.json``): the
package index only works once the package is published there.
"""

from __future__ import annotations

import json
import shlex
import sys
from importlib.metadata import PackageNotFoundError, distribution
from urllib.parse import unquote, urlparse

DIST_NAME = "chat-to-responses"

try:
    __version__ = distribution(DIST_NAME).version
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"


def install_command(extra: str) -> str:
    """A command that installs ``extra`` into the running interpreter's environment."""
    pip = f"{shlex.quote(sys.executable)} -m pip install"
    source = _local_source()
    if source is None:
        return f"{pip} {shlex.quote(f'{DIST_NAME}[{extra}]')}"
    path, editable = source
    return f"{pip} {'-e ' if editable else ''}{shlex.quote(f'{path}[{extra}]')}"


def _local_source() -> tuple[str, bool] | None:
    """The directory the package was installed from and whether editably, if pip recorded one."""
    try:
        recorded = distribution(DIST_NAME).read_text("direct_url.json")
    except PackageNotFoundError:
        return None
    try:
        info = json.loads(recorded or "null")
    except ValueError:
        return None
    if not isinstance(info, dict) or not str(info.get("url", "")).startswith("file://"):
        return None
    editable = bool((info.get("dir_info") or {}).get("editable"))
    return unquote(urlparse(info["url"]).path), editable
