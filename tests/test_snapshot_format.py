"""format_events and the responses_snapshot fixture: one readable, deterministic line per event."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion

from chat_to_responses.testing import format_events, responses_snapshot
from test_check_stream import as_models, failed_stream, incomplete_stream, valid_stream

# Exported so ruff sees the import is used: pytest finds the fixture by name, as in a user's conftest.
__all__ = ["responses_snapshot"]


@pytest.mark.parametrize("build", [valid_stream, incomplete_stream, failed_stream])
def test_stream_snapshot(
    build: Callable[[], list[dict[str, Any]]], responses_snapshot: SnapshotAssertion
) -> None:
    assert build() == responses_snapshot


def test_key_lines_read_as_documented() -> None:
    lines = format_events(valid_stream()).splitlines()
    assert lines[0] == "0 response.created resp_test_1 in_progress"
    assert lines[2] == "2 output_item.added #0 reasoning rs_1 summary=[] in_progress"
    assert lines[14] == "14 output_text.delta #1 msg_1 [0] 'Hello, '"
    assert lines[29] == (
        "29 output_item.done #2 function_call fc_1 call_id=call_abc name=get_weather"
        """ args='{"city":"Paris"}' completed"""
    )
    assert lines[-1] == (
        "34 response.completed resp_test_1 completed output=[rs_1, msg_1, fc_1, fc_2]"
        " usage=in:12 out:30 total:42 cached:2 reasoning:8"
    )


def test_cut_and_failed_streams_show_why() -> None:
    assert format_events(incomplete_stream()).splitlines()[-1] == (
        "8 response.incomplete resp_test_1 incomplete output=[msg_1(incomplete)] incomplete=max_output_tokens"
        " usage=in:12 out:30 total:42 cached:2 reasoning:8"
    )
    failed = format_events(failed_stream()).splitlines()
    assert failed[5] == "5 error code=server_error message='upstream disconnected'"
    assert failed[-1] == (
        "6 response.failed resp_test_1 failed output=[msg_1(incomplete)]"
        " error=server_error:'upstream disconnected' usage=null"
    )


def test_models_and_dicts_format_alike() -> None:
    events = valid_stream()
    assert format_events(as_models(events)) == format_events(events)


def test_volatile_values_do_not_show() -> None:
    events = valid_stream()
    later = copy.deepcopy(events)
    for event in later:
        if "response" in event:
            event["response"].update(created_at=1_800_000_000.0, completed_at=1_800_000_001.0)
        event["obfuscation"] = "x7Gq"
    assert format_events(later) == format_events(events)


def test_texts_stay_on_one_line() -> None:
    events = valid_stream()
    events[14]["delta"] = "line\nbreak\u2028separator\x00"
    text = format_events(events)
    assert text.count("\n") == len(events)
    assert "'line\\nbreak\\u2028separator\\x00'" in text.splitlines()[14]


def test_malformed_events_still_format() -> None:
    odd = {"type": "response.mystery", "sequence_number": 3, "created_at": 5, "detail": {"a": [1]}}
    assert format_events([42, {}, odd, {"type": "response.output_text.delta"}]) == (
        "? <not an event: int>\n"
        "? <no type> {}\n"
        '3 mystery {"detail":{"a":[1]}}\n'
        "? output_text.delta #? ? [?] null logprobs=null\n"
    )


def test_a_string_is_stored_as_already_formatted(responses_snapshot: SnapshotAssertion) -> None:
    assert format_events(failed_stream()) == responses_snapshot


def test_testing_imports_without_syrupy_or_pytest() -> None:
    script = (
        "import sys; sys.modules['syrupy'] = sys.modules['pytest'] = None\n"
        "import chat_to_responses.testing as testing\n"
        "assert [v.rule for v in testing.check_stream([])] == [2, 3]\n"
        "try:\n"
        "    testing.ResponsesStreamSnapshotExtension\n"
        "except ModuleNotFoundError as error:\n"
        "    assert 'syrupy' in str(error)\n"
        "else:\n"
        "    raise AssertionError('the extension needs syrupy')\n"
    )
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    completed = subprocess.run(
        [sys.executable, "-c", script], env=environment, capture_output=True, text=True
    )
    assert completed.returncode == 0, completed.stderr
