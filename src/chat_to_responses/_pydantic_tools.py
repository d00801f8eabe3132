"""Pydantic models as strict-mode chat tools: a schema for the model, a validating invoker for the loop.

API-compatible with the seed library's ``utils/pydantic_to_tool.py`` (``PydanticToolConfig``,
``pydantic_to_tool``, ``build_pydantic_tools_and_invokers``), with its two schema bugs fixed.

Strict mode (``"strict": true``) makes an OpenAI-compatible backend constrain the model's output to the
schema, so the arguments always parse. The price is a subset of JSON Schema:

- every object has ``additionalProperties: false`` and lists *all* of its properties in ``required`` (the
  model always sends every key; "optional" is spelled as "nullable");
- ``default`` is not permitted (OpenAI rejects it: ``'default' is not permitted``; Azure too);
- the root is an object; ``$defs`` / ``$ref`` are allowed, but a ``$ref`` may not have sibling keywords;
- ``anyOf`` is supported, ``oneOf`` is not.

What the pydantic schema is turned into, and why:

- ``title`` *annotations* are removed (noise for the model). Only the keyword is removed: a property or a
  ``$defs`` entry that happens to be named ``title`` is kept (the seed removed every key named ``title``,
  so ``class Issue(BaseModel): title: str`` lost its ``title`` field). The walk follows the JSON Schema
  structure (``properties``, ``$defs``, ``items``, ``anyOf``…) and never enters values such as ``enum``
  or ``examples``.
- A field with a default is required but **nullable** (``anyOf: [<schema>, {"type": "null"}]``), and its
  description states the default. Before validation the invoker removes the keys whose value is null and
  whose field "takes null as the default" (rule below), so pydantic applies the default. (The seed made
  such fields plainly required: the model always had to invent a value and a default never applied.)
  When null means the default: the field does not accept null itself, or its default is ``None``, or its
  default comes from a ``default_factory``. A field that accepts null *and* has a literal default
  (``timeout: float | None = 30``) keeps null as a value (``None``): its description shows the default,
  which the model sends to get it. A field that is ``Optional`` without a default keeps null.
- ``oneOf`` becomes ``anyOf`` (pydantic's discriminated unions: the variants are disjoint, so it is the same
  set of values) and ``discriminator`` is dropped; ``const`` becomes a one-value ``enum``; a single-entry
  ``allOf`` is merged; a ``$ref`` with siblings (a nested model field with a description) is inlined, as the
  openai SDK's ``to_strict_json_schema`` does, except inside its own definition (recursive models), where
  the bare ``$ref`` is kept.
- A free-form mapping (``dict[str, X]``) cannot be expressed in strict mode; such a schema is sent with
  ``"strict": false`` (the invoker still validates every call).

The invoker parses the arguments as JSON, removes the null defaults and validates in pydantic's JSON mode.
Arguments that do not fit raise pydantic's ``ValidationError`` (as in the seed, so ``on_tool_error="raise"``
raises it); the loop's default error content tells the model one compact line per error (field path,
message, the value received) so it can retry. A ``ValidationError`` raised by *your* handler is not the
model's mistake and is not described to it.

:func:`get_strict_json_schema` (the seed's ``utils.get_strict_json_schema``) builds a strict
``response_format`` from a model with the same rewrite, except that a field with a default is plainly
required (not nullable): the answer is validated by your own ``model_validate_json``, which would reject
null for a non-nullable field.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from openai.types.shared_params import FunctionDefinition, ResponseFormatJSONSchema
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from ._tools import ToolCall, ToolInvoker, ToolParam, args_from_tool_call, check_invoker

__all__ = [
    "PydanticToolConfig",
    "PydanticToolHandlerFn",
    "build_pydantic_tools_and_invokers",
    "camel_to_snake",
    "describe_argument_error",
    "drop_null_defaults",
    "get_strict_json_schema",
    "pydantic_to_tool",
    "strict_parameters",
]

ModelT = TypeVar("ModelT", bound=BaseModel)
ModelT_co = TypeVar("ModelT_co", bound=BaseModel, covariant=True)
Schema = dict[str, Any]

PydanticToolHandlerFn = Callable[[Any, Any], Awaitable[Any]]
"""``async (validated_model, context) -> str | ToolResult | dict | list | BaseModel`` (seed name)."""

_FACTORY_KEY = "x-chat-to-responses-default-factory"
"""Marks, in the intermediate pydantic schema, a field whose default comes from a ``default_factory``."""

_PURE_FACTORIES: tuple[Any, ...] = (list, dict, set, frozenset, tuple, str, int, float, bool)
"""Factories called to show the default in the description (no side effects, constant result)."""

_MISSING: Any = object()
_NULL: Schema = {"type": "null"}
_SCHEMA_MAPS = ("properties", "$defs", "definitions", "patternProperties")
_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_SCHEMA_SINGLE = ("items", "additionalProperties", "not", "contains")
_DROPPED_KEYWORDS = ("title", "default", "discriminator", _FACTORY_KEY)
_MAX_ERRORS = 20
_ARGUMENTS_OF = "_chat_to_responses_arguments_of"
"""Set on a ``ValidationError`` raised for a tool's arguments (the tool's name): the model's mistake."""


@dataclass(frozen=True)
class PydanticToolConfig(Generic[ModelT_co]):
    """One pydantic-backed tool: ``invoker(validated_model, context)`` runs it.

    Generic in the model, so a type checker matches ``invoker``'s first parameter to ``model``; covariant,
    so a list of configs for different models is a ``Sequence[PydanticToolConfig[BaseModel]]``.
    """

    model: type[ModelT_co]
    invoker: Callable[[ModelT_co, Any], Awaitable[Any]]
    name: str | None = None
    description: str | None = None


def pydantic_to_tool(
    model: type[BaseModel], *, name: str | None = None, description: str | None = None
) -> ToolParam:
    """The chat tool for ``model``: strict-mode parameters, the model's snake_case name and docstring."""
    return _tool_from_schema(model, _source_schema(model), name=name, description=description)


def build_pydantic_tools_and_invokers(
    configs: Sequence[PydanticToolConfig[Any]],
) -> tuple[list[ToolParam], dict[str, ToolInvoker]]:
    """``(tools, invokers)`` for the tool loop.

    ``ValueError`` if two tools get the same name; ``TypeError`` if an invoker is not
    ``async def f(args: Model, context)`` (it would fail on every call, see ``check_invoker``).
    """
    tools: list[ToolParam] = []
    invokers: dict[str, ToolInvoker] = {}
    for config in configs:
        source = _source_schema(config.model)
        tool = _tool_from_schema(config.model, source, name=config.name, description=config.description)
        tool_name = tool["function"]["name"]
        if tool_name in invokers:
            raise ValueError(f"Duplicate Pydantic tool name: {tool_name}")
        check_invoker(config.invoker, tool_name, f"args: {config.model.__name__}")
        tools.append(tool)
        invokers[tool_name] = _make_invoker(config.model, config.invoker, tool_name, source)
    return tools, invokers


def get_strict_json_schema(model: type[BaseModel]) -> ResponseFormatJSONSchema:
    """A strict ``response_format`` for ``model`` (seed-compatible): its schema rewritten for strict mode
    (see the module docstring), named after the class, its docstring as the description."""
    source = _source_schema(model)
    schema = _Strictifier(source, nullable_defaults=False).node(source)
    return {
        "type": "json_schema",
        "json_schema": {
            "name": re.sub(r"[^A-Za-z0-9_-]+", "_", model.__name__)[:64],  # Page[int] -> Page_int_
            "description": inspect.cleandoc(model.__doc__ or ""),
            "schema": schema,
            "strict": _is_strict(schema),
        },
    }


def strict_parameters(schema: Schema) -> Schema:
    """Any JSON schema (an MCP tool's, say) rewritten for strict mode as a pydantic tool's is: titles
    and defaults out, every object closed with all its properties required, optional ones nullable.
    Whether the result is strict-valid is for the caller to check (free-form maps are not)."""
    return _Strictifier(schema).node(schema)


def drop_null_defaults(arguments: dict[str, Any], schema: Schema) -> dict[str, Any]:
    """``arguments`` without the nulls that stand for "use the default" under :func:`strict_parameters`
    (``schema`` is the source schema, before the rewrite)."""
    return cast(dict[str, Any], _drop_null_defaults(arguments, schema, schema))


def describe_argument_error(tool_name: str, exc: BaseException) -> str | None:
    """What the model is told about a pydantic tool's arguments that did not validate (None for any other
    exception, including a ``ValidationError`` from the tool's own code)."""
    if isinstance(exc, ValidationError) and getattr(exc, _ARGUMENTS_OF, None) is not None:
        return _describe_errors(tool_name, exc)
    return None


# --- the tool --------------------------------------------------------------------------------------------


def camel_to_snake(name: str) -> str:
    """``IssueComment`` -> ``issue_comment``, ``HTTPRequest`` -> ``http_request`` (the seed's rule)."""
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    return re.sub(r"([a-z\d])([A-Z])", r"\1_\2", name).lower()


def _tool_name(model: type[BaseModel]) -> str:
    """The model's snake_case name, with only the characters OpenAI allows."""
    return re.sub(r"[^a-z0-9_-]+", "_", camel_to_snake(model.__name__)).strip("_")[:64] or "tool"


def _tool_from_schema(
    model: type[BaseModel], source: Schema, *, name: str | None, description: str | None
) -> ToolParam:
    tool_name = name or _tool_name(model)
    tool_description = description if description is not None else inspect.cleandoc(model.__doc__ or "")
    parameters = _Strictifier(source).node(source)
    if tool_description and parameters.get("description") == tool_description:
        del parameters["description"]  # already the tool's description
    function: FunctionDefinition = {
        "name": tool_name,
        "parameters": parameters,
        "strict": _is_strict(parameters),
    }
    if tool_description:
        function["description"] = tool_description
    return {"type": "function", "function": function}


class _MarkDefaultFactories(GenerateJsonSchema):
    """pydantic's schema, plus a marker on fields whose default comes from a factory (pydantic omits it)."""

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        json_schema = super().default_schema(schema)
        factory = schema.get("default_factory")
        if factory is not None and "default" not in json_schema:
            marker: Schema = {}
            if factory in _PURE_FACTORIES and not schema.get("default_factory_takes_data"):
                marker["value"] = self.encode_default(cast(Callable[[], Any], factory)())
            json_schema[_FACTORY_KEY] = marker
        return json_schema


def _source_schema(model: type[BaseModel]) -> Schema:
    return model.model_json_schema(mode="validation", schema_generator=_MarkDefaultFactories)


def _resolve(root: Schema, ref: str) -> Schema:
    if not ref.startswith("#/"):
        raise ValueError(f"unsupported $ref {ref!r} (only local #/... references)")
    target: Any = root
    for part in ref[2:].split("/"):
        target = target[part.replace("~1", "/").replace("~0", "~")]
    if not isinstance(target, dict):
        raise ValueError(f"$ref {ref!r} does not point to a schema")
    return target


def _deref(schema: Schema, root: Schema) -> Schema:
    """The schema a ``$ref`` (or a one-entry ``allOf``) stands for, following chains."""
    for _ in range(32):
        ref = schema.get("$ref")
        all_of = schema.get("allOf")
        if isinstance(ref, str):
            schema = _resolve(root, ref)
        elif isinstance(all_of, list) and len(all_of) == 1 and isinstance(all_of[0], dict):
            schema = all_of[0]
        else:
            break
    return schema


def _accepts_null(schema: Schema, root: Schema, depth: int = 0) -> bool:
    """Whether a (pydantic) schema accepts JSON null."""
    schema = _deref(schema, root)
    kind = schema.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return True
    if "const" in schema:
        return schema["const"] is None
    if "enum" in schema:
        return any(value is None for value in schema["enum"])
    variants = [*schema.get("anyOf", ()), *schema.get("oneOf", ())]
    if variants:
        return depth < 16 and any(_accepts_null(v, root, depth + 1) for v in variants if isinstance(v, dict))
    all_of = schema.get("allOf")
    if isinstance(all_of, list) and all_of:
        return depth < 16 and all(_accepts_null(v, root, depth + 1) for v in all_of if isinstance(v, dict))
    return kind is None and "not" not in schema  # no constraint at all (``Any``)


def _null_means_default(prop: Schema, required: bool, root: Schema) -> bool:
    """Whether null sent for this property stands for "use the default" (see the module docstring)."""
    if required:
        return False
    if "default" not in prop:
        return True  # default_factory (or a default pydantic could not encode)
    return prop["default"] is None or not _accepts_null(prop, root)


def _default_note(prop: Schema, null_is_default: bool) -> str:
    shown = prop["default"] if "default" in prop else prop.get(_FACTORY_KEY, {}).get("value", _MISSING)
    if shown is _MISSING:
        return "Has a default; send null to use it."
    text = json.dumps(shown, ensure_ascii=False)
    if len(text) > 200:
        text = text[:199] + "…"
    if shown is None or not null_is_default:
        return f"Default: {text}."
    return f"Default: {text} (send null to use it)."


def _with_note(description: Any, note: str) -> str:
    if not isinstance(description, str) or not description.strip():
        return note
    text = description.rstrip()
    return f"{text} {note}" if text.endswith((".", "!", "?", ":")) else f"{text}. {note}"


class _Strictifier:
    """Rewrites a pydantic JSON schema (read-only) into a new strict-mode schema."""

    def __init__(self, root: Schema, *, nullable_defaults: bool = True) -> None:
        self.root = root
        self.expanding: list[str] = []
        self.nullable_defaults = nullable_defaults

    def node(self, schema: Schema) -> Schema:
        schema = {k: v for k, v in schema.items() if k not in _DROPPED_KEYWORDS}
        all_of = schema.get("allOf")
        if isinstance(all_of, list) and len(all_of) == 1 and isinstance(all_of[0], dict):
            rest = {k: v for k, v in schema.items() if k != "allOf"}
            return self.node({**all_of[0], **rest})
        if "oneOf" in schema and "anyOf" not in schema:
            schema = {("anyOf" if k == "oneOf" else k): v for k, v in schema.items()}
        if "const" in schema and "enum" not in schema:
            schema = {
                ("enum" if k == "const" else k): ([v] if k == "const" else v) for k, v in schema.items()
            }
        ref = schema.get("$ref")
        if isinstance(ref, str) and len(schema) > 1:
            return self._inline(ref, schema)
        return self._object(schema, {key: self._keyword(key, value, schema) for key, value in schema.items()})

    def _keyword(self, key: str, value: Any, schema: Schema) -> Any:
        if key == "properties" and isinstance(value, dict):
            required = set(schema.get("required", ()))
            return {name: self._property(prop, name in required) for name, prop in value.items()}
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            return {name: self.node(sub) if isinstance(sub, dict) else sub for name, sub in value.items()}
        if key in _SCHEMA_LISTS and isinstance(value, list):
            return [self.node(sub) if isinstance(sub, dict) else sub for sub in value]
        if key in _SCHEMA_SINGLE and isinstance(value, dict):
            return self.node(value)
        return value

    @staticmethod
    def _object(source: Schema, out: Schema) -> Schema:
        properties = out.get("properties")
        if isinstance(properties, dict):
            out["required"] = list(properties)
            if not isinstance(out.get("additionalProperties"), dict):
                out["additionalProperties"] = False
        elif source.get("type") == "object" and "additionalProperties" not in out:
            out["additionalProperties"] = False
        return out

    def _inline(self, ref: str, schema: Schema) -> Schema:
        """``{"$ref": r, "description": d}`` -> the referenced schema with ``d`` (not inside itself)."""
        siblings = {k: v for k, v in schema.items() if k != "$ref"}
        if ref in self.expanding:
            return {"$ref": ref}
        self.expanding.append(ref)
        try:
            return self.node({**_resolve(self.root, ref), **siblings})
        finally:
            self.expanding.pop()

    def _property(self, prop: Any, required: bool) -> Any:
        if not isinstance(prop, dict):
            return prop
        if required or not self.nullable_defaults:
            return self.node(prop)
        null_is_default = _null_means_default(prop, required, self.root)
        core = self.node({k: v for k, v in prop.items() if k != "description"})
        if not _accepts_null(prop, self.root):
            variants = core.get("anyOf")
            if set(core) == {"anyOf"} and isinstance(variants, list):
                core = {"anyOf": [*variants, _NULL]}
            else:
                core = {"anyOf": [core, _NULL]}
        note = _default_note(prop, null_is_default)
        return {**core, "description": _with_note(prop.get("description"), note)}


def _is_strict(schema: Any) -> bool:
    """Whether every object in the schema is closed and requires all its properties."""
    if isinstance(schema, list):
        return all(_is_strict(item) for item in schema)
    if not isinstance(schema, dict):
        return True
    if schema.get("type") == "object" or "properties" in schema:
        properties = schema.get("properties", {})
        if schema.get("additionalProperties") is not False or schema.get("required", []) != list(properties):
            return False
    for key, value in schema.items():
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            value = list(value.values())
        if key in (*_SCHEMA_MAPS, *_SCHEMA_LISTS, *_SCHEMA_SINGLE) and not _is_strict(value):
            return False
    return True


# --- the invoker -----------------------------------------------------------------------------------------


def _make_invoker(
    model: type[ModelT], handler: Callable[[ModelT, Any], Awaitable[Any]], tool_name: str, source: Schema
) -> ToolInvoker:
    async def invoke(tool_call: ToolCall, context: Any) -> Any:
        arguments = _drop_null_defaults(args_from_tool_call(tool_call), source, source)
        try:
            validated = model.model_validate_json(json.dumps(arguments))
        except ValidationError as exc:
            setattr(exc, _ARGUMENTS_OF, tool_name)  # the model's mistake, not the handler's
            raise
        return await handler(validated, context)

    return invoke


def _drop_null_defaults(value: Any, schema: Schema, root: Schema) -> Any:
    """``value`` without the null entries that stand for a default, at every depth the schema describes."""
    schema = _deref(schema, root)
    if isinstance(value, dict):
        properties = schema.get("properties")
        if isinstance(properties, dict):
            return _drop_in_object(value, properties, set(schema.get("required", ())), root)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            return {key: _drop_null_defaults(item, extra, root) for key, item in value.items()}
    elif isinstance(value, list):
        items, prefix = schema.get("items"), schema.get("prefixItems")
        if isinstance(prefix, list):
            return [
                _drop_null_defaults(item, prefix[i], root)
                if i < len(prefix) and isinstance(prefix[i], dict)
                else item
                for i, item in enumerate(value)
            ]
        if isinstance(items, dict):
            return [_drop_null_defaults(item, items, root) for item in value]
    else:
        return value
    variant = _pick_variant(value, schema, root)
    return value if variant is None else _drop_null_defaults(value, variant, root)


def _drop_in_object(
    value: dict[str, Any], properties: dict[str, Any], required: set[str], root: Schema
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, item in value.items():
        prop = properties.get(key)
        if not isinstance(prop, dict):
            out[key] = item
        elif item is None and _null_means_default(prop, key in required, root):
            continue
        else:
            out[key] = _drop_null_defaults(item, prop, root)
    return out


def _pick_variant(value: dict[str, Any] | list[Any], schema: Schema, root: Schema) -> Schema | None:
    """The union variant ``value`` is meant for, when it can be told (else None: nothing is dropped)."""
    mapped = _discriminated_variant(value, schema, root)
    if mapped is not None:
        return mapped
    variants = [
        _deref(v, root) for v in (*schema.get("anyOf", ()), *schema.get("oneOf", ())) if isinstance(v, dict)
    ]
    if isinstance(value, list):
        arrays = [v for v in variants if v.get("type") == "array" or "items" in v or "prefixItems" in v]
        return arrays[0] if len(arrays) == 1 else None
    objects = [v for v in variants if isinstance(v.get("properties"), dict) and _fits(value, v["properties"])]
    exact = [v for v in objects if set(v["properties"]) == set(value)]
    best = exact or objects
    return best[0] if best else None


def _discriminated_variant(value: object, schema: Schema, root: Schema) -> Schema | None:
    discriminator = schema.get("discriminator")
    if not isinstance(value, dict) or not isinstance(discriminator, dict):
        return None
    mapping = discriminator.get("mapping")
    tag = value.get(discriminator.get("propertyName", ""))
    if isinstance(mapping, dict) and isinstance(tag, str) and isinstance(mapping.get(tag), str):
        return _resolve(root, mapping[tag])
    return None


def _fits(value: dict[str, Any], properties: dict[str, Any]) -> bool:
    """Whether an object could belong to a variant: known keys, and matching ``const`` / ``enum`` tags."""
    for key, item in value.items():
        prop = properties.get(key)
        if not isinstance(prop, dict):
            return False
        if "const" in prop and item != prop["const"]:
            return False
        if isinstance(prop.get("enum"), list) and item not in prop["enum"]:
            return False
    return True


def _describe_errors(tool_name: str, exc: ValidationError) -> str:
    """One line per error: ``- items[0].name: Field required`` (no pydantic URLs, no model internals)."""
    errors = exc.errors(include_url=False, include_context=False)
    lines = [f"Invalid arguments for tool {tool_name!r}; fix them and call the tool again:"]
    for error in errors[:_MAX_ERRORS]:
        line = f"- {_error_path(error['loc'])}: {error['msg']}"
        if error["type"] != "missing" and "input" in error:
            line += f" (got {_short_json(error['input'])})"
        lines.append(line)
    if len(errors) > _MAX_ERRORS:
        lines.append(f"- … and {len(errors) - _MAX_ERRORS} more")
    return "\n".join(lines)


def _error_path(loc: Sequence[int | str]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "arguments"


def _short_json(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, default=repr)
    except ValueError:  # circular
        text = repr(value)
    return text if len(text) <= 80 else text[:79] + "…"
