"""Validating a request's inputs against the service spec, naming each bad field; and the same
rules as the JSON Schema the API publishes, kept side by side so the two cannot drift apart."""

from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from relevo.errors import InvalidInput
from relevo.services.spec import FieldSpec, ServiceSpec
from relevo.store.text import text_problem

_TYPES = {"number": float, "integer": int, "string": str, "boolean": bool}
NO_NUL = "^[^\\u0000]*$"  # JSON Schema pattern: no NUL character (see text_problem)


class InputRejected(InvalidInput):
    """A request whose inputs do not match the spec; .errors lists (field, message), fields
    named under `where` in the request body ("inputs" by default; "" for the body itself)."""

    def __init__(self, errors: list[tuple[str, str]], where: str = "inputs") -> None:
        self.errors = errors
        self.where = where
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors))


def _annotation(spec: FieldSpec) -> tuple[Any, Any]:
    kind: Any = Literal[tuple(spec.enum)] if spec.enum else _TYPES[spec.type]
    constraints: dict[str, Any] = {} if spec.enum else {"strict": spec.type != "number"}
    if spec.type == "number":
        constraints["allow_inf_nan"] = False
    if spec.minimum is not None:
        constraints["ge"] = spec.minimum
    if spec.maximum is not None:
        constraints["le"] = spec.maximum
    if spec.type == "string" and not spec.enum:
        constraints["max_length"] = spec.max_length
    if spec.required:
        return kind, Field(..., **constraints)
    return Optional[kind], Field(None, **constraints)


class InputValidator:
    """A compiled validator for one spec's inputs."""

    def __init__(self, spec: ServiceSpec) -> None:
        fields = {name: _annotation(f) for name, f in spec.inputs.items()}
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
            clean = self._model.model_validate(inputs).model_dump()
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
            lo = f.minimum if f.minimum is not None else 0
            hi = f.maximum if f.maximum is not None else lo + 10
            out[name] = int(lo) if f.type == "integer" else round(lo + (hi - lo) * 0.8, 4)
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
