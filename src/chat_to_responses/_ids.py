"""Item and response ids.

Every id the project emits comes from an *id factory*: a callable taking a prefix (``"resp"``, ``"msg"``,
``"fc"``, ``"rs"``, ``"call"``) and returning a fresh id that starts with ``prefix + "_"``. The default
factory is random (unique across processes, like the real API's ids); :class:`SequentialIds` is
deterministic, for snapshots and tests. A factory instance belongs to whoever created it: no module-level
counters, so concurrent streams never share state.
"""

from __future__ import annotations

import os
from collections.abc import Callable

IdFactory = Callable[[str], str]
"""``factory(prefix) -> id``; the id must start with ``prefix + "_"`` and never repeat."""


def random_id(prefix: str) -> str:
    """A unique id such as ``msg_4f0c…`` (24 random bytes, hex, as long as the real API's ids)."""
    return f"{prefix}_{os.urandom(24).hex()}"


class SequentialIds:
    """Deterministic ids: ``resp_1``, ``msg_1``, ``fc_1``, ``msg_2`` … (one counter per prefix).

    Use one instance per stream (or per test) so snapshots do not depend on what ran before.
    """

    def __init__(self) -> None:
        self._counters: dict[str, int] = {}

    def __call__(self, prefix: str) -> str:
        n = self._counters.get(prefix, 0) + 1
        self._counters[prefix] = n
        return f"{prefix}_{n}"
