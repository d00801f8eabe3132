"""chat-to-responses: Chat Completions streams in, Responses API streams out.

The core is :class:`ChatCmplStreamHandler` (sans-IO: ``feed(chunk) -> events``, ``finish() -> events``);
:func:`translate` and :func:`atranslate` drive it over sync and async chunk iterables;
:func:`translate_sse` / :func:`atranslate_sse` are the wire path (SSE bytes in, SSE frames out, no
pydantic models), what an HTTP bridge runs. SSE framing both
ways: :func:`encode_sse` for Responses events, :class:`ChatSSEDecoder` / :func:`read_chunk_file` for Chat
Completions streams. Test helpers (stream validator, snapshots, record/replay) are in
``chat_to_responses.testing``.
"""

from ._carriers import decode_carriers
from ._handler import ChatCmplStreamHandler, atranslate, to_event_model, translate
from ._ids import IdFactory, SequentialIds, random_id
from ._sse import (
    ChatSSEDecoder,
    encode_sse,
    encode_sse_done,
    iter_jsonl_chunks,
    read_chunk_body,
    read_chunk_file,
)
from ._wire import atranslate_sse, translate_sse

__all__ = [
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
