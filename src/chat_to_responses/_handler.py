"""``ChatCmplStreamHandler``: the typed face of the core, and the drivers around it.

The state machine (``_translator.StreamTranslator``) speaks plain dicts, the wire form, so the HTTP bridge
and the wire path never build a pydantic model. This class turns each event into its
``openai.types.responses`` model (one pydantic-core validation per event, against the event's own class,
and for an output item or content part against the member of openai's union named by its ``type``) for
Python users, and adds the three drivers: ``translate`` (sync iterable), ``atranslate`` (async iterable) and
``ChatCmplStreamHandler.handle_stream`` (same shape as openai-agents' classmethod, so it drops in there).
"""

from __future__ import annotations

import functools
import typing
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator, Mapping
from typing import Any, Final

from openai.types.responses import (
    Response,
    ResponseContentPartAddedEvent,
    ResponseOutputItem,
    ResponseStreamEvent,
)
from pydantic import BaseModel

from ._ids import IdFactory
from ._translator import Event, ReasoningMode, StreamTranslator


def _members_by_type(union: Any) -> dict[str, type[BaseModel]]:
    """``type`` value → member model of one of openai's unions of models (events, output items, parts).

    openai marks these unions' discriminator in its own metadata, which pydantic does not see: validating
    against such a union tries its members in turn (~60 events, ~25 output items), 30 µs for one output
    item. Picking the member by ``type`` first makes it one validation, with the same result: ``type`` is a
    required literal, so no other member could accept the value. A ``type`` shared by two members is left
    to pydantic, and so is a union with any member that is not a model with a ``type`` (empty mapping).
    """
    if typing.get_origin(union) is typing.Annotated:
        union = typing.get_args(union)[0]
    classes: dict[str, type[BaseModel]] = {}
    shared: set[str] = set()
    for cls in typing.get_args(union):
        field = cls.model_fields.get("type") if isinstance(cls, type) and issubclass(cls, BaseModel) else None
        if field is None or not field.is_required():
            return {}
        for literal in typing.get_args(field.annotation):
            if literal in classes:
                shared.add(literal)
            classes[literal] = cls
    return {literal: cls for literal, cls in classes.items() if literal not in shared}


# openai-agents' own handle_stream keywords (their meaning: ``_agents_stream``).
# (``require_finish_reason`` is a handler option too: alone, it keeps the stream rules.)
_AGENTS_KEYWORDS: Final = frozenset(
    {"strict_feature_validation", "preserve_raw_usage", "raise_on_length_truncation"}
)
_EVENT_CLASSES: Final = _members_by_type(ResponseStreamEvent)
_ITEM_CLASSES: Final = _members_by_type(ResponseOutputItem)
_PART_CLASSES: Final = _members_by_type(ResponseContentPartAddedEvent.model_fields["part"].annotation)


def to_event_model(event: Event) -> ResponseStreamEvent:
    """A wire-form event dict as its ``openai.types.responses`` model (``exclude_unset`` dumps it back)."""
    build = _builders.get(event["type"]) or _builder(event["type"])
    return build(event)  # type: ignore[no-any-return]


_builders: dict[str, Callable[[Event], Any]] = {}


def _builder(event_type: str) -> Callable[[Event], Any]:
    """How to build one type of event, worked out on its first use (openai builds its models lazily too)."""
    cls = _EVENT_CLASSES[event_type]
    validate = cls.__pydantic_validator__.validate_python  # model_validate minus a Python call around it
    fields = cls.model_fields
    prepare: Callable[[Event], Event]
    if "item" in fields:
        prepare = functools.partial(_with_member, key="item", classes=_ITEM_CLASSES)
    elif "part" in fields:
        prepare = functools.partial(_with_member, key="part", classes=_PART_CLASSES)
    elif "response" in fields:
        prepare = _with_output_members
    else:
        _builders[event_type] = validate
        return validate

    def build(event: Event) -> Any:
        return validate(prepare(event))

    _builders[event_type] = build
    return build


def _member(classes: Mapping[str, type[BaseModel]], value: Any) -> Any:
    """A union member's dict as its model, validated against that one class (see ``_members_by_type``)."""
    member_type = value.get("type") if isinstance(value, dict) else None
    cls = classes.get(member_type) if isinstance(member_type, str) else None
    return value if cls is None else cls.model_validate(value)


def _with_member(event: Event, key: str, classes: Mapping[str, type[BaseModel]]) -> Event:
    return {**event, key: _member(classes, event[key])} if key in event else event


def _with_output_members(event: Event) -> Event:
    response = event.get("response")
    if not isinstance(response, dict) or not isinstance(response.get("output"), list):
        return event
    output = [_member(_ITEM_CLASSES, item) for item in response["output"]]
    return {**event, "response": {**response, "output": output}}


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
        require_finish_reason: a stream that ends without any ``finish_reason`` is ``response.failed`` (it
            was cut) rather than ``completed``. Off by default: vLLM-hosted models and Snowflake end cleanly
            without one; turn it on for upstreams that always send it (OpenAI does).
    """

    def __init__(
        self,
        *,
        response: Mapping[str, Any] | Response | None = None,
        ids: IdFactory | None = None,
        reasoning: ReasoningMode = "summary",
        think_tags: bool = True,
        choice_index: int = 0,
        require_finish_reason: bool = False,
    ) -> None:
        template = (
            response.model_dump(mode="json", exclude_none=True)
            if isinstance(response, Response)
            else response
        )
        self._core = StreamTranslator(
            response=template,
            ids=ids,
            reasoning=reasoning,
            think_tags=think_tags,
            choice_index=choice_index,
            require_finish_reason=require_finish_reason,
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
        return list(map(to_event_model, self._core.feed(chunk)))

    def finish(self, *, error: BaseException | None = None) -> list[ResponseStreamEvent]:
        return list(map(to_event_model, self._core.finish(error=error)))

    def feed_dicts(self, chunk: Any) -> list[Event]:
        return self._core.feed(chunk)

    def finish_dicts(self, *, error: BaseException | None = None) -> list[Event]:
        return self._core.finish(error=error)

    @classmethod
    def handle_stream(
        cls,
        response: Response | Mapping[str, Any] | None,
        stream: AsyncIterable[Any],
        model: str | None = None,
        **options: Any,
    ) -> AsyncIterator[ResponseStreamEvent]:
        """openai-agents' ``handle_stream(response, stream)``: the chunks of ``stream`` as Responses events.

        ``response`` is the template (agents passes a placeholder response); ``model`` fills in its model.
        An exception from ``stream`` ends the events with ``response.failed`` and is not re-raised, so the
        consumer always sees a terminal event. Other keyword arguments are handler options, or agents'
        own (``strict_feature_validation``, ``preserve_raw_usage``, ``raise_on_length_truncation``; and
        ``require_finish_reason``, which raises agents' ``ModelBehaviorError`` under agents' contract).

        agents' calling convention — an openai ``Response`` placeholder (with openai-agents installed) or
        any of agents' keywords — selects agents' contract (``_agents_stream``): a ``length`` /
        ``content_filter`` cut completes with the text received, agents' exceptions where agents raises,
        signatures also in the items' ``provider_data``. That is what agents' own models (and
        ``ChatCmplModel``) are built on. A ``dict`` template (or ``None``) keeps the stream rules:
        ``response.incomplete`` for a cut, ``response.failed`` for anything broken.
        """
        template = placeholder_template(response, model)
        agents_options = {k: options.pop(k) for k in list(options) if k in _AGENTS_KEYWORDS}
        if not agents_options and not (isinstance(response, Response) and _agents_installed()):
            return cls(response=template, **options)._drive_async(stream)
        from ._agents_stream import handle_as_agents

        agents_options["require_finish_reason"] = options.pop("require_finish_reason", False)
        return handle_as_agents(cls(response=template, **options), response, stream, model, agents_options)

    @staticmethod
    def buffer_tool_call_stream(stream: AsyncIterable[Any]) -> AsyncIterator[Any]:
        """openai-agents' opt-in pre-buffer (``buffer_streamed_tool_calls``): function-call fragments come
        as one chunk of whole calls after the stream (needs openai-agents). The handler does not need it:
        it never announces a call done before its arguments are whole."""
        from ._agents_stream import buffer_tool_call_stream

        return buffer_tool_call_stream(stream)

    async def _drive_async(self, chunks: AsyncIterable[Any]) -> AsyncIterator[ResponseStreamEvent]:
        """The one async generator between the chunks and the consumer (``handle_stream`` and
        ``atranslate`` return it rather than wrap it): each layer would cost every event a resumption, and
        so would a list per chunk."""
        core = self._core
        try:
            async for chunk in chunks:
                for wire_event in core.feed(chunk):
                    yield to_event_model(wire_event)
                if core.done:
                    return
        except Exception as exc:
            for event in self.finish(error=exc):
                yield event
            return
        for event in self.finish():
            yield event


def placeholder_template(response: Response | Mapping[str, Any] | None, model: str | None) -> dict[str, Any]:
    """The handler's response template from ``handle_stream``'s ``response`` (agents' placeholder) and
    ``model``."""
    template: dict[str, Any] = {}
    if isinstance(response, Response):
        template = response.model_dump(mode="json", exclude_none=True)
    elif response is not None:
        template = dict(response)
    if model and not template.get("model"):
        template["model"] = model
    return template


@functools.cache
def _agents_installed() -> bool:
    try:
        import agents.exceptions  # noqa: F401
    except ImportError:
        return False
    return True


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


def atranslate(chunks: AsyncIterable[Any], **options: Any) -> AsyncIterator[ResponseStreamEvent]:
    """The async twin of :func:`translate`, e.g. over ``client.chat.completions.create(stream=True)``."""
    return ChatCmplStreamHandler(**options)._drive_async(chunks)
