"""Pydantic tools: the strict-mode schema (seed bugs fixed) and the validating invoker."""

from __future__ import annotations

import enum
import json
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, Field, ValidationError

from chat_to_responses._pydantic_tools import (
    PydanticToolConfig,
    build_pydantic_tools_and_invokers,
    camel_to_snake,
    describe_argument_error,
    get_strict_json_schema,
    pydantic_to_tool,
)
from chat_to_responses._tools import ToolInputError, ToolResult, make_tool_call


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# --- models ----------------------------------------------------------------------------------------------


class Priority(enum.Enum):
    LOW = "low"
    HIGH = "high"


class Label(BaseModel):
    """A label on the issue."""

    name: str
    color: str = "grey"


class Assignee(BaseModel):
    login: str
    title: str | None = Field(description="Job title, if known.")


class CreateIssue(BaseModel):
    """Create an issue in the tracker.

    Call it once per issue.
    """

    title: str = Field(description="Short summary.")
    description: str = Field(description="The body, in Markdown.")
    estimate: int = Field(default=1, description="Story points")
    component: str = "core"
    tags: list[str] = Field(default_factory=list)
    milestone: str | None
    priority: Priority = Priority.LOW
    kind: Literal["bug", "feature"] = "bug"
    assignee: Assignee
    reviewer: Assignee | None = None
    labels: list[Label]


class Issue(BaseModel):
    title: str


class Node(BaseModel):
    """A tree."""

    name: str
    children: list[Node] = Field(default_factory=list)
    weight: int = 1


class Circle(BaseModel):
    shape: Literal["circle"]
    radius: float = 1.0


class Square(BaseModel):
    shape: Literal["square"]
    side: float = 2.0


class Draw(BaseModel):
    figure: Annotated[Circle | Square, Field(discriminator="shape")]
    main: Label = Field(description="The main label.")
    extra: Label | int = 0


class Wait(BaseModel):
    timeout: float | None = 30.0
    note: str | None = None


class KeywordNames(BaseModel):
    title: str
    description: str
    default: int = 0
    type: str
    properties: list[str]
    required: bool


class Tally(BaseModel):
    counts: dict[str, int]


ISSUE_ARGS: dict[str, Any] = {
    "title": "Crash on start",
    "description": "It crashes.",
    "estimate": 3,
    "component": "ui",
    "tags": ["p1"],
    "milestone": None,
    "priority": "high",
    "kind": "feature",
    "assignee": {"login": "ana", "title": "Engineer"},
    "reviewer": None,
    "labels": [{"name": "bug", "color": "red"}],
}


# --- an OpenAI strict-mode checker -----------------------------------------------------------------------

_MAPS = ("properties", "$defs", "definitions")
_LISTS = ("anyOf", "allOf", "prefixItems")
_SINGLE = ("items", "additionalProperties", "not")
_BANNED = ("default", "title", "oneOf", "discriminator", "const")  # title: the annotation, not a property


def strict_violations(schema: dict[str, Any], root: dict[str, Any] | None = None, at: str = "#") -> list[str]:
    """Every place the schema breaks the strict-mode rules (empty list: the schema is accepted)."""
    root = schema if root is None else root
    found = [f"{at}: keyword {banned!r}" for banned in _BANNED if banned in schema]
    if "$ref" in schema:
        found += _ref_violations(schema, root, at)
    if schema.get("type") == "object" or "properties" in schema:
        if schema.get("additionalProperties") is not False:
            found.append(f"{at}: additionalProperties is not false")
        if schema.get("required") != list(schema.get("properties", {})):
            found.append(f"{at}: required != all properties")
    for where, sub in _subschemas(schema, at):
        found += strict_violations(sub, root, where)
    return found


def _ref_violations(schema: dict[str, Any], root: dict[str, Any], at: str) -> list[str]:
    found = []
    if set(schema) != {"$ref"}:
        found.append(f"{at}: $ref with siblings {sorted(set(schema) - {'$ref'})}")
    target: Any = root
    for part in schema["$ref"].removeprefix("#/").split("/"):
        target = target.get(part) if isinstance(target, dict) else None
    if not isinstance(target, dict):
        found.append(f"{at}: unresolved {schema['$ref']}")
    return found


def _subschemas(schema: dict[str, Any], at: str) -> list[tuple[str, dict[str, Any]]]:
    """The schemas nested in ``schema`` (never the values of ``enum``, ``examples``…), with their paths."""
    subs: list[tuple[str, dict[str, Any]]] = []
    for key, value in schema.items():
        if key in _MAPS:
            subs += [(f"{at}/{key}/{name}", sub) for name, sub in value.items()]
        elif key in _LISTS:
            subs += [(f"{at}/{key}/{i}", sub) for i, sub in enumerate(value)]
        elif key in _SINGLE and isinstance(value, dict):
            subs.append((f"{at}/{key}", value))
    return subs


def params(model: type[BaseModel]) -> dict[str, Any]:
    parameters = pydantic_to_tool(model)["function"]["parameters"]
    assert isinstance(parameters, dict)
    return parameters


def nullable(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}], "description": description}


# --- the schema ------------------------------------------------------------------------------------------


def test_tool_shape_name_and_cleaned_docstring() -> None:
    tool = pydantic_to_tool(CreateIssue)
    assert tool["type"] == "function"
    function = tool["function"]
    assert function["name"] == "create_issue"
    assert function["description"] == "Create an issue in the tracker.\n\nCall it once per issue."
    assert function["strict"] is True
    assert "description" not in params(CreateIssue)  # the docstring is the tool's description, not repeated


def test_schema_keeps_title_and_description_properties_and_requires_everything() -> None:
    schema = params(CreateIssue)
    assert list(schema["properties"]) == list(CreateIssue.model_fields)
    assert schema["required"] == list(CreateIssue.model_fields)
    assert schema["additionalProperties"] is False
    assert schema["properties"]["title"] == {"type": "string", "description": "Short summary."}
    assert schema["properties"]["description"] == {"type": "string", "description": "The body, in Markdown."}
    # a nested model's field named ``title`` is kept too
    assert schema["$defs"]["Assignee"]["properties"]["title"] == {
        "anyOf": [{"type": "string"}, {"type": "null"}],
        "description": "Job title, if known.",
    }
    assert schema["$defs"]["Assignee"]["required"] == ["login", "title"]


def test_seed_title_bug_is_fixed() -> None:
    assert params(Issue) == {
        "properties": {"title": {"type": "string"}},
        "required": ["title"],
        "type": "object",
        "additionalProperties": False,
    }


def test_fields_named_like_schema_keywords_are_kept() -> None:
    schema = params(KeywordNames)
    assert list(schema["properties"]) == ["title", "description", "default", "type", "properties", "required"]
    assert schema["properties"]["properties"] == {"items": {"type": "string"}, "type": "array"}
    assert schema["properties"]["default"] == nullable(
        {"type": "integer"}, "Default: 0 (send null to use it)."
    )
    assert strict_violations(schema) == []


def test_defaulted_fields_are_required_but_nullable_with_the_default_described() -> None:
    props = params(CreateIssue)["properties"]
    assert props["estimate"] == nullable(
        {"type": "integer"}, "Story points. Default: 1 (send null to use it)."
    )
    assert props["component"] == nullable({"type": "string"}, 'Default: "core" (send null to use it).')
    assert props["tags"] == nullable(
        {"items": {"type": "string"}, "type": "array"}, "Default: [] (send null to use it)."
    )
    assert props["priority"] == nullable(
        {"$ref": "#/$defs/Priority"}, 'Default: "low" (send null to use it).'
    )
    assert props["kind"] == nullable(
        {"enum": ["bug", "feature"], "type": "string"}, 'Default: "bug" (send null to use it).'
    )
    assert props["reviewer"] == {
        "anyOf": [{"$ref": "#/$defs/Assignee"}, {"type": "null"}],
        "description": "Default: null.",
    }


def test_optional_without_default_nested_models_and_enums() -> None:
    schema = params(CreateIssue)
    props = schema["properties"]
    assert props["milestone"] == {"anyOf": [{"type": "string"}, {"type": "null"}]}
    assert props["assignee"] == {"$ref": "#/$defs/Assignee"}
    assert props["labels"] == {"items": {"$ref": "#/$defs/Label"}, "type": "array"}
    assert schema["$defs"]["Priority"] == {"enum": ["low", "high"], "type": "string"}
    assert schema["$defs"]["Label"] == {
        "description": "A label on the issue.",
        "properties": {
            "name": {"type": "string"},
            "color": nullable({"type": "string"}, 'Default: "grey" (send null to use it).'),
        },
        "required": ["name", "color"],
        "type": "object",
        "additionalProperties": False,
    }


@pytest.mark.parametrize("model", [CreateIssue, Issue, Node, Draw, Wait, KeywordNames])
def test_schemas_follow_the_strict_rules(model: type[BaseModel]) -> None:
    tool = pydantic_to_tool(model)
    assert tool["function"]["strict"] is True
    assert strict_violations(params(model)) == []


def test_nested_model_with_description_is_inlined_not_a_ref_with_siblings() -> None:
    main = params(Draw)["properties"]["main"]
    assert main["description"] == "The main label."
    assert main["required"] == ["name", "color"]
    assert main["additionalProperties"] is False
    assert "$ref" not in main


def test_discriminated_union_becomes_anyof() -> None:
    figure = params(Draw)["properties"]["figure"]
    assert figure == {"anyOf": [{"$ref": "#/$defs/Circle"}, {"$ref": "#/$defs/Square"}]}
    assert params(Draw)["$defs"]["Circle"]["properties"]["shape"] == {"enum": ["circle"], "type": "string"}


def test_recursive_model_root_is_an_object() -> None:
    schema = params(Node)
    assert schema["type"] == "object"
    assert schema["properties"]["children"]["anyOf"][0] == {
        "items": {"$ref": "#/$defs/Node"},
        "type": "array",
    }
    assert schema["$defs"]["Node"]["required"] == ["name", "children", "weight"]


def test_nullable_field_with_a_literal_default_keeps_null_as_a_value() -> None:
    props = params(Wait)["properties"]
    assert props["timeout"] == {
        "anyOf": [{"type": "number"}, {"type": "null"}],
        "description": "Default: 30.0.",
    }
    assert props["note"] == {"anyOf": [{"type": "string"}, {"type": "null"}], "description": "Default: null."}


def test_free_form_mapping_is_sent_non_strict() -> None:
    tool = pydantic_to_tool(Tally)
    assert tool["function"]["strict"] is False
    assert params(Tally)["properties"]["counts"] == {
        "additionalProperties": {"type": "integer"},
        "type": "object",
    }


def test_name_and_description_overrides() -> None:
    class HTTPRequestLog(BaseModel):
        """Doc."""

        url: str

    assert pydantic_to_tool(HTTPRequestLog)["function"]["name"] == "http_request_log"
    tool = pydantic_to_tool(HTTPRequestLog, name="log", description="Log a request.")
    assert tool["function"]["name"] == "log"
    assert tool["function"]["description"] == "Log a request."
    assert "description" not in pydantic_to_tool(HTTPRequestLog, description="")["function"]
    assert "description" not in pydantic_to_tool(Issue)["function"]


def test_schema_generation_does_not_mutate_pydantic_cache() -> None:
    before = json.dumps(CreateIssue.model_json_schema(), sort_keys=True)
    pydantic_to_tool(CreateIssue)
    assert json.dumps(CreateIssue.model_json_schema(), sort_keys=True) == before


# --- building and invoking -------------------------------------------------------------------------------


class Recorder:
    def __init__(self, result: Any = "ok") -> None:
        self.calls: list[tuple[BaseModel, Any]] = []
        self.result = result

    async def __call__(self, validated: BaseModel, context: Any) -> Any:
        self.calls.append((validated, context))
        return self.result


async def call(model: type[BaseModel], arguments: str | dict[str, Any], handler: Any = None) -> Any:
    handler = handler or Recorder()
    tools, invokers = build_pydantic_tools_and_invokers([PydanticToolConfig(model, handler)])
    name = tools[0]["function"]["name"]
    raw = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return await invokers[name](make_tool_call("call_1", name, raw), {"user": "u1"})


@pytest.mark.anyio
async def test_seed_compatible_call_shape_and_valid_arguments() -> None:
    handler = Recorder(result=ToolResult("done", {"id": 7}))
    tools, invokers = build_pydantic_tools_and_invokers([PydanticToolConfig(CreateIssue, handler)])
    assert [tool["function"]["name"] for tool in tools] == ["create_issue"]
    ctx = object()
    result = await invokers["create_issue"](
        make_tool_call("call_1", "create_issue", json.dumps(ISSUE_ARGS)), ctx
    )
    assert result is handler.result  # returned unchanged
    [(validated, context)] = handler.calls
    assert context is ctx
    assert validated == CreateIssue.model_validate(ISSUE_ARGS)
    assert isinstance(validated, CreateIssue)
    assert validated.priority is Priority.HIGH


@pytest.mark.anyio
async def test_null_for_a_defaulted_field_gets_the_default() -> None:
    handler = Recorder()
    nulls = {"estimate": None, "component": None, "tags": None, "priority": None, "kind": None}
    labels = [{"name": "a", "color": None}, {"name": "b", "color": "blue"}]
    await call(CreateIssue, {**ISSUE_ARGS, **nulls, "labels": labels}, handler)
    [(issue, _)] = handler.calls
    assert isinstance(issue, CreateIssue)
    assert (issue.estimate, issue.component, issue.tags, issue.priority, issue.kind) == (
        1,
        "core",
        [],
        Priority.LOW,
        "bug",
    )
    assert [label.color for label in issue.labels] == ["grey", "blue"]
    assert "estimate" not in issue.model_fields_set
    assert issue.milestone is None  # Optional without a default keeps null
    assert issue.reviewer is None
    assert "milestone" in issue.model_fields_set


@pytest.mark.anyio
async def test_optional_without_default_still_requires_a_value() -> None:
    args = {k: v for k, v in ISSUE_ARGS.items() if k != "milestone"}
    with pytest.raises(ValidationError) as info:
        await call(CreateIssue, args)
    assert "- milestone: Field required" in str(describe_argument_error("create_issue", info.value))


@pytest.mark.anyio
async def test_nullable_field_with_literal_default() -> None:
    handler = Recorder()
    await call(Wait, {"timeout": None, "note": None}, handler)
    await call(Wait, {"timeout": 30.0, "note": "x"}, handler)
    (first, _), (second, _) = handler.calls
    assert isinstance(first, Wait)
    assert isinstance(second, Wait)
    assert (first.timeout, first.note) == (None, None)
    assert first.model_fields_set == {"timeout"}  # note: null stood for its default (None)
    assert (second.timeout, second.note) == (30.0, "x")


@pytest.mark.anyio
async def test_nulls_dropped_inside_recursive_and_union_values() -> None:
    handler = Recorder()
    tree = {"name": "root", "weight": None, "children": [{"name": "leaf", "children": None, "weight": 5}]}
    await call(Node, tree, handler)
    draw = {
        "figure": {"shape": "square", "side": None},
        "main": {"name": "m", "color": None},
        "extra": {"name": "e", "color": None},
    }
    await call(Draw, draw, handler)
    (node, _), (drawing, _) = handler.calls
    assert node == Node(name="root", children=[Node(name="leaf", weight=5)])
    assert drawing == Draw(figure=Square(shape="square"), main=Label(name="m"), extra=Label(name="e"))


@pytest.mark.anyio
async def test_empty_arguments_mean_an_empty_object() -> None:
    class Ping(BaseModel):
        verbose: bool = False

    handler = Recorder()
    await call(Ping, "", handler)
    [(ping, _)] = handler.calls
    assert ping == Ping()


@pytest.mark.anyio
async def test_missing_required_field_is_a_readable_tool_input_error() -> None:
    args = {k: v for k, v in ISSUE_ARGS.items() if k != "title"}
    with pytest.raises(ValidationError) as info:  # pydantic's own error, as the seed raised
        await call(CreateIssue, args)
    message = str(describe_argument_error("create_issue", info.value))
    assert message.splitlines() == [
        "Invalid arguments for tool 'create_issue'; fix them and call the tool again:",
        "- title: Field required",
    ]


@pytest.mark.anyio
async def test_wrong_types_name_the_field_path_and_the_value() -> None:
    args = {**ISSUE_ARGS, "estimate": "lots", "labels": [{"name": 5}], "priority": "urgent"}
    with pytest.raises(ValidationError) as info:
        await call(CreateIssue, args)
    message = str(describe_argument_error("create_issue", info.value))
    assert (
        '- estimate: Input should be a valid integer, unable to parse string as an integer (got "lots")'
        in (message)
    )
    assert "- labels[0].name: Input should be a valid string (got 5)" in message
    assert "- priority: Input should be 'low' or 'high' (got \"urgent\")" in message
    assert "pydantic.dev" not in message
    assert "https://" not in message


@pytest.mark.anyio
@pytest.mark.parametrize("raw", ['{"title": ', "[1, 2]", "null"])
async def test_arguments_that_are_not_a_json_object(raw: str) -> None:
    handler = Recorder()
    with pytest.raises(ToolInputError, match="JSON"):
        await call(Issue, raw, handler)
    assert handler.calls == []


@pytest.mark.anyio
async def test_handler_exceptions_propagate_unchanged() -> None:
    boom = RuntimeError("backend down")

    async def failing(validated: Issue, context: Any) -> str:
        raise boom

    with pytest.raises(RuntimeError) as info:
        await call(Issue, {"title": "x"}, failing)
    assert info.value is boom


@pytest.mark.anyio
async def test_a_validation_error_raised_by_the_handler_is_not_described_to_the_model() -> None:
    async def failing(validated: Issue, context: Any) -> str:
        Issue.model_validate({"secret": "s3cr3t"})
        return "unreachable"

    with pytest.raises(ValidationError) as info:
        await call(Issue, {"title": "x"}, failing)
    assert describe_argument_error("issue", info.value) is None  # the handler's, not the model's mistake
    assert describe_argument_error("issue", RuntimeError("x")) is None


def test_camel_to_snake_is_the_seeds_rule() -> None:
    assert camel_to_snake("IssueComment") == "issue_comment"
    assert camel_to_snake("HTTPRequestV2") == "http_request_v2"
    assert camel_to_snake("getURL") == "get_url"


def test_get_strict_json_schema_is_a_strict_response_format() -> None:
    class Step(BaseModel):
        title: str
        output: str

    class Answer(BaseModel):
        """A worked answer."""

        steps: list[Step]
        final: str
        confidence: float = 0.5
        note: str | None = None

    fmt = get_strict_json_schema(Answer)
    assert fmt["type"] == "json_schema"
    spec = fmt["json_schema"]
    assert (spec["name"], spec.get("description"), spec.get("strict")) == ("Answer", "A worked answer.", True)
    schema = spec.get("schema") or {}
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["steps", "final", "confidence", "note"]
    # defaults are plainly required (not made nullable): what the model answers validates as the model
    assert schema["properties"]["confidence"] == {"type": "number"}
    assert schema["properties"]["note"] == {"anyOf": [{"type": "string"}, {"type": "null"}]}
    step = schema["$defs"]["Step"]
    assert step["properties"]["title"] == {"type": "string"}  # a field named title is kept
    assert step["additionalProperties"] is False
    assert "title" not in step  # the title annotation is not
    answer = '{"steps": [{"title": "t", "output": "o"}], "final": "x", "confidence": 1, "note": null}'
    assert Answer.model_validate_json(answer).confidence == 1
    assert json.dumps(fmt)  # plain JSON, ready for response_format


@pytest.mark.anyio
async def test_handler_result_is_returned_unchanged() -> None:
    for result in ("text", {"a": 1}, Issue(title="t"), ToolResult("c")):
        assert await call(Issue, {"title": "x"}, Recorder(result)) is result


def test_duplicate_names_raise() -> None:
    handler = Recorder()
    with pytest.raises(ValueError, match="Duplicate Pydantic tool name: issue"):
        build_pydantic_tools_and_invokers(
            [PydanticToolConfig(Issue, handler), PydanticToolConfig(Issue, handler)]
        )
    with pytest.raises(ValueError, match="Duplicate Pydantic tool name: t"):
        build_pydantic_tools_and_invokers(
            [PydanticToolConfig(Issue, handler, name="t"), PydanticToolConfig(Node, handler, name="t")]
        )


def test_build_matches_pydantic_to_tool() -> None:
    configs = [
        PydanticToolConfig(CreateIssue, Recorder()),
        PydanticToolConfig(Node, Recorder(), name="tree", description="A tree."),
    ]
    tools, invokers = build_pydantic_tools_and_invokers(configs)
    assert tools == [
        pydantic_to_tool(CreateIssue),
        pydantic_to_tool(Node, name="tree", description="A tree."),
    ]
    assert list(invokers) == ["create_issue", "tree"]


def test_the_checker_rejects_pydantic_s_own_schema() -> None:
    found = strict_violations(CreateIssue.model_json_schema())
    assert "#: required != all properties" in found
    assert "#: additionalProperties is not false" in found
    assert "#/properties/estimate: keyword 'default'" in found
    assert "#/$defs/Label: keyword 'title'" in found


class Batch(BaseModel):
    ids: list[str] = Field(default_factory=lambda: ["all"], alias="id-list")
    names: list[str] | None = Field(default_factory=list)


def test_factory_defaults_are_described_when_they_can_be_shown() -> None:
    props = params(Batch)["properties"]
    assert props["id-list"]["description"] == "Has a default; send null to use it."
    assert props["names"] == {
        "anyOf": [{"items": {"type": "string"}, "type": "array"}, {"type": "null"}],
        "description": "Default: [] (send null to use it).",
    }


@pytest.mark.anyio
async def test_null_for_a_factory_default_uses_the_factory_and_aliases_are_followed() -> None:
    handler = Recorder()
    await call(Batch, {"id-list": None, "names": None}, handler)
    await call(Batch, {"id-list": ["a"], "names": ["n"]}, handler)
    (first, _), (second, _) = handler.calls
    assert first == Batch.model_validate({})
    assert isinstance(first, Batch)
    assert (first.ids, first.names) == (["all"], [])
    assert second == Batch.model_validate({"id-list": ["a"], "names": ["n"]})
