"""A model provider for the OpenAI Agents SDK (``pip install 'chat-to-responses[agents]'``).

Hand the Runner :class:`ChatCmplModel` instead of openai-agents' ``OpenAIChatCompletionsModel`` to run an
agent on any Chat Completions upstream (vLLM, Ollama, llama.cpp, DeepSeek, Gemini, Groq, Mistral,
OpenRouter…) with a faithful stream::

    from agents import Agent, Runner
    from openai import AsyncOpenAI
    from chat_to_responses.agents import ChatCmplModel

    client = AsyncOpenAI(base_url="http://127.0.0.1:8000/v1", api_key="sk-local")
    agent = Agent(name="assistant", model=ChatCmplModel("qwen3", openai_client=client), tools=[...])
    result = await Runner.run(agent, "hi")               # or Runner.run_streamed(agent, "hi")

or for every agent of a run: ``RunConfig(model_provider=ChatCmplProvider(openai_client=client))``.

What the Runner gets
--------------------
- ``stream_response``: the Responses events of the core handler (``ChatCmplStreamHandler.handle_stream``):
  unique ``rs_``/``msg_``/``fc_`` item ids (never ``__fake_id__``), one item per tool call with its own
  non-empty ``call_id`` (index-less and interleaved fragments are not merged), reasoning items in arrival
  order, provider signatures kept in the reasoning items' ``encrypted_content``, and exactly one terminal
  event carrying the usage.
- ``get_response`` (``Runner.run``): the non-streamed ``ChatCompletion`` goes through the same mapping
  (``completion_to_response``), so it gives the same output items a stream of it would.
- Usage: one request per call; input / output / total tokens, cached tokens and reasoning tokens. A stream
  without usage counts as one request with no tokens (never invented zeros in the response).

Requests
--------
``items_to_messages`` builds the messages: the agent's instructions and every system / developer item in
one leading ``system`` message; one assistant message per model response (the Runner records a
response's calls, then their outputs, so a call after a tool output starts a new assistant message:
sequential tool turns are not replayed as parallel calls); reasoning replayed the way each provider needs
it (DeepSeek ``reasoning_content`` on tool-call turns, Gemini thought signatures as ``extra_content`` on
their tool call, OpenRouter ``reasoning_details``, Anthropic ``thinking_blocks``) whatever the model is
named (nothing depends on the name containing "gemini" or "deepseek"). Function tools and handoffs become
``tools``, the output type a ``response_format`` ``json_schema``, and ``tool_choice`` is converted, all by
openai-agents' own ``Converter``. ``ModelSettings``: ``temperature``, ``top_p``, ``frequency_penalty``,
``presence_penalty``, ``max_tokens``, ``tool_choice``, ``parallel_tool_calls`` (only with tools),
``reasoning.effort`` → ``reasoning_effort`` (sent only when set: set it for upstreams that accept it),
``verbosity``, ``store``, ``metadata``, ``top_logprobs`` (+ ``logprobs``), ``prompt_cache_*``,
``extra_headers`` / ``extra_query`` / ``extra_body``, and ``extra_args`` as further keyword arguments
(a key already set is a ``TypeError``, as in openai-agents). Streamed requests ask for usage with
``stream_options.include_usage`` (option ``include_usage``; ``ModelSettings.include_usage`` wins).
``truncation``, ``response_include``, ``context_management`` and other Responses-only settings are ignored.
``previous_response_id``, ``conversation_id`` and ``prompt`` do not exist on Chat Completions: a warning is
logged once and they are ignored.

Truncation and errors
---------------------
- ``finish_reason`` ``length`` (or ``content_filter``) ends the stream with ``response.incomplete``
  (``incomplete_details.reason`` ``max_output_tokens`` / ``content_filter``, the partial output kept). The
  Runner raises ``ModelBehaviorError`` on it, as it does for OpenAI's Responses model; a direct consumer
  of ``stream_response`` gets the event, then :class:`ChatCmplResponseError` if it reads on.
  ``get_response`` raises :class:`ChatCmplResponseError` (a ``ModelBehaviorError``) the same way, as
  openai-agents' Responses model does; its ``response`` holds the partial ``Response``.
- An error in the stream (an ``error`` object, a dropped connection, vLLM ``abort``) ends it with
  ``response.failed`` carrying the upstream's message; the Runner raises ``ModelBehaviorError``. An HTTP
  error before the stream starts is the openai client's exception, unchanged (retried by the client, or
  by the Runner with ``ModelSettings.retry``).
- A stream that ends cleanly without a ``finish_reason`` (some vLLM deployments) is completed, except on
  the official OpenAI endpoint, which always sends one: there, as in openai-agents, it was cut and fails
  (option ``require_finish_reason``: ``True`` / ``False`` to decide it yourself).

Tracing: a generation span per call, as openai-agents' chat model records it (model, settings, base URL
without credentials, usage; input messages and output only when tracing includes data; errors).
"""

from __future__ import annotations

from ._dist import install_command

try:
    from ._agents_model import ChatCmplModel, ChatCmplProvider, ChatCmplResponseError
except ModuleNotFoundError as exc:  # pragma: no cover - only without openai-agents
    if (exc.name or "").partition(".")[0] != "agents":
        raise
    raise ModuleNotFoundError(
        f"chat_to_responses.agents needs openai-agents: {install_command('agents')}",
        name=exc.name,
    ) from exc

__all__ = ["ChatCmplModel", "ChatCmplProvider", "ChatCmplResponseError"]
