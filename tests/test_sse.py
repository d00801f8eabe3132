"""SSE framing out (`encode_sse`) and in (`ChatSSEDecoder`, JSONL and chunk files)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from openai.types.responses import ResponseTextDeltaEvent

from chat_to_responses._sse import (
    ChatSSEDecoder,
    encode_chat_sse,
    encode_sse,
    encode_sse_done,
    iter_jsonl_chunks,
    read_chunk_body,
    read_chunk_file,
)

CORPUS = Path(__file__).parent.parent / "fixtures" / "chat-streams"
CORPUS_FILES = sorted(CORPUS.glob("**/*.jsonl"))

CHUNK_1 = {"id": "c1", "choices": [{"index": 0, "delta": {"content": "héllo 🌍\u2028"}}]}
CHUNK_2 = {"id": "c1", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
GROQ_ERROR = {"error": {"message": "Tool call validation failed", "type": "invalid_request_error"}}


def decode_all(body: bytes | str, pieces: list[int] | None = None) -> tuple[list[dict[str, Any]], bool]:
    """Chunks of a whole body fed in pieces cut at the given offsets, and the decoder's `done`."""
    decoder = ChatSSEDecoder()
    chunks: list[dict[str, Any]] = []
    start = 0
    for cut in [*(pieces or []), len(body)]:
        chunks += decoder.decode(body[start:cut])
        start = cut
    chunks += decoder.flush()
    return chunks, decoder.done


def sse_body(newline: str = "\n") -> bytes:
    """A realistic body: OpenRouter comment, two chunks, a Groq error event, [DONE]."""
    lines = [
        ": OPENROUTER PROCESSING",
        "",
        "id: 1",
        "retry: 3000",
        f"data: {json.dumps(CHUNK_1, ensure_ascii=False)}",
        "",
        "event: message",
        f"data: {json.dumps(CHUNK_2)}",
        "",
        "event: error",
        f"data: {json.dumps(GROQ_ERROR)}",
        "",
        "data: [DONE]",
        "",
    ]
    return newline.join(lines).encode()


def is_invalid_chunk(chunk: dict[str, Any]) -> bool:
    error = chunk.get("error")
    return isinstance(error, dict) and error.get("type") == "invalid_chunk"


# --------------------------------------------------------------------------------------------- decoder


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
def test_every_line_ending_style(newline: str) -> None:
    assert decode_all(sse_body(newline)) == ([CHUNK_1, CHUNK_2, GROQ_ERROR], True)


def test_mixed_line_endings() -> None:
    body = f"data: {json.dumps(CHUNK_1)}\r\n\ndata: {json.dumps(CHUNK_2)}\r\r".encode()
    assert decode_all(body) == ([CHUNK_1, CHUNK_2], False)


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
def test_split_at_every_byte_offset(newline: str) -> None:
    body = sse_body(newline)
    expected = decode_all(body)
    for offset in range(len(body) + 1):
        assert decode_all(body, [offset]) == expected, offset


@given(
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=30),
)
@example(newline="\r\n", cuts=[1, 1, 2])
def test_any_split_gives_the_same_chunks(newline: str, cuts: list[int]) -> None:
    body = sse_body(newline)
    offsets = sorted(min(cut, len(body)) for cut in cuts)
    assert decode_all(body, offsets) == ([CHUNK_1, CHUNK_2, GROQ_ERROR], True)


def test_str_input_and_leading_bom() -> None:
    body = "\ufeff" + sse_body().decode()
    assert decode_all(body.encode())[0] == [CHUNK_1, CHUNK_2, GROQ_ERROR]
    assert decode_all(sse_body().decode())[0] == [CHUNK_1, CHUNK_2, GROQ_ERROR]


def test_comments_and_unknown_fields_are_ignored() -> None:
    body = b": OPENROUTER PROCESSING\n\n:\n\nfoo: bar\nid: 7\nretry: 10\ndata: {}\n\n: bye\n\n"
    assert decode_all(body) == ([{}], False)


def test_multi_line_data_is_joined_with_newline() -> None:
    body = b'data: {"id":\ndata: "x",\ndata:"n": 1}\n\n'
    assert decode_all(body)[0] == [{"id": "x", "n": 1}]


def test_multi_line_data_newline_is_kept_in_the_error_snippet() -> None:
    chunks, _ = decode_all(b"data: {not\ndata: json}\n\n")
    assert chunks[0]["error"]["message"].endswith("got {not\njson}")


def test_event_error_frames() -> None:
    body = (
        b'event: error\ndata: {"error":{"message":"boom","code":"tool_use_failed"}}\n\n'
        b'event: error\ndata: {"message":"bare","type":"server_error"}\n\n'
        b"event: error\ndata: Internal Server Error\n\n"
    )
    assert decode_all(body)[0] == [
        {"error": {"message": "boom", "code": "tool_use_failed"}},
        {"error": {"message": "bare", "type": "server_error"}},
        {"error": {"type": "upstream_error", "code": "upstream_error", "message": "Internal Server Error"}},
    ]


def test_missing_done_is_fine_and_last_frame_without_blank_line_comes_on_flush() -> None:
    decoder = ChatSSEDecoder()
    assert decoder.decode(f"data: {json.dumps(CHUNK_1)}\n\ndata: {json.dumps(CHUNK_2)}".encode()) == [CHUNK_1]
    assert decoder.flush() == [CHUNK_2]
    assert not decoder.done


def test_frame_ended_by_a_single_newline_comes_on_flush() -> None:
    assert decode_all(f"data: {json.dumps(CHUNK_2)}\n".encode()) == ([CHUNK_2], False)


def test_done_ends_the_stream() -> None:
    decoder = ChatSSEDecoder()
    body = b"data: {}\n\ndata: [DONE]\n\ndata: {}\n\n"
    assert decoder.decode(body) == [{}]
    assert decoder.done
    assert decoder.decode(b"data: {}\n\n") == []
    assert decoder.flush() == []


def test_done_without_trailing_blank_line() -> None:
    assert decode_all(b"data: {}\n\ndata: [DONE]") == ([{}], True)


def test_empty_data_keep_alive_is_skipped() -> None:
    assert decode_all(b"data:\n\ndata: \n\ndata: {}\n\n") == ([{}], False)


def test_malformed_json_becomes_an_error_chunk_naming_its_line() -> None:
    body = b': comment\n\ndata: {}\n\ndata: {broken\n\ndata: {"after": 1}\n\n'
    chunks, _ = decode_all(body)
    assert chunks[0] == {}
    assert chunks[2] == {"after": 1}
    error = chunks[1]["error"]
    assert error["type"] == error["code"] == "invalid_chunk"
    assert error["message"].startswith("line 5: invalid JSON (")
    assert error["message"].endswith(", got {broken")


def test_error_line_is_where_the_data_started_with_crlf_and_splits() -> None:
    body = b"data: {}\r\n\r\nevent: x\r\ndata: [1,\r\ndata: 2]\r\n\r\n"
    for offset in range(len(body) + 1):
        chunks, _ = decode_all(body, [offset])
        assert chunks[1]["error"]["message"] == "line 4: expected a JSON object, not an array, got [1,\n2]"


@pytest.mark.parametrize(
    ("data", "kind"),
    [("[1]", "an array"), ("3", "a number"), ('"s"', "a string"), ("null", "null"), ("true", "a boolean")],
)
def test_non_object_json_is_an_invalid_chunk(data: str, kind: str) -> None:
    chunks, _ = decode_all(f"data: {data}\n\n".encode())
    assert chunks == [
        {
            "error": {
                "type": "invalid_chunk",
                "code": "invalid_chunk",
                "message": f"line 1: expected a JSON object, not {kind}, got {data}",
            }
        }
    ]


def test_snippet_is_cut_at_200_chars() -> None:
    chunks, _ = decode_all(b"data: {" + b"x" * 500 + b"\n\n")
    assert chunks[0]["error"]["message"].endswith("got {" + "x" * 199)


def test_deeply_nested_json_does_not_raise() -> None:
    chunks, _ = decode_all(b"data: " + b"[" * 100_000 + b"\n\n")
    assert is_invalid_chunk(chunks[0])


def test_invalid_utf8_is_replaced_not_raised() -> None:
    assert decode_all(b'data: {"a":"\xff"}\n\n')[0] == [{"a": "\ufffd"}]


def test_a_long_line_byte_by_byte_is_linear() -> None:
    # Quadratic re-joining would copy ~20 GB here; linear decoding takes well under a second.
    content = "é" * 100_000
    body = f'data: {{"c":"{content}"}}\n\n'.encode()
    decoder = ChatSSEDecoder()
    started = time.perf_counter()
    chunks = [chunk for i in range(len(body)) for chunk in decoder.decode(body[i : i + 1])]
    assert time.perf_counter() - started < 10
    assert chunks == [{"c": content}]


# --------------------------------------------------------------------------------------------- encoder


def test_encode_sse_dict() -> None:
    event = {"type": "response.output_text.delta", "delta": "é 🌍", "sequence_number": 3}
    expected = 'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":"é 🌍",'
    assert encode_sse(event) == (expected + '"sequence_number":3}\n\n').encode()


def test_encode_sse_model_keeps_exactly_the_keys_set() -> None:
    wire = {
        "type": "response.output_text.delta",
        "item_id": "msg_1",
        "output_index": 0,
        "content_index": 0,
        "delta": "Hi",
        "logprobs": [],
        "sequence_number": 4,
    }
    frame = encode_sse(ResponseTextDeltaEvent.model_validate(wire))
    event_line, data_line, *rest = frame.decode().split("\n")
    assert event_line == "event: response.output_text.delta"
    assert json.loads(data_line.removeprefix("data: ")) == wire  # key order is the model's field order
    assert rest == ["", ""]


def test_encode_sse_lone_surrogate_stays_valid_json() -> None:
    frame = encode_sse({"type": "response.output_text.delta", "delta": "\ud83d"})
    assert frame.decode("utf-8").endswith('"delta":"\\ud83d"}\n\n')


def test_encode_sse_any_mapping() -> None:
    event = {"type": "response.created", "sequence_number": 0}
    assert encode_sse(MappingProxyType(event)) == encode_sse(event)


def test_encode_sse_done() -> None:
    assert encode_sse_done() == b"data: [DONE]\n\n"


def test_encode_chat_sse_sends_bare_errors_as_error_events() -> None:
    frame = encode_chat_sse({"error": {"message": "x"}})
    assert frame == b'event: error\ndata: {"error":{"message":"x"}}\n\n'
    with_usage = {"error": {"message": "x"}, "usage": {}}  # OpenRouter: a chunk carrying an error
    assert encode_chat_sse(with_usage).startswith(b"data: ")


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: str(p.relative_to(CORPUS)))
def test_corpus_round_trips_through_chat_sse(path: Path) -> None:
    chunks = read_chunk_file(path)
    body = b"".join(map(encode_chat_sse, chunks)) + encode_sse_done()
    assert decode_all(body) == (chunks, True)


# ------------------------------------------------------------------------------------------ JSONL, files


def test_corpus_is_not_empty() -> None:
    assert len(CORPUS_FILES) > 50


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: str(p.relative_to(CORPUS)))
def test_every_corpus_file_loads(path: Path) -> None:
    chunks = read_chunk_file(path)
    lines = path.read_bytes().splitlines()
    assert len(chunks) == len(lines)
    assert not any(is_invalid_chunk(chunk) for chunk in chunks)
    assert chunks == [json.loads(line) for line in lines]


def test_broken_line_in_the_middle_names_its_line(tmp_path: Path) -> None:
    lines = read_chunk_file(CORPUS / "openai" / "single_tool_call_strict.jsonl")
    text = [json.dumps(chunk) for chunk in lines]
    text[6] = text[6][:40]  # truncated mid-object
    path = tmp_path / "broken.jsonl"
    path.write_text("\n".join(text) + "\n")
    chunks = read_chunk_file(path)
    assert len(chunks) == len(lines)
    assert chunks[:6] == lines[:6]
    assert chunks[7:] == lines[7:]
    assert chunks[6]["error"]["message"].startswith("line 7: invalid JSON (")


def test_jsonl_tolerates_data_prefixes_blank_lines_and_done() -> None:
    lines: list[str | bytes] = [
        "{}",
        "",
        'data: {"a":1}',
        "  ",
        b'data:{"b":2}\r\n',
        "data: [DONE]",
        '{"never":1}',
    ]
    assert list(iter_jsonl_chunks(lines)) == [{}, {"a": 1}, {"b": 2}]


def test_jsonl_error_counts_blank_lines() -> None:
    chunks = list(iter_jsonl_chunks(["{}", "", "nope"]))
    assert chunks[1]["error"]["message"] == "line 3: invalid JSON (Expecting value at char 0), got nope"


def test_read_chunk_file_raw_sse_body(tmp_path: Path) -> None:
    path = tmp_path / "body.sse"
    path.write_bytes(sse_body("\r\n"))
    assert read_chunk_file(path) == [CHUNK_1, CHUNK_2, GROQ_ERROR]


def test_read_chunk_file_data_lines_without_separators_are_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "pasted.txt"
    path.write_text('data: {"a":1}\ndata: {"b":2}\ndata: [DONE]\n')
    assert read_chunk_file(path) == [{"a": 1}, {"b": 2}]


def test_read_chunk_file_strips_a_bom(tmp_path: Path) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"a":1}\n')
    assert read_chunk_file(path) == [{"a": 1}]


def test_read_chunk_body_detects_sse_and_jsonl() -> None:
    assert read_chunk_body(sse_body("\r\n")) == [CHUNK_1, CHUNK_2, GROQ_ERROR]
    assert read_chunk_body(b'{"a":1}\r\n\r\n{"b":2}') == [{"a": 1}, {"b": 2}]
