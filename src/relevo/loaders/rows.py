"""Turning input rows into the 2-D array models read."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from relevo.errors import InvalidInput
from relevo.loaders.signature import Signature

NUMERIC_TYPES = frozenset({"number", "integer", "boolean"})


def is_numeric(signature: Signature) -> bool:
    """True when every input can travel as a float."""
    return all(field.type in NUMERIC_TYPES for field in signature.inputs)


def non_numeric_inputs(signature: Signature) -> list[str]:
    """Names of the inputs that cannot travel as floats."""
    return [field.name for field in signature.inputs if field.type not in NUMERIC_TYPES]


def to_matrix(rows: Sequence[Mapping[str, Any]], signature: Signature) -> np.ndarray:
    """An [n, k] array in signature order: float when all inputs are numeric, object otherwise."""
    names = signature.names
    try:
        values = [[row[name] for name in names] for row in rows]
    except KeyError:
        raise InvalidInput(_missing(rows, names)) from None
    if not is_numeric(signature):
        matrix = np.empty((len(values), len(names)), dtype=object)
        if values:
            matrix[:] = values
        return matrix
    try:
        return np.asarray(values, dtype=np.float64).reshape(len(values), len(names))
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"a numeric input has a value that is not a number: {exc}") from None


def _missing(rows: Sequence[Mapping[str, Any]], names: list[str]) -> str:
    for index, row in enumerate(rows):
        absent = [name for name in names if name not in row]
        if absent:
            return f"row {index} has no value for input(s): {', '.join(absent)}"
    return "a row is missing an input"
