"""The public surface is explicit: a change to it is a deliberate change to this test."""

from __future__ import annotations

import chat_to_responses
import chat_to_responses.testing


def test_top_level_all() -> None:
    assert sorted(chat_to_responses.__all__) == [
        "ChatCmplStreamHandler",
        "ChatSSEDecoder",
        "IdFactory",
        "SequentialIds",
        "atranslate",
        "atranslate_sse",
        "decode_carriers",
        "encode_sse",
        "encode_sse_done",
        "iter_jsonl_chunks",
        "random_id",
        "read_chunk_body",
        "read_chunk_file",
        "to_event_model",
        "translate",
        "translate_sse",
    ]
    for name in chat_to_responses.__all__:
        assert getattr(chat_to_responses, name) is not None


def test_testing_all_resolves() -> None:
    assert sorted(chat_to_responses.testing.__all__) == [
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
    for name in chat_to_responses.testing.__all__:
        assert getattr(chat_to_responses.testing, name) is not None


def test_default_ids_are_unique_and_prefixed() -> None:
    ids = {chat_to_responses.random_id("msg") for _ in range(1000)}
    assert len(ids) == 1000
    assert all(i.startswith("msg_") for i in ids)
    seq = chat_to_responses.SequentialIds()
    assert [seq("fc"), seq("fc"), seq("msg")] == ["fc_1", "fc_2", "msg_1"]
