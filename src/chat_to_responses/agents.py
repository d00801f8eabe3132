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

A drop-in for ``OpenAIChatCompletionsModel``
--------------------------------------------
``ChatCmplModel`` subclasses openai-agents' ``OpenAIChatCompletionsModel``: the Runner's ``isinstance``
checks, its constructor options (``should_replay_reasoning_content``, ``strict_feature_validation``,
``buffer_streamed_tool_calls``) with agents' meaning, and its hooks (tests patch ``_fetch_response``;
``_get_client`` stops the client retrying when the Runner retries) all hold. Chosen over a separate class
because users' code and tests reach into exactly those; the price is a dependency on agents' private
hooks, so ``openai-agents`` is pinned to the versions tested. Every ending gives the Runner the outcome
``OpenAIChatCompletionsModel`` gives (below), for streams and JSON completions alike.

What the Runner gets
--------------------
- ``stream_response``: the Responses events of the core handler (``ChatCmplStreamHandler.handle_stream``
  under agents' contract): unique ``rs_``/``msg_``/``fc_`` item ids (never ``__fake_id__``), one item per
  tool call with its own non-empty ``call_id`` (index-less and interleaved fragments are not merged),
  reasoning items in arrival order, provider signatures kept in the reasoning items' ``encrypted_content``
  and, where agents' converter reads them, in the items' ``provider_data`` (Gemini ``thought_signature``
  on its call, Anthropic signed ``thinking_blocks``), and exactly one terminal event carrying the usage.
- ``get_response`` (``Runner.run``): the non-streamed ``ChatCompletion`` goes through the same mapping,
  so it gives the same output items a stream of it would (``response_id`` ``None``, as agents gives).
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
``previous_response_id``, ``conversation_id`` and ``prompt`` do not exist on Chat Completions (see
Endings). agents' ``should_replay_reasoning_content`` hook, when given, decides per reasoning item whether
its text goes back as ``reasoning_content``; raw chat ``image_url`` parts in an input go through as they are.

Endings (as ``OpenAIChatCompletionsModel``)
-------------------------------------------
- ``finish_reason`` ``length``: the Runner returns the truncated answer, as agents does; a truncated turn
  with nothing visible (no text, refusal or tool call) raises ``ModelBehaviorError``.
- ``content_filter``: the partial text is the answer; with nothing visible the message is agents' refusal
  ("Response withheld by the provider's content filter.", the Runner's ``ModelRefusalError``).
- A stream that ends without a ``finish_reason`` completes (vLLM and some gateways end that way), except on
  the official OpenAI endpoint, which always sends one: there, as in openai-agents, it was cut and raises
  ``ModelBehaviorError`` (option ``require_finish_reason``: ``True`` / ``False`` to decide it yourself).
- Audio output raises ``AgentsException`` (agents has no item for it); custom tool calls are ignored, or
  ``UserError`` with ``strict_feature_validation``.
- An error in the stream (an ``error`` object, a dropped connection, vLLM ``abort``) ends it with
  ``response.failed`` carrying the upstream's message and every item received; the Runner raises
  ``ModelBehaviorError`` (a direct consumer of ``stream_response`` gets the event, then
  :class:`ChatCmplResponseError`, whose ``response`` holds the partial ``Response``). An error body instead
  of a JSON completion raises :class:`ChatCmplResponseError` the same way. An HTTP error before the stream
  starts is the openai client's exception, unchanged (retried by the client, or by the Runner with
  ``ModelSettings.retry``).
- Input agents rejects is rejected before any request: a ``function_call_output`` without ``call_id``
  (``UserError``), and under ``strict_feature_validation`` non-text tool output, ``prompt``,
  ``previous_response_id`` / ``conversation_id``. Without strict validation those are warned about once:
  non-text tool output goes as a placeholder naming the part (``[image]``), server state is ignored.

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
