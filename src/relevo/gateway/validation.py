"""Validating a request's inputs against the service spec, naming each bad field; and the same
rules as the JSON Schema the API publishes, kept side by side so the two cannot drift apart."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal, Optional

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, WithJsonSchema, create_model

from relevo.errors import InvalidInput
from relevo.services.spec import FieldSpec, ServiceSpec
from relevo.store.text import text_problem

_TYPES = {"number": float, "integer": int, "string": str, "boolean": bool}
NO_NUL = "^[^\\u0000]*$"  # JSON Schema pattern: no NUL character (see text_problem)
# Free-form JSON as the store keeps it (unstorable_inputs): any value, but no NUL in any text or
# field name at any depth. Published as the API document's component STORABLE_VALUE, which refers
# to itself; STORABLE_OBJECT is an object of such values.
STORABLE_VALUE = "StorableValue"
_VALUE_REF = {"$ref": f"#/components/schemas/{STORABLE_VALUE}"}
STORABLE_OBJECT: dict[str, Any] = {"type": "object", "propertyNames": {"pattern": NO_NUL},
                                   "additionalProperties": _VALUE_REF}
STORABLE_VALUE_SCHEMA: dict[str, Any] = {
    "title": STORABLE_VALUE, "description": "any JSON value without NUL characters in its texts or field names",
    "anyOf": [{"type": "string", "pattern": NO_NUL}, {"type": "number"}, {"type": "boolean"}, {"type": "null"},
              {"type": "array", "items": _VALUE_REF}, STORABLE_OBJECT]}
# A request's inputs (or a row to try a version on) before the spec is applied.
StorableRow = Annotated[dict[str, Any], WithJsonSchema(STORABLE_OBJECT)]


class InputRejected(InvalidInput):
    """A request whose inputs do not match the spec; .errors lists (field, message), fields
    named under `where` in the request body ("inputs" by default; "" for the body itself)."""

    def __init__(self, errors: list[tuple[str, str]], where: str = "inputs") -> None:
        self.errors = errors
        self.where = where
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors))


def _whole(value: Any) -> Any:
    """6.0 as 6: JSON Schema counts a number with no fractional part as an integer."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _annotation(spec: FieldSpec, alias: str) -> tuple[Any, Any]:
    kind: Any = Literal[tuple(spec.enum)] if spec.enum else _TYPES[spec.type]
    if spec.type == "integer" and not spec.enum:
        kind = Annotated[int, BeforeValidator(_whole)]  # then strict: no text, no true/false, no 1.5
    constraints: dict[str, Any] = {} if spec.enum else {"strict": spec.type != "number"}
    if spec.type == "number":
        constraints["allow_inf_nan"] = False
    whole = spec.type == "integer"  # an integer's bounds as integers: 1.5 as a maximum allows up to 1
    if spec.minimum is not None:
        constraints["ge"] = math.ceil(spec.minimum) if whole else spec.minimum
    if spec.maximum is not None:
        constraints["le"] = math.floor(spec.maximum) if whole else spec.maximum
    if spec.type == "string" and not spec.enum:
        constraints["max_length"] = spec.max_length
    if spec.required:
        return kind, Field(..., alias=alias, **constraints)
    return Optional[kind], Field(None, alias=alias, **constraints)


class InputValidator:
    """A compiled validator for one spec's inputs."""

    def __init__(self, spec: ServiceSpec) -> None:
        # Each field under a name of the model's own, the spec's name as its alias: a spec's field
        # may be called anything an identifier can (`_`, `model_config`), which pydantic reserves.
        fields = {f"field_{i}": _annotation(f, name) for i, (name, f) in enumerate(spec.inputs.items())}
        self._model: type[BaseModel] = create_model(
            f"{spec.name}-inputs", __config__=ConfigDict(extra="forbid"), **fields)
        self._numbers = [n for n, f in spec.inputs.items() if f.type == "number"]

    def validate(self, inputs: Any) -> dict[str, Any]:
        """The inputs as a clean dict, or InputRejected naming every bad field."""
        if not isinstance(inputs, dict):
            raise InputRejected([("inputs", "must be an object of field values")])
        errors = [(name, f"must be a number, got {type(inputs[name]).__name__}") for name in self._numbers
                  if isinstance(inputs.get(name), (str, bool))]  # pydantic would coerce these
        errors += [(name, problem) for name, value in inputs.items()
                   if isinstance(value, str) and (problem := text_problem(value))]
        try:
            clean = self._model.model_validate(inputs).model_dump(by_alias=True)
        except ValidationError as exc:
            named = {field for field, _ in errors}
            errors += [(field, e["msg"]) for e in exc.errors()
                       if (field := ".".join(str(p) for p in e["loc"]) or "inputs") not in named]
        if errors:
            raise InputRejected(errors)
        return clean


def unstorable_inputs(inputs: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, problem) for every text in the inputs that cannot be stored; fields named relative to inputs."""
    out: list[tuple[str, str]] = []
    pending: list[tuple[str, Any]] = [("", inputs)]  # iterative: nesting depth is the client's choice
    while pending:
        path, value = pending.pop()
        if isinstance(value, str):
            if problem := text_problem(value):
                out.append((path or "inputs", problem))
        elif isinstance(value, dict):
            for key, item in value.items():
                if problem := text_problem(key):
                    out.append((path or "inputs", f"a field name {problem}"))
                else:
                    pending.append((f"{path}.{key}" if path else key, item))
        elif isinstance(value, list):
            pending.extend((f"{path}[{i}]", item) for i, item in enumerate(value))
    return sorted(out)


def example_inputs(spec: ServiceSpec) -> dict[str, Any]:
    """A valid example of the inputs, built from the spec, for newcomers to try the API."""
    out: dict[str, Any] = {}
    for name, f in spec.inputs.items():
        if f.enum:
            out[name] = f.enum[0]
        elif f.type == "boolean":
            out[name] = True
        elif f.type in ("number", "integer"):
            lo = f.minimum if f.minimum is not None else min(0, f.maximum - 10) if f.maximum is not None else 0
            hi = f.maximum if f.maximum is not None else lo + 10
            out[name] = math.ceil(lo) if f.type == "integer" else min(max(round(lo + (hi - lo) * 0.8, 4), lo), hi)
        else:
            out[name] = f"example-{name}"[: f.max_length]
    return out


def field_schema(field: FieldSpec) -> dict[str, Any]:
    """JSON Schema of one input field, as the gateway's validator enforces it."""
    schema: dict[str, Any] = {"type": field.type}  # the spec's types are JSON Schema's own names
    if field.enum:
        schema["enum"] = list(field.enum)
    elif field.type == "string":
        schema |= {"maxLength": field.max_length, "pattern": NO_NUL}
    if field.minimum is not None:
        schema["minimum"] = field.minimum
    if field.maximum is not None:
        schema["maximum"] = field.maximum
    if not field.required:
        schema = {"anyOf": [schema, {"type": "null"}]}
    if field.description:
        schema["description"] = field.description
    return schema


def inputs_schema(spec: ServiceSpec) -> dict[str, Any]:
    """JSON Schema of a service's inputs object."""
    return {
        "type": "object",
        "properties": {name: field_schema(f) for name, f in spec.inputs.items()},
        "required": [name for name, f in spec.inputs.items() if f.required],
        "additionalProperties": False,
    }
