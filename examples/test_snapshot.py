"""Pin the Responses events of a recorded stream in a snapshot (the README's snapshot snippet).

    pytest examples/test_snapshot.py                     # compares with examples/__snapshots__/
    pytest examples/test_snapshot.py --snapshot-update   # after a deliberate change: review the diff

The snapshot is one readable line per event (``chat_to_responses.testing.format_events``), so a change in
the translation shows up as a small text diff in review.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chat_to_responses import SequentialIds, read_chunk_file, translate
from chat_to_responses.testing import check_stream

RECORDING = Path(__file__).resolve().parent.parent / "fixtures/chat-streams/deepseek/reasoner_tool_call.jsonl"


def test_deepseek_tool_call(responses_snapshot: Any) -> None:
    events = list(translate(read_chunk_file(RECORDING), ids=SequentialIds()))
    assert check_stream(events) == []  # the stream rules hold
    assert events == responses_snapshot  # and the events are the ones reviewed before
