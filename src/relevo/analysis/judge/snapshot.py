"""A judge state as plain JSON-ready data and back, bit for bit.

A rollout step's evidence is kept between judgements (relevo.rollouts.ledger), so the next
judgement advances the kept states with the decisions that arrived since instead of replaying
the step from its start. A resumed state must be exactly the state that was kept: floats are
written as Python writes them (repr, which reads back to the same double), the values JSON has
no word for (inf, nan) by name, and arrays as lists of floats.
"""

from __future__ import annotations

import math
from dataclasses import fields, is_dataclass
from typing import Any

import numpy as np

from .betting import BettingMean
from .difference import DifferenceState
from .paired import PairedState
from .proportion import RateState
from .ratio import RatioState

KINDS = {cls.__name__: cls for cls in (BettingMean, DifferenceState, PairedState, RateState, RatioState)}
_NAMED = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}


def _number(value: float) -> Any:
    return value if math.isfinite(value) else {"float": "nan" if math.isnan(value) else
                                               ("inf" if value > 0 else "-inf")}


def to_plain(value: Any) -> Any:
    """A state (or anything it holds) as JSON-ready data."""
    if is_dataclass(value) and type(value).__name__ in KINDS:
        return {"kind": type(value).__name__} | {f.name: to_plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, np.ndarray) and value.size > 2:
        # A betting state's grid of means is evenly spaced: its ends and size say it exactly.
        spaced = np.linspace(value[0], value[-1], value.size)
        if np.array_equal(spaced, value):
            return {"linspace": [float(value[0]), float(value[-1]), int(value.size)]}
    if isinstance(value, np.ndarray):
        return {"array": [_number(float(v)) for v in value.tolist()]}
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return _number(float(value))
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"a judge state cannot hold {type(value).__name__}")


def from_plain(data: Any) -> Any:
    """The state to_plain wrote, exactly."""
    if isinstance(data, dict):
        if "float" in data:
            return _NAMED[data["float"]]
        if "linspace" in data:
            low, high, size = data["linspace"]
            return np.linspace(low, high, size)
        if "array" in data:
            return np.array([from_plain(v) for v in data["array"]], dtype=float)
        kind = KINDS.get(data.get("kind", ""))
        if kind is None:
            raise ValueError(f"unknown judge state kind {data.get('kind')!r}")
        return kind(**{f.name: from_plain(data[f.name]) for f in fields(kind)})
    return data
