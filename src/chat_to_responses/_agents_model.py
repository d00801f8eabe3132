"""openai-agents ``Model`` / ``ModelProvider`` over the core translator (public face: ``.agents``).

Requests are built with the shared history conversion (``_history.items_to_messages``) and openai-agents'
own converters for tools, handoffs, the output schema and tool_choice; answers go through the core mapping
(``ChatCmplStreamHandler.handle_stream`` for streams, ``completion_to_response`` for JSON completions), so
a stream and a completion of the same answer give the same output items.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Mapping
from typing import TYPE_CHECKING, Any, Final, cast
from urllib.parse import urlsplit, urlunsplit

import anyio
from agents import (
    AgentOutputSchemaBase,
    Handoff,
    Model,
    ModelBehaviorError,
    ModelProvider,
    ModelResponse,
    ModelSettings,
    ModelTracing,
    SpanError,
    TResponseInputItem,
    Usage,
    generation_span,
)
from agents.items import TResponseStreamEvent
from agents.models.chatcmpl_converter import Converter
from agents.models.default_models import get_default_model
from agents.tool import Tool
from openai import AsyncOpenAI
from openai.types.responses import Response, ResponseUsage
from openai.types.responses.response_prompt_param import ResponsePromptParam

from ._completion import completion_to_response
from ._handler import ChatCmplStreamHandler
from ._history import ReasoningContentMode, items_to_messages
from ._ids import IdFactory
from ._translator import ReasoningMode

if TYPE_CHECKING:
    from agents.retry import ModelRetryAdvice, ModelRetryAdviceRequest
    from agents.tracing import Span
    from agents.tracing.span_data import GenerationSpanData

logger = logging.getLogger("chat_to_responses.agents")

# Private helpers of openai-agents, used only when present: none of them is needed for a correct run.
# - retry advice for openai errors (retry-after headers, replay safety), as OpenAIChatCompletionsModel gives;
# - whether the Runner retries itself (then the client must not retry too);
# - counting a stream that reported no usage as one request (the Runner counts zero otherwise).
_RetryAdvice = Callable[["ModelRetryAdviceRequest"], "ModelRetryAdvice | None"]
_retry_advice: _RetryAdvice | None
_runner_retries: Callable[[], bool] | None
_mark_without_usage: Callable[[Any], None] | None
try:
    from agents.models._openai_retry import get_openai_retry_advice as _retry_advice
except ImportError:  # pragma: no cover - depends on the openai-agents version
    _retry_advice = None
try:
    from agents.models._retry_runtime import should_disable_provider_managed_retries as _runner_retries
except ImportError:  # pragma: no cover
    _runner_retries = None
try:
    from agents.usage import _mark_request_completed_without_usage as _mark_without_usage
except ImportError:  # pragma: no cover
    _mark_without_usage = None

_TERMINAL: Final = frozenset({"response.completed", "response.incomplete", "response.failed"})
_OPTIONS: Final = frozenset(
    {"ids", "reasoning", "think_tags", "reasoning_content", "include_usage", "require_finish_reason"}
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


def _is_official_openai(client: AsyncOpenAI) -> bool:
    """The endpoint openai-agents turns ``require_finish_reason`` on for: OpenAI always sends one."""
    try:
        host = urlsplit(str(client.base_url)).hostname
    except ValueError:
        return False
    return host == "api.openai.com"


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


class ChatCmplModel(Model):
    """An openai-agents ``Model`` over any Chat Completions upstream, through chat-to-responses.

    ``model`` is the upstream's model name; ``openai_client`` an ``AsyncOpenAI`` pointed at it (its
    ``base_url``, key, retries and timeouts are used as they are). Options:

    - ``ids``: id factory for responses and items (random by default; ``SequentialIds()`` in tests).
    - ``reasoning``: raw reasoning as a reasoning ``"summary"`` (default, what agents displays) or as
      ``"text"`` (``reasoning_text`` content).
    - ``think_tags``: read a leading ``<think>…</think>`` in the content as reasoning (default on).
    - ``reasoning_content``: when reasoning goes back as ``reasoning_content`` — ``"tool_turns"`` (default,
      what DeepSeek requires), ``"always"`` or ``"never"``.
    - ``include_usage``: ``stream_options.include_usage`` sent on streamed requests (default ``True``;
      ``None`` sends no ``stream_options``); ``ModelSettings.include_usage`` wins when set.
    - ``require_finish_reason``: a stream that ends without a ``finish_reason`` fails (it was cut) instead of
      completing. ``None`` (default) decides as openai-agents does: on for the official OpenAI endpoint,
      off elsewhere (vLLM-hosted models and some gateways end cleanly without one).
    """

    def __init__(
        self,
        model: str,
        openai_client: AsyncOpenAI,
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
        self.model = model
        self._client = openai_client
        self._handler_options: dict[str, Any] = {"ids": ids, "reasoning": reasoning, "think_tags": think_tags}
        self._reasoning_content: ReasoningContentMode = reasoning_content
        self._include_usage = include_usage
        if require_finish_reason is None:
            require_finish_reason = _is_official_openai(openai_client)
        self._stream_options = {**self._handler_options, "require_finish_reason": require_finish_reason}
        self._warned: set[str] = set()

    def __repr__(self) -> str:
        return f"ChatCmplModel(model={self.model!r}, base_url={_sanitized_url(self._client.base_url)!r})"

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
        *,
        previous_response_id: str | None = None,
        conversation_id: str | None = None,
        prompt: ResponsePromptParam | None = None,
    ) -> ModelResponse:
        self._check_unsupported(previous_response_id, conversation_id, prompt)
        kwargs, template = self.build_request(
            system_instructions, input, model_settings, tools, output_schema, handoffs, stream=False
        )
        with self._span(model_settings, tracing, kwargs) as span:
            try:
                completion = await self._create(kwargs)
                response = completion_to_response(completion, response=template, **self._handler_options)
                usage = usage_from_response(response.usage)
                self._record(span, response, usage, tracing)
                if response.status != "completed":
                    raise ChatCmplResponseError(response)
            except Exception as exc:
                self._record_error(span, exc, tracing)
                raise
        raw_usage: Any = getattr(completion, "usage", None)
        return ModelResponse(
            output=list(response.output),
            usage=usage,
            response_id=response.id,
            request_id=getattr(completion, "_request_id", None),
            raw_usage=(
                raw_usage.model_dump(mode="json", exclude_unset=True)
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
        *,
        previous_response_id: str | None = None,
        conversation_id: str | None = None,
        prompt: ResponsePromptParam | None = None,
    ) -> AsyncIterator[TResponseStreamEvent]:
        self._check_unsupported(previous_response_id, conversation_id, prompt)
        kwargs, template = self.build_request(
            system_instructions, input, model_settings, tools, output_schema, handoffs, stream=True
        )
        terminal: Response | None = None
        with self._span(model_settings, tracing, kwargs) as span:
            try:
                stream = await self._create(kwargs)
                headers = getattr(getattr(stream, "response", None), "headers", None)
                request_id = headers.get("x-request-id") if headers is not None else None
                try:
                    async for event in ChatCmplStreamHandler.handle_stream(
                        template, stream, **self._stream_options
                    ):
                        if event.type in _TERMINAL:
                            terminal = cast(Response, cast(Any, event).response)
                            self._on_terminal(span, terminal, request_id, tracing)
                        yield event
                finally:
                    with anyio.CancelScope(shield=True):
                        await stream.close()
            except Exception as exc:
                self._record_error(span, exc, tracing)
                raise
            if terminal is not None and terminal.status != "completed":
                raise ChatCmplResponseError(terminal)  # already on the span (_on_terminal)

    def get_retry_advice(self, request: ModelRetryAdviceRequest) -> ModelRetryAdvice | None:
        return _retry_advice(request) if _retry_advice is not None else None

    # ------------------------------------------------------------------------------------ request

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
        messages = items_to_messages(
            input,
            instructions=system_instructions,
            reasoning_content=self._reasoning_content,
            # The Runner records a response's calls, then their outputs: a call after an output is a new turn.
            calls_after_outputs="new_turn",
        )
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
            "store": settings.store,
            "metadata": settings.metadata,
            "top_logprobs": settings.top_logprobs,
            "prompt_cache_retention": settings.prompt_cache_retention,
            "prompt_cache_options": settings.prompt_cache_options,
            "extra_headers": settings.extra_headers,
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
        duplicates = sorted(set(settings.extra_args or {}) & set(kwargs))
        if duplicates:
            raise TypeError(f"chat.completions.create() got multiple values for {', '.join(duplicates)}")
        kwargs.update(settings.extra_args or {})
        template: dict[str, Any] = {
            "model": self.model,
            "instructions": system_instructions,
            "tools": [_responses_tool(t) for t in chat_tools],
            "tool_choice": _responses_tool_choice(settings.tool_choice),
            "temperature": settings.temperature,
            "top_p": settings.top_p,
            "max_output_tokens": settings.max_tokens,
        }
        if settings.parallel_tool_calls is not None:
            template["parallel_tool_calls"] = settings.parallel_tool_calls
        if effort is not None:
            template["reasoning"] = {"effort": effort}
        return kwargs, template

    async def _create(self, kwargs: dict[str, Any]) -> Any:
        client = self._client
        if _runner_retries is not None and _runner_retries():
            client = client.with_options(max_retries=0)  # the Runner retries: do not retry twice
        return await client.chat.completions.create(**kwargs)

    def _check_unsupported(
        self,
        previous_response_id: str | None,
        conversation_id: str | None,
        prompt: ResponsePromptParam | None,
    ) -> None:
        """Server-side state and stored prompts do not exist on Chat Completions: warned once, ignored."""
        for name, value in (
            ("previous_response_id", previous_response_id),
            ("conversation_id", conversation_id),
            ("prompt", prompt),
        ):
            if value is not None and name not in self._warned:
                self._warned.add(name)
                logger.warning(
                    "ChatCmplModel ignores %s: Chat Completions is stateless and the Runner sends the whole "
                    "history (do not combine it with previous_response_id / conversation_id).",
                    name,
                )

    # ------------------------------------------------------------------------------------ tracing

    def _span(
        self, settings: ModelSettings, tracing: ModelTracing, kwargs: Mapping[str, Any]
    ) -> Span[GenerationSpanData]:
        config = {**settings.to_traceable_dict(), "base_url": _sanitized_url(self._client.base_url)}
        span = generation_span(model=self.model, model_config=config, disabled=tracing.is_disabled())
        if tracing.include_data():
            span.span_data.input = kwargs["messages"]
        return span

    def _on_terminal(
        self,
        span: Span[GenerationSpanData],
        response: Response,
        request_id: str | None,
        tracing: ModelTracing,
    ) -> None:
        if request_id is not None:
            response._request_id = request_id  # what the Runner puts in ModelResponse.request_id
        if response.status == "completed" and response.usage is None and _mark_without_usage is not None:
            _mark_without_usage(response)  # the request happened: count it, without inventing tokens
        if response.status != "completed":  # now: the Runner raises at this event and reads no further
            self._record_error(span, ChatCmplResponseError(response), tracing)
        self._record(span, response, usage_from_response(response.usage), tracing)

    @staticmethod
    def _record(
        span: Span[GenerationSpanData], response: Response, usage: Usage, tracing: ModelTracing
    ) -> None:
        if tracing.include_data():
            span.span_data.output = [response.model_dump(mode="json", exclude_none=True)]
        span.span_data.usage = {
            "requests": usage.requests,
            "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens,
            "total_tokens": usage.total_tokens,
            "input_tokens_details": usage.input_tokens_details.model_dump(),
            "output_tokens_details": usage.output_tokens_details.model_dump(),
        }

    @staticmethod
    def _record_error(span: Span[GenerationSpanData], exc: Exception, tracing: ModelTracing) -> None:
        data: dict[str, Any] = {"error_type": type(exc).__name__}
        if tracing.include_data():
            data["error"] = str(exc)
        span.set_error(SpanError(message="Error calling the Chat Completions model", data=data))


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
