"""chat-to-responses: Chat Completions streams in, Responses API streams out.

The core is :class:`ChatCmplStreamHandler` (sans-IO: ``feed(chunk) -> events``, ``finish() -> events``);
:func:`translate` and :func:`atranslate` drive it over sync and async chunk iterables.
"""

from ._carriers import decode_carriers
from ._handler import ChatCmplStreamHandler, atranslate, to_event_model, translate
from ._ids import IdFactory, SequentialIds, random_id

__all__ = [
    "ChatCmplStreamHandler",
    "IdFactory",
    "SequentialIds",
    "atranslate",
    "decode_carriers",
    "random_id",
    "to_event_model",
    "translate",
]
