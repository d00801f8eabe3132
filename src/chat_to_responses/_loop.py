"""The tool loop: stream a chat completion, run its tool calls, send the results back, until the model
answers without calling a tool.

It keeps the seed library's API (``chat-cmpl-stream-handler``) but consumes the normalised Responses
events of :class:`ChatCmplStreamHandler`, not raw chunks, so every provider quirk is already handled.

Why it is faster than the seed: each tool starts the moment its ``function_call`` item is done, while
the model is still streaming, and independent calls run concurrently in one anyio task group. Results
go back in call order.

A failed call follows ``on_tool_error`` as in the seed: ``emit`` yields :class:`ToolCallFailed` then
:class:`ToolCallCompleted` with the result the model is told, and goes on; ``raise`` yields
``ToolCallFailed`` and re-raises the exception; ``abort`` yields ``ToolCallFailed`` then
:class:`RunFailed`. What the model is told is ``tool_error_content(tool_call, exception)``; the default,
:func:`default_tool_error_content`, never sends an exception's own text (it can hold connection strings,
paths, keys) to the model provider: a tool's exception becomes the seed's ``"Tool invocation failed."``.
The model's own mistakes are told in full so it can fix them: an unknown tool
(:class:`UnknownToolError`), arguments that are not JSON or do not fit the tool (:class:`ToolInputError`,
a pydantic tool's ``ValidationError``), and a call that outran ``tool_timeout`` (:class:`ToolCallTimeout`).

A tool schema without an invoker is a configuration error: ``ValueError("No invoker for tool(s): [...]")``
before any request (``fallback_invoker`` is asked first).

Nothing is lost when a run does not complete: ``RunFailed.result``, ``MaxIterationsReached.result``
and, on cancellation, the cancel exception's ``result`` attribute carry the conversation so far.

Tools run in a task group that stays open while events are yielded, so a consumer that stops early
should close the generator in its own task — ``async with contextlib.aclosing(events)`` — or cancel the
consuming task: either closes the upstream HTTP stream at once and cancels the running tools.
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Mapping,
    Sequence,
)
from contextlib import aclosing, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, cast, runtime_checkable

import anyio
from openai import AsyncOpenAI
from openai.types.chat import ChatCompletionChunk
from openai.types.completion_usage import CompletionUsage
from openai.types.responses import ResponseStreamEvent
from pydantic import BaseModel

from ._handler import ChatCmplStreamHandler
from ._history import output_items_to_message
from ._pydantic_tools import describe_argument_error
from ._tools import (
    ToolCall,
    ToolInputError,
    ToolInvoker,
    ToolParam,
    ToolResult,
    check_invoker,
    make_tool_call,
)

logger = logging.getLogger(__name__)

OnToolError = Literal["emit", "raise", "abort"]
"""What a failed tool call does (the seed's name): see the module docstring."""
ToolErrorContent = Callable[[ToolCall, BaseException], str]
"""``(tool_call, exception) -> str``: what the model is told about a failed call under ``emit``."""

GENERIC_TOOL_ERROR_MESSAGE = "Tool invocation failed."


@runtime_checkable
class ChunkStreamer(Protocol):
    """One streaming request in chat chunk terms (seed 0.6): pass one as ``openai_client`` to stream from
    anything that is not an OpenAI-compatible client. ``kwargs`` are the OpenAI-named request options."""

    def stream(
        self, *, messages: list[dict[str, Any]], model: str, **kwargs: Any
    ) -> AsyncIterator[ChatCompletionChunk | dict[str, Any]]: ...


# ---------------------------------------------------------------------------------------------- events


@dataclass(frozen=True)
class IterationStarted:
    """A model turn is about to be requested with these messages."""

    index: int
    messages: list[dict[str, Any]]


@dataclass(frozen=True)
class StreamEvent:
    """One Responses stream event of the current model turn."""

    event: ResponseStreamEvent


@dataclass(frozen=True)
class ToolCallStarted:
    iteration: int
    tool_call: ToolCall


@dataclass(frozen=True)
class ToolCallCompleted:
    iteration: int
    tool_call: ToolCall
    result: ToolResult


@dataclass(frozen=True)
class ToolCallFailed:
    """The call failed. Under ``emit`` a :class:`ToolCallCompleted` with what the model is told follows;
    ``result`` carries the same (None when the run stops instead)."""

    iteration: int
    tool_call: ToolCall
    exception: BaseException
    result: ToolResult | None = None


@dataclass(frozen=True)
class IterationCompleted:
    index: int
    usage: CompletionUsage | None  # chat usage, as in the seed
    assistant_message: dict[str, Any]
    status: str = "completed"


@dataclass(frozen=True)
class RunCompleted:
    result: StreamResult


@dataclass(frozen=True)
class RunFailed:
    exception: BaseException
    result: StreamResult | None = None


LifecycleEvent = (
    IterationStarted
    | StreamEvent
    | ToolCallStarted
    | ToolCallCompleted
    | ToolCallFailed
    | IterationCompleted
    | RunCompleted
    | RunFailed
)


class MaxIterationsReached(Exception):  # noqa: N818  (the seed's name)
    """The loop reached ``max_iterations`` while the model still called tools; ``result`` has the run."""

    def __init__(self, message: str, result: StreamResult | None = None) -> None:
        super().__init__(message)
        self.result = result


class UpstreamError(Exception):
    """The model turn ended in ``response.failed`` (an error object, a dropped connection…)."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class UnknownToolError(LookupError, ValueError):
    """The model called a tool that has no invoker (a ``ValueError`` too, as the seed raised)."""


class ToolCallTimeout(TimeoutError):  # noqa: N818  (the seed's name)
    """A tool invoker outran ``tool_timeout`` and was cancelled (seed 0.6 name; a ``TimeoutError``)."""


# ---------------------------------------------------------------------------------------------- result


@dataclass
class StreamResult:
    """The conversation a run produced, in both APIs.

    ``to_input_list()`` is the chat messages ready for the next request; ``items`` the same run as
    Responses items (each turn's output items, then its ``function_call_output`` items); ``usages`` one
    chat ``CompletionUsage`` per model turn that reported one (as in the seed); ``status`` ``completed``
    or ``incomplete`` (the last answer was cut by ``length``/``content_filter``: its text is kept).
    """

    messages: list[dict[str, Any]]
    model: str
    usages: list[CompletionUsage] = field(default_factory=list)
    items: list[dict[str, Any]] = field(default_factory=list)
    status: str = "completed"
    incomplete_reason: str | None = None

    def to_input_list(self) -> list[dict[str, Any]]:
        """The messages as plain JSON data, ready for the next request. As in seed 0.6, a value that is
        not JSON (a model object in your input messages) raises ``TypeError`` here instead of being
        stringified into something the provider rejects later."""
        return json.loads(json.dumps(self.messages))  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------------------------- tools


@runtime_checkable
class Tool(Protocol):
    """A schema paired with its invoker (seed-compatible)."""

    tool_param: ToolParam

    async def invoke(self, tool_call: ToolCall, context: Any) -> Any: ...


@dataclass(frozen=True)
class FunctionTool:
    tool_param: ToolParam
    invoker: ToolInvoker

    async def invoke(self, tool_call: ToolCall, context: Any) -> Any:
        return await self.invoker(tool_call, context)


def merge_tools_and_invokers(
    tools: Sequence[Tool | ToolParam] | None = None,
    tool_invokers: Mapping[str, ToolInvoker] | None = None,
    stream_tools: Iterable[ToolParam] | None = None,
) -> tuple[list[ToolParam], dict[str, ToolInvoker]]:
    """Schemas from ``stream_kwargs["tools"]`` then ``tools`` (later wins); explicit invokers win (with a
    warning when one replaces a :class:`Tool`'s own ``invoke``). ``ValueError`` if a schema has no invoker.
    """
    schemas: dict[str, ToolParam] = {}
    invokers: dict[str, ToolInvoker] = {}
    for schema in stream_tools or ():
        schemas[schema["function"]["name"]] = schema
    for tool in tools or ():
        if isinstance(tool, Tool):
            name = tool.tool_param["function"]["name"]
            schemas[name], invokers[name] = tool.tool_param, tool.invoke
            if isinstance(tool, FunctionTool):
                check_invoker(tool.invoker, name, "tool_call: ToolCall")
        else:
            schemas[tool["function"]["name"]] = tool
    for name, invoker in (tool_invokers or {}).items():
        check_invoker(invoker, name, "tool_call: ToolCall")  # a wrong one fails before the first request
        if name in invokers:
            logger.warning("tool_invokers[%r] overrides Tool.invoke from `tools=`", name)
        invokers[name] = invoker
    missing = [name for name in schemas if name not in invokers]
    if missing:
        raise ValueError(f"No invoker for tool(s): {missing}")
    return list(schemas.values()), invokers


def _with_fallbacks(
    tools: Sequence[Tool | ToolParam] | None,
    tool_invokers: Mapping[str, ToolInvoker] | None,
    stream_tools: Sequence[ToolParam],
    fallback: Callable[[str], ToolInvoker | None] | None,
) -> Mapping[str, ToolInvoker] | None:
    """``tool_invokers`` plus what ``fallback`` gives for each schema nothing else covers (as the seed)."""
    if fallback is None:
        return tool_invokers
    invokers = dict(tool_invokers or {})
    covered = set(invokers) | {t.tool_param["function"]["name"] for t in tools or () if isinstance(t, Tool)}
    params = [*stream_tools, *(t.tool_param if isinstance(t, Tool) else t for t in tools or ())]
    for name in (param["function"]["name"] for param in params):
        if name not in covered:
            found = fallback(name)
            if found is not None:
                invokers[name] = found
                covered.add(name)
    return invokers


def default_tool_error_content(tool_call: ToolCall, exception: BaseException) -> str:
    """What the model is told about a failed call, by default.

    The model's own mistakes in full, so it can correct them: an unknown tool, arguments that are not
    JSON or do not fit (:class:`ToolInputError`, a pydantic tool's validation error), a call that outran
    ``tool_timeout``. Anything else, a tool's own exception, only as ``"Tool invocation failed."``: its
    text can hold secrets (connection strings, paths, keys) that must not reach the model provider. The
    exception stays on :class:`ToolCallFailed` for your code.
    """
    described = describe_argument_error(tool_call.function.name, exception)
    if described is not None:
        return described
    if isinstance(exception, (UnknownToolError, ToolInputError, ToolCallTimeout)):
        return str(exception)
    return GENERIC_TOOL_ERROR_MESSAGE


def tool_output_text(value: Any) -> str:
    """What the model reads for a tool's return value: text as is, anything else as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, BaseModel):
        return value.model_dump_json()
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(value)


def _completion_usage(usage: Any) -> CompletionUsage | None:
    """Responses usage back to the chat usage the seed reported (same counts, chat field names)."""
    if usage is None:
        return None
    return CompletionUsage.model_validate(
        {
            "prompt_tokens": usage.input_tokens,
            "completion_tokens": usage.output_tokens,
            "total_tokens": usage.total_tokens,
            "prompt_tokens_details": {"cached_tokens": usage.input_tokens_details.cached_tokens},
            "completion_tokens_details": {"reasoning_tokens": usage.output_tokens_details.reasoning_tokens},
        }
    )


def _as_tool_result(value: Any) -> ToolResult:
    if isinstance(value, ToolResult):
        return (
            value
            if isinstance(value.content, str)
            else ToolResult(tool_output_text(value.content), value.metadata)
        )
    return ToolResult(tool_output_text(value))


@dataclass
class _PendingCall:
    """One tool call of the current turn: started at once, awaited in call order."""

    tool_call: ToolCall
    done: anyio.Event = field(default_factory=anyio.Event)
    result: ToolResult | None = None
    error: BaseException | None = None


class _Tools:
    def __init__(
        self,
        invokers: Mapping[str, ToolInvoker],
        fallback: Callable[[str], ToolInvoker | None] | None,
        context: Any,
        timeout: float | None,
    ) -> None:
        self._invokers, self._fallback = dict(invokers), fallback
        self._context, self._timeout = context, timeout

    def start(self, group: anyio.abc.TaskGroup, call: _PendingCall) -> None:
        name = call.tool_call.function.name
        invoker = self._invokers.get(name) or (self._fallback(name) if self._fallback else None)
        problem = self._model_error(call.tool_call, invoker)
        if problem is not None:
            call.error = problem
            call.done.set()
            return
        assert invoker is not None
        group.start_soon(self._run, call, invoker)

    def _model_error(self, tool_call: ToolCall, invoker: ToolInvoker | None) -> Exception | None:
        name, arguments = tool_call.function.name, tool_call.function.arguments
        if invoker is None:
            available = ", ".join(self._invokers) or "none"
            return UnknownToolError(f"Unknown tool {name!r}. Available tools: {available}.")
        if arguments and arguments.strip():
            try:
                json.loads(arguments)
            except ValueError as exc:
                return ToolInputError(
                    f"Invalid JSON arguments for tool {name!r} ({exc}): {arguments[:300]!r}"
                )
        return None

    async def _run(self, call: _PendingCall, invoker: ToolInvoker) -> None:
        try:
            with anyio.fail_after(self._timeout) as scope:
                call.result = _as_tool_result(await invoker(call.tool_call, self._context))
        except TimeoutError as exc:
            # Our cap fired only if our scope was cancelled; else the tool timed out on its own.
            call.error = (
                ToolCallTimeout(
                    f"Tool {call.tool_call.function.name!r} exceeded tool_timeout={self._timeout}s "
                    "and was cancelled."
                )
                if scope.cancel_called
                else exc
            )
        except Exception as exc:
            call.error = exc
        finally:
            call.done.set()


# ---------------------------------------------------------------------------------------------- the loop


async def stream_until_user_input_events(
    messages: Iterable[Mapping[str, Any]],
    model: str,
    openai_client: AsyncOpenAI | ChunkStreamer,
    *,
    tools: Sequence[Tool | ToolParam] | None = None,
    tool_invokers: Mapping[str, ToolInvoker] | None = None,
    stream_kwargs: Mapping[str, Any] | None = None,
    context: Any = None,
    max_iterations: int = 10,
    fallback_invoker: Callable[[str], ToolInvoker | None] | None = None,
    on_tool_error: OnToolError = "emit",
    tool_timeout: float | None = None,
    tool_error_content: ToolErrorContent | None = None,
    handler_options: Mapping[str, Any] | None = None,
) -> AsyncGenerator[LifecycleEvent, None]:
    """Run the loop, yielding lifecycle events (see the module docstring for the error rules).

    ``openai_client``: an ``AsyncOpenAI`` (or compatible) client, or a seed 0.6 ``ChunkStreamer`` (any
    object with ``stream(*, messages, model, **kwargs)`` returning an async iterator of chunks).
    ``stream_kwargs`` go to the request as they are (``stream_options`` is not added: pass
    ``{"include_usage": True}`` to get usage from a backend that sends it only when asked).
    """
    if on_tool_error not in ("emit", "raise", "abort"):
        raise ValueError("on_tool_error must be one of: 'emit', 'raise', or 'abort'")
    request = dict(stream_kwargs or {})
    stream_tools = list(request.pop("tools", None) or [])
    schemas, invokers = merge_tools_and_invokers(
        tools, _with_fallbacks(tools, tool_invokers, stream_tools, fallback_invoker), stream_tools
    )
    if schemas:
        request["tools"] = schemas
    _check_client(openai_client)
    runner = _Tools(invokers, fallback_invoker, context, tool_timeout)
    describe = tool_error_content or default_tool_error_content
    result = StreamResult(messages=[dict(m) for m in messages], model=model)
    try:
        for index in range(max_iterations):
            yield IterationStarted(index=index, messages=list(result.messages))
            turn = _Turn(index, runner, on_tool_error, describe, result)
            # aclosing: the turn holds a task group, which must be closed in this task if we are closed.
            async with aclosing(
                turn.run(openai_client, model, request, handler_options or {})
            ) as turn_events:
                async for event in turn_events:
                    yield event
            if turn.finished:
                return
        yield RunFailed(
            MaxIterationsReached(
                f"Reached max_iterations={max_iterations} without waiting for user input.", result
            ),
            result,
        )
    except anyio.get_cancelled_exc_class() as exc:
        exc.result = result  # type: ignore[attr-defined]  # the conversation so far, for the canceller
        raise


class _Turn:
    """One model turn: stream it, start tools as their calls complete, append everything to the run."""

    def __init__(
        self,
        index: int,
        runner: _Tools,
        on_tool_error: OnToolError,
        describe: ToolErrorContent,
        result: StreamResult,
    ) -> None:
        self.index, self._runner, self._on_tool_error, self._result = index, runner, on_tool_error, result
        self._describe = describe
        self.finished = False
        self._raise: BaseException | None = None
        self._calls: list[_PendingCall] = []
        self._output: list[dict[str, Any]] = []

    async def run(
        self, client: Any, model: str, request: Mapping[str, Any], options: Mapping[str, Any]
    ) -> AsyncGenerator[LifecycleEvent, None]:
        closed = False
        async with anyio.create_task_group() as group:
            try:
                turn = self._stream_and_finish(client, model, request, options, group)
                async with aclosing(turn) as events:
                    async for event in events:
                        yield event
            except GeneratorExit:
                # The consumer closed us. anyio would wrap GeneratorExit in an exception group, so the
                # group ends here, cleanly, after its tools are cancelled.
                closed = True
            group.cancel_scope.cancel()  # a tool still running belongs to an abandoned turn
        if not closed and self._raise is not None:
            raise self._raise  # on_tool_error="raise": the tool's own exception, not a group of it

    async def _stream_and_finish(
        self,
        client: Any,
        model: str,
        request: Mapping[str, Any],
        options: Mapping[str, Any],
        group: anyio.abc.TaskGroup,
    ) -> AsyncGenerator[LifecycleEvent, None]:
        kwargs = {k: v for k, v in request.items() if k not in ("messages", "model", "stream")}
        try:
            upstream = await _open_stream(client, list(self._result.messages), model, kwargs)
        except Exception as exc:
            self.finished = True
            yield RunFailed(exc, self._result)
            return
        terminal = None
        async with _closing(upstream):  # closes the upstream HTTP response however this turn ends
            async for response_event in ChatCmplStreamHandler.handle_stream(None, upstream, model, **options):
                yield StreamEvent(response_event)
                terminal = self._on_event(response_event, group) or terminal
        async with aclosing(self._finish_turn(terminal, group)) as finishing:
            async for event in finishing:
                yield event

    def _on_event(self, event: ResponseStreamEvent, group: anyio.abc.TaskGroup) -> Any:
        if event.type == "response.output_item.done":
            item = event.item.model_dump(mode="json", exclude_none=True)
            self._output.append(item)
            if item["type"] == "function_call" and item.get("status") == "completed":
                call = _PendingCall(make_tool_call(item["call_id"], item["name"], item["arguments"]))
                self._calls.append(call)
                self._runner.start(group, call)
        elif event.type in ("response.completed", "response.incomplete", "response.failed"):
            return event.response
        return None

    async def _finish_turn(
        self, terminal: Any, group: anyio.abc.TaskGroup
    ) -> AsyncGenerator[LifecycleEvent, None]:
        result = self._result
        usage = _completion_usage(getattr(terminal, "usage", None))
        if usage is not None:
            result.usages.append(usage)
        status = getattr(terminal, "status", "failed")
        if status == "failed":
            # Everything received stays in the run's items, the items the failure cut included (status
            # incomplete: they were never announced done); none is replayed as a turn.
            received = getattr(terminal, "output", None)
            result.items.extend(
                [item.model_dump(mode="json", exclude_none=True) for item in received]
                if received
                else self._output
            )
            group.cancel_scope.cancel()
            self.finished = True
            error = getattr(terminal, "error", None)
            message = getattr(error, "message", "the model turn failed")
            yield RunFailed(UpstreamError(message, getattr(error, "code", None)), result)
            return
        result.items.extend(self._output)
        assistant_message = output_items_to_message(self._output)
        result.messages.append(assistant_message)
        yield IterationCompleted(self.index, usage, assistant_message, status)
        if status == "incomplete" or not self._calls:
            # A cut answer keeps its text and ends the run as incomplete; its (cut) calls are not run.
            group.cancel_scope.cancel()
            details = getattr(terminal, "incomplete_details", None)
            result.status = status
            result.incomplete_reason = getattr(details, "reason", None)
            self.finished = True
            yield RunCompleted(result)
            return
        # The seed's sequence, call by call (Started, [Failed,] Completed), although every tool started
        # as soon as its call was complete and they ran concurrently.
        for call in self._calls:
            yield ToolCallStarted(self.index, call.tool_call)
            await call.done.wait()
            async with aclosing(self._report(call, group)) as reporting:
                async for event in reporting:
                    yield event
            if self.finished:
                return

    async def _report(
        self, call: _PendingCall, group: anyio.abc.TaskGroup
    ) -> AsyncGenerator[LifecycleEvent, None]:
        if call.error is None:
            assert call.result is not None
            self._append_output(call, call.result)
            yield ToolCallCompleted(self.index, call.tool_call, call.result)
            return
        if self._on_tool_error == "emit":
            told = ToolResult(self._describe(call.tool_call, call.error), {"error": repr(call.error)})
            self._append_output(call, told)
            yield ToolCallFailed(self.index, call.tool_call, call.error, told)
            yield ToolCallCompleted(self.index, call.tool_call, told)
            return
        yield ToolCallFailed(self.index, call.tool_call, call.error)
        group.cancel_scope.cancel()
        self.finished = True
        if self._on_tool_error == "raise":
            self._raise = call.error  # raised by run() once the task group is closed
            return
        yield RunFailed(call.error, self._result)

    def _append_output(self, call: _PendingCall, told: ToolResult) -> None:
        self._result.messages.append(
            {"role": "tool", "tool_call_id": call.tool_call.id, "content": told.content}
        )
        self._result.items.append(
            {"type": "function_call_output", "call_id": call.tool_call.id, "output": told.content}
        )


async def stream_until_user_input(
    messages: Iterable[Mapping[str, Any]],
    model: str,
    openai_client: AsyncOpenAI | ChunkStreamer,
    *,
    stream_handler: ResponsesStreamHandler | None = None,
    tools: Sequence[Tool | ToolParam] | None = None,
    tool_invokers: Mapping[str, ToolInvoker] | None = None,
    stream_kwargs: Mapping[str, Any] | None = None,
    context: Any = None,
    max_iterations: int = 10,
    tool_call_output_callback: Callable[[ToolCall, str], Awaitable[None]] | None = None,
    fallback_invoker: Callable[[str], ToolInvoker | None] | None = None,
    on_tool_error: OnToolError = "emit",
    tool_timeout: float | None = None,
    tool_error_content: ToolErrorContent | None = None,
    handler_options: Mapping[str, Any] | None = None,
) -> StreamResult:
    """The callback form: stream events go to ``stream_handler``; returns the run's :class:`StreamResult`.

    Raises what ended the run (``MaxIterationsReached``, ``UpstreamError``, a tool's exception under
    ``abort``/``raise``); each carries ``.result`` with the conversation so far where it can.
    """
    handler = stream_handler or ResponsesStreamHandler()
    events = stream_until_user_input_events(
        messages,
        model,
        openai_client,
        tools=tools,
        tool_invokers=tool_invokers,
        stream_kwargs=stream_kwargs,
        context=context,
        max_iterations=max_iterations,
        fallback_invoker=fallback_invoker,
        on_tool_error=on_tool_error,
        tool_timeout=tool_timeout,
        tool_error_content=tool_error_content,
        handler_options=handler_options,
    )
    async with aclosing(events):
        async for event in events:
            if isinstance(event, StreamEvent):
                await handler.handle(event.event)
            elif isinstance(event, ToolCallCompleted) and tool_call_output_callback:
                await tool_call_output_callback(event.tool_call, event.result.content)
            elif isinstance(event, RunCompleted):
                return event.result
            elif isinstance(event, RunFailed):
                if not hasattr(event.exception, "result"):
                    event.exception.result = event.result  # type: ignore[attr-defined]
                raise event.exception
    raise RuntimeError("stream_until_user_input_events ended without a terminal event")  # pragma: no cover


class OpenAIStreamer:
    """A :class:`ChunkStreamer` over an ``AsyncOpenAI`` (or compatible) client (seed 0.6 name)."""

    def __init__(self, client: AsyncOpenAI) -> None:
        self._client = client

    async def stream(
        self, *, messages: list[dict[str, Any]], model: str, **kwargs: Any
    ) -> AsyncIterator[ChatCompletionChunk]:
        upstream = await _open_stream(self._client, messages, model, kwargs)
        async with _closing(upstream):
            async for chunk in upstream:
                yield chunk


def as_streamer(client: AsyncOpenAI | ChunkStreamer) -> ChunkStreamer:
    """``client`` as a :class:`ChunkStreamer` (a streamer is returned as it is); ``TypeError`` otherwise."""
    _check_client(client)
    if getattr(client, "chat", None) is not None:
        return OpenAIStreamer(cast(AsyncOpenAI, client))
    return cast(ChunkStreamer, client)


def _check_client(client: object) -> None:
    if getattr(client, "chat", None) is None and not callable(getattr(client, "stream", None)):
        raise TypeError(
            f"Cannot stream from {type(client).__name__}: expected an AsyncOpenAI client or an object "
            "with stream(*, messages, model, **kwargs) (a ChunkStreamer)"
        )


async def _open_stream(
    client: Any, messages: list[dict[str, Any]], model: str, kwargs: Mapping[str, Any]
) -> AsyncIterable[Any]:
    """The chunks of one streamed request: from an ``AsyncOpenAI``-style client (``chat.completions``),
    else from a seed 0.6 ``ChunkStreamer`` (``stream(messages=, model=, **kwargs)``)."""
    chat = getattr(client, "chat", None)
    if chat is not None:
        stream: AsyncIterable[Any] = await chat.completions.create(
            messages=messages, model=model, stream=True, **kwargs
        )
        return stream
    return cast(AsyncIterable[Any], client.stream(messages=messages, model=model, **kwargs))


@asynccontextmanager
async def _closing(stream: AsyncIterable[Any]) -> AsyncIterator[None]:
    """Close ``stream`` on exit, whatever kind it is (``AsyncStream.close``, an async generator's
    ``aclose``)."""
    try:
        yield
    finally:
        closer = getattr(stream, "close", None) or getattr(stream, "aclose", None)
        if closer is not None:
            closed = closer()
            if inspect.isawaitable(closed):
                await closed


# ---------------------------------------------------------------------------------------------- handler

_FAMILY_HOOKS: dict[str, str] = {
    "response.created": "on_response_created",
    "response.in_progress": "on_response_in_progress",
    "response.completed": "on_response_completed",
    "response.incomplete": "on_response_incomplete",
    "response.failed": "on_response_failed",
    "response.output_item.added": "on_output_item_added",
    "response.output_item.done": "on_output_item_done",
    "response.content_part.added": "on_content_part_added",
    "response.content_part.done": "on_content_part_done",
    "response.output_text.delta": "on_output_text_delta",
    "response.output_text.done": "on_output_text_done",
    "response.output_text.annotation.added": "on_output_text_annotation_added",
    "response.refusal.delta": "on_refusal_delta",
    "response.refusal.done": "on_refusal_done",
    "response.function_call_arguments.delta": "on_function_call_arguments_delta",
    "response.function_call_arguments.done": "on_function_call_arguments_done",
    "response.reasoning_summary_part.added": "on_reasoning_summary_part_added",
    "response.reasoning_summary_part.done": "on_reasoning_summary_part_done",
    "response.reasoning_summary_text.delta": "on_reasoning_summary_text_delta",
    "response.reasoning_summary_text.done": "on_reasoning_summary_text_done",
    "response.reasoning_text.delta": "on_reasoning_text_delta",
    "response.reasoning_text.done": "on_reasoning_text_done",
}

# The seed's chat-style hooks, fed from the Responses events that carry the same information.
_SEED_HOOKS: dict[str, str] = {
    "response.output_text.delta": "on_content_delta",
    "response.output_text.done": "on_content_done",
    "response.function_call_arguments.delta": "on_tool_calls_function_arguments_delta",
    "response.function_call_arguments.done": "on_tool_calls_function_arguments_done",
}
_SEED_LOGPROBS_HOOKS: dict[str, str] = {
    "response.output_text.delta": "on_logprobs_content_delta",
    "response.output_text.done": "on_logprobs_content_done",
}
# The openai SDK's chat stream events (``client.chat.completions.stream()``), which the seed's handler
# was also used on directly: routed to the hook of the same name, as the seed did.
_CHAT_EVENT_HOOKS: dict[str, str] = {
    "chunk": "on_chunk",
    "content.delta": "on_content_delta",
    "content.done": "on_content_done",
    "refusal.delta": "on_refusal_delta",
    "refusal.done": "on_refusal_done",
    "tool_calls.function.arguments.delta": "on_tool_calls_function_arguments_delta",
    "tool_calls.function.arguments.done": "on_tool_calls_function_arguments_done",
    "logprobs.content.delta": "on_logprobs_content_delta",
    "logprobs.content.done": "on_logprobs_content_done",
    "logprobs.refusal.delta": "on_logprobs_refusal_delta",
    "logprobs.refusal.done": "on_logprobs_refusal_done",
}


class ResponsesStreamHandler:
    """Override the hooks you need; every hook is a no-op by default.

    ``on_event`` sees every event; then one hook per Responses event family (``on_output_text_delta``…);
    then, for code written against the seed, its chat-style names: ``on_content_delta`` /
    ``on_content_done`` (output text), ``on_refusal_delta`` / ``on_refusal_done``,
    ``on_tool_calls_function_arguments_delta`` / ``_done``, ``on_logprobs_content_delta`` / ``_done``
    (when the text event carries logprobs). In the loop ``on_logprobs_refusal_*`` and ``on_chunk`` are
    never called: Responses refusal events carry no logprobs, and the loop sees normalised events, not raw
    chunks. Seed hooks receive the Responses event: same ``delta`` and final text fields, no ``snapshot``.

    ``handle`` also takes the openai SDK's chat stream events (``client.chat.completions.stream()``), as
    the seed's handler did, and calls the seed hook of the same name (``content.delta`` ->
    ``on_content_delta``…). ``ChatCompletionStreamHandler[T]`` is accepted, as the seed's class was generic.
    """

    def __class_getitem__(cls, _item: object) -> type[ResponsesStreamHandler]:
        return cls  # the seed's ChatCompletionStreamHandler[ResponseFormatT]

    async def handle(self, event: Any) -> None:
        await self.on_event(event)
        kind = event.type
        chat_hook = _CHAT_EVENT_HOOKS.get(kind)
        if chat_hook is not None:
            await getattr(self, chat_hook)(event)
            return
        family = _FAMILY_HOOKS.get(kind)
        if family is not None:
            await getattr(self, family)(event)
        seed = _SEED_HOOKS.get(kind)
        if seed is not None:
            await getattr(self, seed)(event)
        logprobs_hook = _SEED_LOGPROBS_HOOKS.get(kind)
        if logprobs_hook is not None and getattr(event, "logprobs", None):
            await getattr(self, logprobs_hook)(event)

    async def on_event(self, event: Any) -> None:
        """Called for every event before the specific hooks."""

    # One no-op per Responses event family.
    async def on_response_created(self, event: Any) -> None: ...
    async def on_response_in_progress(self, event: Any) -> None: ...
    async def on_response_completed(self, event: Any) -> None: ...
    async def on_response_incomplete(self, event: Any) -> None: ...
    async def on_response_failed(self, event: Any) -> None: ...
    async def on_output_item_added(self, event: Any) -> None: ...
    async def on_output_item_done(self, event: Any) -> None: ...
    async def on_content_part_added(self, event: Any) -> None: ...
    async def on_content_part_done(self, event: Any) -> None: ...
    async def on_output_text_delta(self, event: Any) -> None: ...
    async def on_output_text_done(self, event: Any) -> None: ...
    async def on_output_text_annotation_added(self, event: Any) -> None: ...
    async def on_refusal_delta(self, event: Any) -> None: ...
    async def on_refusal_done(self, event: Any) -> None: ...
    async def on_function_call_arguments_delta(self, event: Any) -> None: ...
    async def on_function_call_arguments_done(self, event: Any) -> None: ...
    async def on_reasoning_summary_part_added(self, event: Any) -> None: ...
    async def on_reasoning_summary_part_done(self, event: Any) -> None: ...
    async def on_reasoning_summary_text_delta(self, event: Any) -> None: ...
    async def on_reasoning_summary_text_done(self, event: Any) -> None: ...
    async def on_reasoning_text_delta(self, event: Any) -> None: ...
    async def on_reasoning_text_done(self, event: Any) -> None: ...

    # The seed's chat-style hooks.
    async def on_content_delta(self, event: Any) -> None: ...
    async def on_content_done(self, event: Any) -> None: ...
    async def on_tool_calls_function_arguments_delta(self, event: Any) -> None: ...
    async def on_tool_calls_function_arguments_done(self, event: Any) -> None: ...
    async def on_logprobs_content_delta(self, event: Any) -> None: ...
    async def on_logprobs_content_done(self, event: Any) -> None: ...
    async def on_logprobs_refusal_delta(self, event: Any) -> None: ...
    async def on_logprobs_refusal_done(self, event: Any) -> None: ...
    async def on_chunk(self, event: Any) -> None: ...


# The seed's name for the same base class.
ChatCompletionStreamHandler = ResponsesStreamHandler
