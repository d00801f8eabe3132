"""What a failed response announced done, kept out of the client's retry.

Codex records every item a response announces done, even when the response then fails, and sends those
items back on its retry (without ids: nothing marks them). The core announces only what the upstream
finished, so a failure inside the first item leaves nothing behind; but a message or reasoning finished
before a cut later in the same response would reach the upstream twice — once as the failed attempt's
leftover, once as the retry's own answer — and the upstream request would no longer extend the previous one.

So the bridge remembers, per client credential and for a few minutes, the finished messages and reasoning
of each failed response (how many times), and drops as many copies of them where a retry puts them: at the
start of a block of assistant items that the retry's answer completes, or at the end of the input (the
retry request itself). Not before a tool output or a user message: those are history the user saw. A
failed response that announced a function call done is not remembered at all: Codex runs that call and
records its output, so the call and what led to it really happened.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

from .._history import _kind, _obj  # how the history conversion reads an item: the same reading here

Json = dict[str, Any]
Fingerprint = tuple[str, ...]
Run = tuple[Fingerprint, ...]  # the finished items of one failed response, in order


def _texts(parts: Any, *keys: str) -> str:
    if isinstance(parts, str):
        return parts
    if not isinstance(parts, list):
        return ""
    found = (part.get(key) for part in parts if isinstance(part, dict) for key in keys)
    return "\x00".join(text for text in found if isinstance(text, str))


def fingerprint(raw: Any) -> Fingerprint | None:
    """What identifies a finished assistant message or reasoning item across a client's replay."""
    item = _obj(raw)
    if item is None:
        return None
    kind = _kind(item)
    if kind == "message" and item.get("role") == "assistant":
        return ("message", _texts(item.get("content"), "text", "refusal"))
    if kind == "reasoning":
        encrypted = item.get("encrypted_content")
        return (
            "reasoning",
            _texts(item.get("summary"), "text"),
            _texts(item.get("content"), "text"),
            encrypted if isinstance(encrypted, str) else "",
        )
    return None


class FailedAttempts:
    """Per-owner runs of items announced done by failed responses, each kept ``ttl`` seconds.

    A run is counted: a client that retried five times, failing each time after the same text, holds five
    copies of it in its history, and a later answer that starts with that same text is not one of them.
    """

    def __init__(
        self, *, ttl: float = 600.0, limit: int = 1024, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl, self._limit, self._clock = ttl, limit, clock
        self._runs: OrderedDict[tuple[str, Run], tuple[int, float]] = OrderedDict()  # → (copies, expiry)

    def remember(self, owner: str, response: Json) -> None:
        """Note what a failed ``response`` announced done (its items with status ``completed``)."""
        output = response.get("output")
        items = output if isinstance(output, list) else []
        done = [item for item in items if item.get("status") == "completed"]
        if not done or any(_kind(item) not in ("message", "reasoning") for item in done):
            return
        prints = [fingerprint(item) for item in done]
        run: Run = tuple(print_ for print_ in prints if print_ is not None)
        if len(run) != len(done):
            return
        copies, _ = self._runs.pop((owner, run), (0, 0.0))
        self._runs[(owner, run)] = (copies + 1, self._clock() + self._ttl)
        while len(self._runs) > self._limit:
            self._runs.popitem(last=False)

    def strip(self, owner: str, items: Sequence[Any]) -> list[Any]:
        """``items`` without the leftovers of this owner's failed attempts.

        Leftovers stand at the start of a block of assistant items (reasoning, messages, calls with
        nothing else between them): they are followed by the retry's answer in the same block, or end the
        input (the retry request itself). A block that ends before a user message keeps them.
        """
        copies = self._live(owner)
        if not copies:
            return list(items)
        prints = [fingerprint(item) for item in items]
        kept: list[Any] = []
        position = 0
        while position < len(items):
            if not _assistant_side(items[position]):
                kept.append(items[position])
                position += 1
                continue
            end = position
            while end < len(items) and _assistant_side(items[end]):
                end += 1
            start = _past_leftovers(prints[position:end], end == len(items), copies)
            kept.extend(items[position + start : end])
            position = end
        return kept

    def _live(self, owner: str) -> dict[Run, int]:
        now = self._clock()
        for key in [key for key, (_, expiry) in self._runs.items() if expiry <= now]:
            del self._runs[key]
        return {run: copies for (who, run), (copies, _) in self._runs.items() if who == owner}


def _assistant_side(raw: Any) -> bool:
    item = _obj(raw)
    if item is None:
        return False
    kind = _kind(item)
    return kind in ("reasoning", "function_call") or (kind == "message" and item.get("role") == "assistant")


def _past_leftovers(block: list[Fingerprint | None], at_end: bool, copies: dict[Run, int]) -> int:
    """How many items at the start of ``block`` are leftovers (``copies`` is spent as they are found)."""
    start = 0
    while True:
        for run, left in copies.items():
            end = start + len(run)
            if left and tuple(block[start:end]) == run and (end < len(block) or at_end):
                copies[run] = left - 1
                start = end
                break
        else:
            return start
