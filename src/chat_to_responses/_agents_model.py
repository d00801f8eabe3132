"""openai-agents ``Model`` / ``ModelProvider`` over the core translator (public face: ``.agents``).

Requests are built with the shared history conversion (``_history.items_to_messages``) and openai-agents'
own converters for tools, handoffs, the output schema and tool_choice; answers go through the core mapping
(``ChatCmplStreamHandler.handle_stream`` for streams, ``completion_to_response`` for JSON completions), so
a stream and a completion of the same answer give the same output items.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import TYPE_CHECKING, Any, Final, cast
from urllib.parse import urlsplit, urlunsplit

from agents import (
    AgentOutputSchemaBase,
    Handoff,
    Model,
    ModelBehaviorError,
    ModelProvider,
    ModelResponse,
    ModelSettings,
    ModelTracing,
    OpenAIChatCompletionsModel,
    TResponseInputItem,
    Usage,
    UserError,
    generation_span,
)
from agents.items import TResponseStreamEvent
from agents.models._trace import model_config_for_trace, populate_generation_span
from agents.models.chatcmpl_converter import Converter
from agents.models.chatcmpl_helpers import ChatCmplHelpers
from agents.models.default_models import get_default_model
from agents.models.reasoning_content_replay import (
    ReasoningContentReplayContext,
    ReasoningContentSource,
    ShouldReplayReasoningContent,
)
from agents.tool import Tool
from agents.util._error_tracing import model_span_errors
from openai import AsyncOpenAI, omit
from openai.types.responses import Response, ResponseUsage
from openai.types.responses.response_prompt_param import ResponsePromptParam

from ._agents_stream import complete_as_agents, handle_as_agents, response_usage
from ._handler import ChatCmplStreamHandler, placeholder_template
from ._history import NON_TEXT_TOOL_OUTPUT, ReasoningContentMode, UnpairedOutputError, items_to_messages
from ._ids import IdFactory
from ._translator import ReasoningMode

if TYPE_CHECKING:
    from agents.retry import ModelRetryAdvice, ModelRetryAdviceRequest
    from agents.tracing import Span
    from agents.tracing.span_data import GenerationSpanData

logger = logging.getLogger("chat_to_responses.agents")

# Retry advice for openai errors (retry-after headers, replay safety), as OpenAIChatCompletionsModel gives:
# a private helper of openai-agents, used only when present.
_RetryAdvice = Callable[["ModelRetryAdviceRequest"], "ModelRetryAdvice | None"]
_retry_advice: _RetryAdvice | None
try:
    from agents.models._openai_retry import get_openai_retry_advice as _retry_advice
except ImportError:  # pragma: no cover - depends on the openai-agents version
    _retry_advice = None

_TERMINAL: Final = frozenset({"response.completed", "response.incomplete", "response.failed"})
_CREATE_KEYWORDS: Final = (
    "tools",
    "temperature",
    "top_p",
    "frequency_penalty",
    "presence_penalty",
    "max_tokens",
    "tool_choice",
    "response_format",
    "parallel_tool_calls",
    "stream",
    "stream_options",
    "store",
    "reasoning_effort",
    "verbosity",
    "top_logprobs",
    "prompt_cache_retention",
    "prompt_cache_options",
    "metadata",
)
_OPTIONS: Final = frozenset(
    {
        "ids",
        "reasoning",
        "think_tags",
        "reasoning_content",
        "include_usage",
        "should_replay_reasoning_content",
        "strict_feature_validation",
        "buffer_streamed_tool_calls",
        "require_finish_reason",
    }
)


class ChatCmplResponseError(ModelBehaviorError):
    """The upstream answer did not complete: truncated (``length``), filtered, or broken mid-stream.

    ``response`` is the Responses ``Response`` as far as it went (status ``incomplete`` or ``failed``, with
    ``incomplete_details`` / ``error``, and every output item received). Raised by ``get_response``, and by
    ``stream_response`` after it yielded the ``response.incomplete`` / ``response.failed`` event.
    """

    def __init__(self, response: Response) -> None:
        details = [f"status={response.status}"]
        if response.incomplete_details is not None:
            details.append(f"incomplete_details={response.incomplete_details}")
        if response.error is not None:
            details.append(f"error={response.error}")
        super().__init__(
            f"Chat Completions response ended `response.{response.status}`: {'; '.join(details)}."
        )
        self.response = response


def usage_from_response(usage: ResponseUsage | None) -> Usage:
    """agents' ``Usage`` for one request (tokens, cached and reasoning tokens); ``requests=1`` even without
    usage: the request happened."""
    if usage is None:
        return Usage(requests=1)
    return Usage(
        requests=1,
        input_tokens=usage.input_tokens or 0,
        output_tokens=usage.output_tokens or 0,
        total_tokens=usage.total_tokens or 0,
        input_tokens_details=usage.input_tokens_details,
        output_tokens_details=usage.output_tokens_details,
    )


def _sanitized_url(url: object) -> str:
    try:
        parts = urlsplit(str(url))
    except ValueError:
        return ""
    return urlunsplit((parts.scheme, parts.netloc.rsplit("@", 1)[-1], parts.path, "", ""))


def _responses_tool_choice(tool_choice: Any) -> Any:
    """The template's tool_choice (Responses form) for agents' ``ModelSettings.tool_choice``."""
    if tool_choice in (None, "auto", "required", "none"):
        return tool_choice or "auto"
    if isinstance(tool_choice, str):
        return {"type": "function", "name": tool_choice}
    return "auto"


def _responses_tool(chat_tool: Mapping[str, Any]) -> dict[str, Any]:
    function = chat_tool["function"]
    return {
        "type": "function",
        "name": function["name"],
        "description": function.get("description") or None,
        "parameters": function.get("parameters"),
        "strict": function.get("strict"),
    }


def _plain(value: Any) -> Any:
    """A JSON-ready copy (agents' converters return TypedDicts that may hold SDK models)."""
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", exclude_none=True)
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


class ChatCmplModel(OpenAIChatCompletionsModel):
    """An openai-agents ``Model`` over any Chat Completions upstream, through chat-to-responses.

    A subclass of openai-agents' ``OpenAIChatCompletionsModel``, so everything agents and users know of
    that class holds: its constructor options with their meaning, ``isinstance`` checks in the Runner,
    and its hooks (tests patch ``_fetch_response``; ``_get_client`` drops client retries when the Runner
    retries). What differs is what crosses the wire: the request is built by the shared history
    conversion, and every answer, streamed or not, goes through the core translator.

    ``model`` is the upstream's model name; ``openai_client`` an ``AsyncOpenAI`` pointed at it (its
    ``base_url``, key, retries and timeouts are used as they are). agents' options:

    - ``should_replay_reasoning_content``: agents' hook deciding, per reasoning item, whether it goes back
      as ``reasoning_content``; when given it replaces ``reasoning_content`` below.
    - ``strict_feature_validation``: what agents only warns about (several choices, ``prompt``,
      ``previous_response_id``, custom tool calls…) raises ``UserError``.
    - ``buffer_streamed_tool_calls``: tool calls arrive whole, after the stream (agents' pre-buffer).

    Our options (keyword only):

    - ``ids``: id factory for responses and items (random by default; ``SequentialIds()`` in tests).
    - ``reasoning``: raw reasoning as a reasoning ``"summary"`` (default, what agents displays) or as
      ``"text"`` (``reasoning_text`` content).
    - ``think_tags``: read a leading ``<think>…</think>`` in the content as reasoning (default on).
    - ``reasoning_content``: when reasoning goes back as ``reasoning_content`` — ``"tool_turns"`` (default,
      what DeepSeek requires), ``"always"`` or ``"never"``.
    - ``include_usage``: ``stream_options.include_usage`` sent on streamed requests (default ``True``;
      ``None`` sends no ``stream_options``); ``ModelSettings.include_usage`` wins when set.
    - ``require_finish_reason``: a stream that ends without a ``finish_reason`` raises ``ModelBehaviorError``
      (it was cut) instead of completing. ``None`` (default) decides as openai-agents does: on for the
      official OpenAI endpoint, off elsewhere (vLLM-hosted models and some gateways end cleanly without one).
    """

    def __init__(
        self,
        model: str,
        openai_client: AsyncOpenAI,
        should_replay_reasoning_content: ShouldReplayReasoningContent | None = None,
        strict_feature_validation: bool = False,
        buffer_streamed_tool_calls: bool = False,
        *,
        ids: IdFactory | None = None,
        reasoning: ReasoningMode = "summary",
        think_tags: bool = True,
        reasoning_content: ReasoningContentMode = "tool_turns",
        include_usage: bool | None = True,
        require_finish_reason: bool | None = None,
    ) -> None:
        if reasoning not in ("summary", "text"):
            raise ValueError(f"reasoning must be 'summary' or 'text', not {reasoning!r}")
        if reasoning_content not in ("tool_turns", "always", "never"):
            raise ValueError(
                f"reasoning_content must be 'tool_turns', 'always' or 'never', not {reasoning_content!r}"
            )
        super().__init__(
            model,
            openai_client,
            should_replay_reasoning_content=should_replay_reasoning_content,
            strict_feature_validation=strict_feature_validation,
            buffer_streamed_tool_calls=buffer_streamed_tool_calls,
        )
        self._handler_options: dict[str, Any] = {"ids": ids, "reasoning": reasoning, "think_tags": think_tags}
        self._reasoning_content: ReasoningContentMode = reasoning_content
        self._include_usage = include_usage
        if require_finish_reason is None:
            require_finish_reason = ChatCmplHelpers.is_openai(openai_client)
        self._require_finish_reason = require_finish_reason
        self._warned: set[str] = set()

    def __repr__(self) -> str:
        return f"ChatCmplModel(model={self.model!r}, base_url={_sanitized_url(self._base_url())!r})"

    def _base_url(self) -> Any:
        return getattr(self._client, "base_url", None)

    # ------------------------------------------------------------------------------------ Model API

    async def get_response(
        self,
        system_instructions: str | None,
        input: str | list[TResponseInputItem],
        model_settings: ModelSettings,
        tools: list[Tool],
        output_schema: AgentOutputSchemaBase | None,
        handoffs: list[Handoff],
        tracing: ModelTracing,
        previous_response_id: str | None = None,
        conversation_id: str | None = None,
        prompt: ResponsePromptParam | None = None,
    ) -> ModelResponse:
        self._check_unsupported(previous_response_id, conversation_id, prompt)
        with (
            self._span(model_settings, tracing) as span,
            self._errors(span, tracing, "Error getting response"),
        ):
            completion = await self._fetch_response(
                system_instructions,
                input,
                model_settings,
                tools,
                output_schema,
                handoffs,
                span,
                tracing,
                stream=False,
                prompt=None,
            )
            if not getattr(completion, "choices", None) and getattr(completion, "error", None) is None:
                raise ModelBehaviorError(
                    "ChatCompletion response has no choices (possible provider error payload)"
                )
            raw_usage: Any = getattr(completion, "usage", None)
            usage = usage_from_response(response_usage(raw_usage))
            _record_usage(span, usage)  # before anything raises: the request was made
            response = complete_as_agents(
                completion,
                self._template(model_settings, tools, handoffs, system_instructions),
                strict_feature_validation=self._strict_feature_validation,
                **self._handler_options,
            )
            if tracing.include_data():
                span.span_data.output = [item.model_dump() for item in response.output]
            if response.status != "completed":
                raise ChatCmplResponseError(response)
        return ModelResponse(
            output=list(response.output),
            usage=usage,
            response_id=None,  # as OpenAIChatCompletionsModel: nothing server-side to chain to
            request_id=getattr(completion, "_request_id", None),
            raw_usage=(
                raw_usage.model_dump(mode="json", by_alias=True, exclude_unset=True)
                if model_settings.preserve_raw_usage is True and hasattr(raw_usage, "model_dump")
                else None
            ),
        )

    async def stream_response(
        self,
        system_instructions: str | None,
        input: str | list[TResponseInputItem],
        model_settings: ModelSettings,
        tools: list[Tool],
        output_schema: AgentOutputSchemaBase | None,
        handoffs: list[Handoff],
        tracing: ModelTracing,
        previous_response_id: str | None = None,
        conversation_id: str | None = None,
        prompt: ResponsePromptParam | None = None,
    ) -> AsyncIterator[TResponseStreamEvent]:
        self._check_unsupported(previous_response_id, conversation_id, prompt)
        terminal: Response | None = None
        closing = False
        with (
            self._span(model_settings, tracing) as span,
            self._errors(span, tracing, "Error streaming response"),
        ):
            placeholder, stream = await self._fetch_response(
                system_instructions,
                input,
                model_settings,
                tools,
                output_schema,
                handoffs,
                span,
                tracing,
                stream=True,
                prompt=None,
            )
            self._attach_stream_request_id(placeholder, stream)
            try:
                async for event in self._events(placeholder, stream, model_settings):
                    if event.type in _TERMINAL:
                        # On the span now: a consumer that stops at the terminal event never resumes us.
                        terminal = cast(Response, cast(Any, event).response)
                        populate_generation_span(span, terminal, tracing)
                    yield event
            except ModelBehaviorError:
                # agents' endings put the usage on the placeholder before raising: keep it on the span
                populate_generation_span(span, placeholder, tracing)
                raise
            except asyncio.CancelledError:
                closing = True  # agents' own cleanup: close in the background, never twice
                self._schedule_async_iterator_close(stream)
                raise
            finally:
                if not closing:
                    await self._close_after(stream, terminal is not None)
            if terminal is not None and terminal.status != "completed":
                raise ChatCmplResponseError(terminal)

    def _events(self, placeholder: Response, stream: Any, settings: ModelSettings) -> AsyncIterator[Any]:
        """The stream's events under agents' contract, with this model's options."""
        if self._buffer_streamed_tool_calls:
            stream = ChatCmplStreamHandler.buffer_tool_call_stream(stream)
        handler = ChatCmplStreamHandler(
            response=placeholder_template(placeholder, str(self.model)), **self._handler_options
        )
        agents_options = {
            "strict_feature_validation": self._strict_feature_validation,
            "raise_on_length_truncation": True,
            "require_finish_reason": self._require_finish_reason,
            "preserve_raw_usage": settings.preserve_raw_usage is True,
        }
        # A cut stream ends response.failed (every item kept): the Runner raises all the same.
        return handle_as_agents(handler, placeholder, stream, str(self.model), agents_options, cut_fails=True)

    async def _close_after(self, stream: Any, answered: bool) -> None:
        """Close the upstream stream (a close in flight may finish after a cancellation); once the answer
        is complete, an error while closing is only logged."""
        try:
            await self._close_stream_allowing_background_completion(stream)
        except Exception:
            if not answered:
                raise
            logger.debug("ignoring an error while closing the stream after its terminal event", exc_info=True)

    def get_retry_advice(self, request: ModelRetryAdviceRequest) -> ModelRetryAdvice | None:
        return _retry_advice(request) if _retry_advice is not None else None

    # ------------------------------------------------------------------------------------ request

    async def _fetch_response(
        self,
        system_instructions: str | None,
        input: str | list[TResponseInputItem],
        model_settings: ModelSettings,
        tools: list[Tool],
        output_schema: AgentOutputSchemaBase | None,
        handoffs: list[Handoff],
        span: Span[GenerationSpanData],
        tracing: ModelTracing,
        stream: bool = False,
        prompt: ResponsePromptParam | None = None,
    ) -> Any:
        """agents' hook, same signature and results: a ``ChatCompletion``, or ``(placeholder Response,
        chunk stream)`` when ``stream``. Tests (agents' and users') patch it to replay canned answers."""
        self._handle_unsupported_prompt(prompt)
        self._handle_unsupported_reasoning_settings(model_settings)
        self._validate_official_openai_input_content_types(input)
        kwargs, template = self.build_request(
            system_instructions, input, model_settings, tools, output_schema, handoffs, stream=stream
        )
        if tracing.include_data():
            span.span_data.input = kwargs["messages"]
        result = await self._get_client().chat.completions.create(**kwargs)
        if not stream:
            return result
        # Not a resp_ id: the handler gives the response its own.
        placeholder = Response.model_validate(
            {
                "id": "pending",
                "created_at": time.time(),
                "object": "response",
                "output": [],
                "parallel_tool_calls": True,
                **template,
            }
        )
        return placeholder, result

    def _template(
        self,
        settings: ModelSettings,
        tools: list[Tool],
        handoffs: list[Handoff],
        system_instructions: str | None,
    ) -> dict[str, Any]:
        chat_tools = [_plain(Converter.tool_to_openai(tool)) for tool in tools]
        chat_tools += [_plain(Converter.convert_handoff_tool(handoff)) for handoff in handoffs]
        return _response_template(str(self.model), system_instructions, chat_tools, settings)

    def build_request(
        self,
        system_instructions: str | None,
        input: str | list[TResponseInputItem],
        model_settings: ModelSettings,
        tools: list[Tool],
        output_schema: AgentOutputSchemaBase | None,
        handoffs: list[Handoff],
        *,
        stream: bool,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """``(chat.completions.create keyword arguments, Responses template)`` for one model call."""
        messages = self._messages(input, system_instructions)
        chat_tools = [_plain(Converter.tool_to_openai(tool)) for tool in tools]
        chat_tools += [_plain(Converter.convert_handoff_tool(handoff)) for handoff in handoffs]
        settings = model_settings
        kwargs: dict[str, Any] = {"model": self.model, "messages": messages}
        if chat_tools:
            kwargs["tools"] = chat_tools
            if settings.parallel_tool_calls is not None:  # rejected by Chat Completions without tools
                kwargs["parallel_tool_calls"] = settings.parallel_tool_calls
        if settings.tool_choice is not None:
            kwargs["tool_choice"] = Converter.convert_tool_choice(settings.tool_choice)
        response_format = Converter.convert_response_format(output_schema)
        if isinstance(response_format, Mapping):
            kwargs["response_format"] = _plain(response_format)
        effort = settings.reasoning.effort if settings.reasoning is not None else None
        optional = {
            "temperature": settings.temperature,
            "top_p": settings.top_p,
            "frequency_penalty": settings.frequency_penalty,
            "presence_penalty": settings.presence_penalty,
            "max_tokens": settings.max_tokens,
            "reasoning_effort": effort,
            "verbosity": settings.verbosity,
            "metadata": settings.metadata,
            "top_logprobs": settings.top_logprobs,
            "prompt_cache_retention": settings.prompt_cache_retention,
            "prompt_cache_options": settings.prompt_cache_options,
            "extra_headers": self._merge_headers(settings),
            "extra_query": settings.extra_query,
            "extra_body": settings.extra_body,
        }
        kwargs.update({k: v for k, v in optional.items() if v is not None})
        if settings.top_logprobs is not None and "logprobs" not in (settings.extra_args or {}):
            kwargs["logprobs"] = True
        if stream:
            kwargs["stream"] = True
            include_usage = (
                settings.include_usage if settings.include_usage is not None else self._include_usage
            )
            if include_usage is not None:
                kwargs["stream_options"] = {"include_usage": include_usage}
        store = ChatCmplHelpers.get_store_param(self._client, settings)  # as agents: True for api.openai.com
        if store is not None:
            kwargs["store"] = store
        # Every parameter agents names, `omit` when unset: the same keywords as OpenAIChatCompletionsModel
        # (tests and wrappers inspect them), the same request on the wire.
        for key in _CREATE_KEYWORDS:
            kwargs.setdefault(key, omit)
        duplicates = sorted(k for k in settings.extra_args or {} if k in kwargs and kwargs[k] is not omit)
        if duplicates:
            raise TypeError(f"chat.completions.create() got multiple values for {', '.join(duplicates)}")
        kwargs.update(settings.extra_args or {})
        return kwargs, _response_template(str(self.model), system_instructions, chat_tools, settings)

    def _messages(
        self, input: str | list[TResponseInputItem], instructions: str | None
    ) -> list[dict[str, Any]]:
        """The shared history conversion; what it cannot send is warned about (once per kind), or rejected
        as agents rejects it (unpaired outputs always, non-text tool output under strict validation)."""
        notes: list[str] = []
        try:
            messages = items_to_messages(
                input,
                instructions=instructions,
                reasoning_content=self._replay_reasoning(),
                # The Runner records a response's calls, then their outputs: a later call starts a new turn.
                calls_after_outputs="new_turn",
                unpaired_outputs="raise",
                dropped=notes,
            )
        except UnpairedOutputError as exc:
            raise UserError(
                "Unpaired function outputs cannot be sent to Chat Completions: a tool message must answer a "
                f"call of the conversation ({exc}). Use a Responses model for server-managed tool context."
            ) from exc
        for note in notes:
            if self._strict_feature_validation and note.startswith(NON_TEXT_TOOL_OUTPUT):
                raise UserError(
                    "Chat Completions tool messages carry text only: under strict feature validation a tool "
                    f"output cannot be empty or contain only non-text content ({note})."
                )
            if note not in self._warned:
                self._warned.add(note)
                logger.warning("ChatCmplModel: %s (Chat Completions cannot carry it).", note)
        return messages

    def _replay_reasoning(self) -> ReasoningContentMode | Callable[[dict[str, Any]], bool]:
        """``reasoning_content``, or agents' ``should_replay_reasoning_content`` hook asked per item."""
        hook = self.should_replay_reasoning_content
        if hook is None:
            return self._reasoning_content
        model, url = str(self.model), self._base_url()
        base_url = str(url).rstrip("/") if url else None

        def replay(item: dict[str, Any]) -> bool:
            provider_data = item.get("provider_data")
            provider_data = provider_data if isinstance(provider_data, dict) else {}
            source = ReasoningContentSource(
                item=item, origin_model=provider_data.get("model") or None, provider_data=provider_data
            )
            return bool(hook(ReasoningContentReplayContext(model=model, base_url=base_url, reasoning=source)))

        return replay

    def _check_unsupported(
        self,
        previous_response_id: str | None,
        conversation_id: str | None,
        prompt: ResponsePromptParam | None,
    ) -> None:
        """Server-side state and stored prompts do not exist on Chat Completions: warned once and ignored,
        or ``UserError`` with ``strict_feature_validation`` (agents' own checks)."""
        self._handle_unsupported_server_managed_conversation_state(
            previous_response_id=previous_response_id, conversation_id=conversation_id
        )
        self._handle_unsupported_prompt(prompt)

    # ------------------------------------------------------------------------------------ tracing

    def _span(self, settings: ModelSettings, tracing: ModelTracing) -> Span[GenerationSpanData]:
        config = model_config_for_trace(settings, tracing, base_url=self._base_url())
        return generation_span(model=str(self.model), model_config=config, disabled=tracing.is_disabled())

    @staticmethod
    def _errors(span: Span[GenerationSpanData], tracing: ModelTracing, message: str) -> Any:
        """agents' recording of a failed call on its span (the exception is re-raised as it is)."""
        return model_span_errors(span, message=message, trace_include_sensitive_data=tracing.include_data())


def _record_usage(span: Span[GenerationSpanData], usage: Usage) -> None:
    span.span_data.usage = {
        "requests": usage.requests,
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "total_tokens": usage.total_tokens,
        "input_tokens_details": usage.input_tokens_details.model_dump(),
        "output_tokens_details": usage.output_tokens_details.model_dump(),
    }


def _response_template(
    model: str, instructions: str | None, chat_tools: list[dict[str, Any]], settings: ModelSettings
) -> dict[str, Any]:
    """The Responses fields every event of one call echoes."""
    template: dict[str, Any] = {
        "model": model,
        "instructions": instructions,
        "tools": [_responses_tool(t) for t in chat_tools],
        "tool_choice": _responses_tool_choice(settings.tool_choice),
        "temperature": settings.temperature,
        "top_p": settings.top_p,
        "max_output_tokens": settings.max_tokens,
    }
    if settings.parallel_tool_calls is not None:
        template["parallel_tool_calls"] = settings.parallel_tool_calls
    effort = settings.reasoning.effort if settings.reasoning is not None else None
    if effort is not None:
        template["reasoning"] = {"effort": effort}
    return template


class ChatCmplProvider(ModelProvider):
    """An openai-agents ``ModelProvider`` giving a :class:`ChatCmplModel` for any model name.

    ``openai_client``: the ``AsyncOpenAI`` for the upstream; without one, a client is made on first use
    from ``base_url`` / ``api_key`` (else the ``OPENAI_BASE_URL`` / ``OPENAI_API_KEY`` environment) and
    closed by ``aclose()``. ``default_model`` names the model for agents without one (else agents'
    default model). Other keyword arguments are :class:`ChatCmplModel` options.
    """

    def __init__(
        self,
        openai_client: AsyncOpenAI | None = None,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        default_model: str | None = None,
        **options: Any,
    ) -> None:
        unknown = sorted(set(options) - _OPTIONS)
        if unknown:
            raise TypeError(f"ChatCmplProvider got unexpected options: {', '.join(unknown)}")
        if openai_client is not None and (base_url is not None or api_key is not None):
            raise ValueError("give either openai_client or base_url / api_key, not both")
        self._client = openai_client
        self._owns_client = False
        self._base_url = base_url
        self._api_key = api_key
        self._default_model = default_model
        self._options = options
        self._models: dict[str, ChatCmplModel] = {}

    def get_model(self, model_name: str | None) -> Model:
        name = model_name or self._default_model or get_default_model()
        model = self._models.get(name)
        if model is None:
            model = self._models[name] = ChatCmplModel(name, self._get_client(), **self._options)
        return model

    def _get_client(self) -> AsyncOpenAI:
        if self._client is None:
            self._client = AsyncOpenAI(base_url=self._base_url, api_key=self._api_key)
            self._owns_client = True
        return self._client

    async def aclose(self) -> None:
        if self._owns_client and self._client is not None:
            await self._client.close()
            self._client, self._owns_client = None, False
            self._models.clear()


__all__ = ["ChatCmplModel", "ChatCmplProvider", "ChatCmplResponseError", "usage_from_response"]
