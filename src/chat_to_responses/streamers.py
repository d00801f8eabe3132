"""Seed-compatible module path (``chat_cmpl_stream_handler.streamers``, seed 0.6), a thin re-export shim.

``ChunkStreamer`` is the protocol the tool loop accepts as ``openai_client`` besides an ``AsyncOpenAI``
client; ``OpenAIStreamer`` wraps such a client; ``as_streamer`` returns one for a client. The seed's
LiteLLM and google-genai adapters are not provided (they would pull in those packages): wrap those
clients in a ``ChunkStreamer`` of your own.
"""

from ._loop import ChunkStreamer, OpenAIStreamer, as_streamer

__all__ = ["ChunkStreamer", "OpenAIStreamer", "as_streamer"]
