"""Test helpers for Responses API event streams: a rule validator and a snapshot format.

- `check_stream(events, sse_frames=None)` lists every rule of docs/responses-stream-rules.md a stream
  breaks, as `Violation`s; `assert_stream_ok` raises `AssertionError` listing them.
- `format_events(events)` renders a stream one line per event, for snapshots and diffs.
- Record and replay over httpx transports, for the real `OpenAI` / `AsyncOpenAI` clients:
  `ReplayTransport` serves a script of recorded streams (`StreamTurn`, `ErrorTurn`, `CompletionTurn`) as
  the upstream's HTTP responses; `RecordingTransport` / `recording_client` save every streamed chat
  completion's raw chunks as a JSONL fixture. They need `httpx` (the `test` extra).
- `responses_snapshot` is a pytest fixture (syrupy's `snapshot` with `ResponsesStreamSnapshotExtension`):
  put `from chat_to_responses.testing import responses_snapshot` in a conftest, then
  `assert events == responses_snapshot`.

pytest, syrupy and httpx are optional: this module imports without them; only the fixture, the extension
and the transports need them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from ._check import Violation, assert_stream_ok, check_stream
from ._snapshot import format_events

if TYPE_CHECKING:
    from syrupy.assertion import SnapshotAssertion

    from ._fixtures import (
        CompletionTurn,
        ErrorTurn,
        RecordingTransport,
        ReplayStream,
        ReplayTransport,
        StreamTurn,
        recording_client,
    )
    from ._snapshot import ResponsesStreamSnapshotExtension

__all__ = [
    "CompletionTurn",
    "ErrorTurn",
    "RecordingTransport",
    "ReplayStream",
    "ReplayTransport",
    "ResponsesStreamSnapshotExtension",
    "StreamTurn",
    "Violation",
    "assert_stream_ok",
    "check_stream",
    "format_events",
    "recording_client",
    "responses_snapshot",
]

# Imported on first use: they need httpx, which the core does not depend on.
_TRANSPORTS = frozenset(
    {
        "CompletionTurn",
        "ErrorTurn",
        "RecordingTransport",
        "ReplayStream",
        "ReplayTransport",
        "StreamTurn",
        "recording_client",
    }
)

_Fixture = TypeVar("_Fixture", bound=Callable[..., Any])


def __getattr__(name: str) -> object:
    """Import the syrupy extension and the transports on first use, so this module works without them."""
    if name in _TRANSPORTS:
        from . import _fixtures

        return getattr(_fixtures, name)
    if name != "ResponsesStreamSnapshotExtension":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from . import _snapshot

    extension = getattr(_snapshot, name, None)
    if extension is None:
        raise ModuleNotFoundError("ResponsesStreamSnapshotExtension needs syrupy: pip install syrupy")
    return extension


def _as_pytest_fixture(function: _Fixture) -> _Fixture:
    """`function` registered as a pytest fixture, or unchanged when pytest is not installed."""
    try:
        import pytest
    except ModuleNotFoundError:  # pragma: no cover - without pytest nothing can request the fixture
        return function
    fixture: _Fixture = pytest.fixture(function)  # type: ignore[assignment]  # same call shape for pytest
    return fixture


@_as_pytest_fixture
def responses_snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """syrupy's `snapshot`, storing event sequences as `format_events` text files."""
    from ._snapshot import ResponsesStreamSnapshotExtension

    return snapshot.use_extension(ResponsesStreamSnapshotExtension)
