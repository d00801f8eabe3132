"""``ChatCmplStreamHandler``: the typed face of the core, and the drivers around it.

The state machine (``_translator.StreamTranslator``) speaks plain dicts, the wire form, so the HTTP bridge
and the wire path never build a pydantic model. This class turns each event into its
``openai.types.responses`` model (one validation per event, fast in pydantic-core) for Python users, and
adds the three drivers: ``translate`` (sync iterable), ``atranslate`` (async iterable) and
``ChatCmplStreamHandler.handle_stream`` (same shape as openai-agents' classmethod, so it drops in there).
"""

from __future__ import annotations

import typing
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Mapping
from typing import Any

from openai.types.responses import Response, ResponseStreamEvent
from pydantic import BaseModel

from ._ids import IdFactory
from ._translator import Event, ReasoningMode, StreamTranslator


def _event_classes() -> dict[str, type[BaseModel]]:
    """``type`` value → event model. openai marks the union's discriminator in its own metadata, which
    pydantic does not see: validating against the union would try each of its ~60 members in turn."""
    union = typing.get_args(ResponseStreamEvent)[0]
    classes: dict[str, type[BaseModel]] = {}
    for cls in typing.get_args(union):
        for literal in typing.get_args(cls.model_fields["type"].annotation):
            classes[literal] = cls
    return classes


_EVENT_CLASSES = _event_classes()


def to_event_model(event: Event) -> ResponseStreamEvent:
    """A wire-form event dict as its ``openai.types.responses`` model (``exclude_unset`` dumps it back)."""
    return _EVENT_CLASSES[event["type"]].model_validate(event)  # type: ignore[return-value]


class ChatCmplStreamHandler:
    """Translate one Chat Completions chunk stream into one Responses event stream.

    Sans-IO: ``feed(chunk)`` and ``finish()`` return the events they produce and never raise on bad input
    (a broken stream ends in ``response.failed``). ``feed_dicts``/``finish_dicts`` do the same in wire form.

    Options:
        response: the response template — model, instructions, tools, tool_choice, temperature… are echoed
            in every lifecycle event; an ``id`` starting ``resp_`` is kept.
        ids: id factory (``prefix -> id``); random unique ids by default, ``SequentialIds()`` for tests.
        reasoning: report raw reasoning (``reasoning_content``…) as a ``"summary"`` (default: what Codex and
            the Agents SDK display) or as ``"text"`` (``reasoning_text`` content).
        think_tags: parse ``<think>…</think>`` at the start of content as reasoning (default on).
        choice_index: the choice to translate when the request had n > 1 (others are ignored).
    """

    def __init__(
        self,
        *,
        response: Mapping[str, Any] | Response | None = None,
        ids: IdFactory | None = None,
        reasoning: ReasoningMode = "summary",
        think_tags: bool = True,
        choice_index: int = 0,
    ) -> None:
        template = (
            response.model_dump(mode="json", exclude_none=True)
            if isinstance(response, Response)
            else response
        )
        self._core = StreamTranslator(
            response=template, ids=ids, reasoning=reasoning, think_tags=think_tags, choice_index=choice_index
        )

    @property
    def response_id(self) -> str:
        return self._core.response_id

    @property
    def done(self) -> bool:
        """True once the terminal event has been produced; later input is ignored."""
        return self._core.done

    @property
    def status(self) -> str | None:
        """``completed`` / ``incomplete`` / ``failed`` once done."""
        return self._core.status

    def feed(self, chunk: Any) -> list[ResponseStreamEvent]:
        return [to_event_model(e) for e in self._core.feed(chunk)]

    def finish(self, *, error: BaseException | None = None) -> list[ResponseStreamEvent]:
        return [to_event_model(e) for e in self._core.finish(error=error)]

    def feed_dicts(self, chunk: Any) -> list[Event]:
        return self._core.feed(chunk)

    def finish_dicts(self, *, error: BaseException | None = None) -> list[Event]:
        return self._core.finish(error=error)

    @classmethod
    async def handle_stream(
        cls,
        response: Response | Mapping[str, Any] | None,
        stream: AsyncIterable[Any],
        model: str | None = None,
        **options: Any,
    ) -> AsyncIterator[ResponseStreamEvent]:
        """openai-agents' ``handle_stream(response, stream)``: the chunks of ``stream`` as Responses events.

        ``response`` is the template (agents passes a placeholder response); ``model`` fills in its model.
        An exception from ``stream`` ends the events with ``response.failed`` and is not re-raised, so the
        consumer always sees a terminal event. Other keyword arguments are handler options.
        """
        template: dict[str, Any] = {}
        if isinstance(response, Response):
            template = response.model_dump(mode="json", exclude_none=True)
        elif response is not None:
            template = dict(response)
        if model and not template.get("model"):
            template["model"] = model
        handler = cls(response=template, **options)
        async for event in _drive_async(handler, stream):
            yield event


def translate(chunks: Iterable[Any], **options: Any) -> Iterator[ResponseStreamEvent]:
    """Translate a whole chunk stream (dicts or ``ChatCompletionChunk``) into Responses events.

    An exception raised while iterating ``chunks`` (a dropped connection) becomes ``response.failed``.
    Options are those of :class:`ChatCmplStreamHandler`.
    """
    handler = ChatCmplStreamHandler(**options)
    try:
        for chunk in chunks:
            yield from handler.feed(chunk)
            if handler.done:
                return
    except Exception as exc:
        yield from handler.finish(error=exc)
        return
    yield from handler.finish()


async def atranslate(chunks: AsyncIterable[Any], **options: Any) -> AsyncIterator[ResponseStreamEvent]:
    """The async twin of :func:`translate`, e.g. over ``client.chat.completions.create(stream=True)``."""
    async for event in _drive_async(ChatCmplStreamHandler(**options), chunks):
        yield event


async def _drive_async(
    handler: ChatCmplStreamHandler, chunks: AsyncIterable[Any]
) -> AsyncIterator[ResponseStreamEvent]:
    try:
        async for chunk in chunks:
            for event in handler.feed(chunk):
                yield event
            if handler.done:
                return
    except Exception as exc:
        for event in handler.finish(error=exc):
            yield event
        return
    for event in handler.finish():
        yield event
