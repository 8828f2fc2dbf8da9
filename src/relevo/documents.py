"""Reading the YAML/JSON documents users hand to Relevo (metadata, specs), with clear errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from relevo.errors import InvalidInput, NotFound


def format_validation_error(exc: ValidationError, what: str, source: str) -> str:
    """One line per problem: the file, the dotted field path and what was expected."""
    lines = [f"invalid {what} in {source}:"]
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "(top level)"
        lines.append(f"  - {field}: {err['msg']}")
    return "\n".join(lines)


PLACEHOLDER = "TODO"


def refuse_placeholders(data: Any, what: str, source: str) -> None:
    """InvalidInput naming every value still a placeholder (a text starting with TODO), as drafts leave them."""
    found: list[str] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, str) and node.strip().startswith(PLACEHOLDER):
            found.append(path or "(top level)")
        elif isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{path}.{key}" if path else str(key))
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{path}[{i}]")

    walk(data, "")
    if found:
        raise InvalidInput(f"{what} {source} still has TODO in {', '.join(found)}: write what each asks "
                           f"(the reference says what each field means)")


def read_document(path: Path, what: str) -> dict[str, Any]:
    """Read a YAML/JSON mapping from path, with errors that name the file."""
    if not path.exists():
        raise NotFound(f"{what} file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read {what} file {path}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise InvalidInput(f"{what} file {path} is not valid YAML/JSON{where}: {problem}") from None
    if data is None:
        raise InvalidInput(f"{what} file {path} is empty")
    if not isinstance(data, dict):
        kind = {list: "a list", str: "a single text", int: "a number", float: "a number", bool: "true/false"}
        raise InvalidInput(f"{what} file {path} must hold a mapping of fields (name: value), not "
                           f"{kind.get(type(data), type(data).__name__)}")
    return data


Model = TypeVar("Model", bound=BaseModel)


def validated(model: type[Model], data: Any, what: str, source: str, shape: str) -> Model:
    """data as model, or InvalidInput naming each missing or wrong field (and any TODO left);
    shape: what the top level must hold, for the message when it is not a mapping."""
    if not isinstance(data, dict):
        raise InvalidInput(f"{what} {source} must be a mapping ({shape})")
    refuse_placeholders(data, what, source)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(format_validation_error(exc, what, source)) from None
