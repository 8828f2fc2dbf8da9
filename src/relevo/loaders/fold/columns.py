"""The features a fitted ColumnTransformer makes from each input, in its output order.

Only exact types with plain settings are read: one-hot encoders that ignore unknown
categories (no dropped, no infrequent categories), standard scalers, passthrough and dropped
columns, columns selected by index or name. Anything else is NotFoldable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from relevo.loaders.fold.errors import NotFoldable, RowNotFoldable


@dataclass(frozen=True)
class Number:
    """One output feature: the input's value, scaled as (x - mean) / scale."""

    name: str
    mean: float = 0.0
    scale: float = 1.0


@dataclass(frozen=True)
class Categories:
    """One output feature per category: 1 where the input holds it, else 0."""

    name: str
    categories: list[Any]


Feature = Number | Categories


def read_columns(features: ColumnTransformer | None, names: Sequence[str]) -> list[Feature]:
    """The output features of a fitted ColumnTransformer over inputs `names` (all numbers when None)."""
    if features is None:
        return [Number(name) for name in names]
    out: list[Feature] = []
    for _, transformer, selection in features.transformers_:
        if transformer == "drop":
            continue
        selected = [names[i] for i in _indices(selection, names)]
        if not selected:
            continue  # a ColumnTransformer leaves the transformer of no columns unfitted
        if transformer == "passthrough" or _identity(transformer):
            out += [Number(name) for name in selected]
        elif type(transformer) is StandardScaler:
            mean = transformer.mean_ if transformer.with_mean else np.zeros(len(selected))
            scale = transformer.scale_ if transformer.with_std else np.ones(len(selected))
            out += [Number(name, float(m), float(s)) for name, m, s in zip(selected, mean, scale)]
        elif type(transformer) is OneHotEncoder:
            if (transformer.drop_idx_ is not None or getattr(transformer, "_infrequent_enabled", False)
                    or transformer.handle_unknown != "ignore"):
                raise NotFoldable("a one-hot encoder with dropped, infrequent or refused categories is not folded")
            for name, categories in zip(selected, transformer.categories_):
                values = categories.tolist()
                if not all(isinstance(v, str) for v in values) and not all(
                        isinstance(v, (int, float)) and math.isfinite(v) for v in values):
                    raise NotFoldable("categories must be all strings or all finite numbers")
                out.append(Categories(name, values))
        else:
            raise NotFoldable(f"{type(transformer).__name__} in a ColumnTransformer is not folded")
    return out


class FeatureVector:
    """A row turned into the ColumnTransformer's output, as a list of floats."""

    def __init__(self, features: list[Feature], missing_numbers: bool) -> None:
        # missing_numbers: NaN passes through (a model that routes missing values, as boosted
        # trees do); otherwise only finite numbers are read.
        self.size = sum(len(f.categories) if isinstance(f, Categories) else 1 for f in features)
        self.missing_numbers = missing_numbers
        self.numbers: list[tuple[int, str, float, float]] = []
        self.categories: list[tuple[str, dict[Any, int]]] = []
        position = 0
        for feature in features:
            if isinstance(feature, Number):
                self.numbers.append((position, feature.name, feature.mean, feature.scale))
                position += 1
            else:
                self.categories.append((feature.name, {c: position + k for k, c in enumerate(feature.categories)}))
                position += len(feature.categories)

    def __call__(self, row: Mapping[str, Any]) -> list[float]:
        """The features of one row; RowNotFoldable for a value only scikit-learn may judge."""
        out = [0.0] * self.size
        for position, name, mean, scale in self.numbers:
            value = number(row[name], self.missing_numbers)
            out[position] = (value - mean) / scale  # as StandardScaler computes it, so trees see the same float
        for name, positions in self.categories:
            at = positions.get(category(row[name]))
            if at is not None:  # an unknown category encodes as zeros (handle_unknown="ignore")
                out[at] = 1.0
        return out


def number(value: Any, missing: bool = False) -> float:
    """A numeric input as scikit-learn reads it (None is NaN there); RowNotFoldable where a
    fold does not know the answer: a missing value unless `missing`, anything not a number."""
    if isinstance(value, (int, float)) and math.isfinite(value):
        return value
    if missing and (value is None or (isinstance(value, float) and value != value)):
        return math.nan
    raise RowNotFoldable(f"{value!r} as a number")


def category(value: Any) -> Any:
    """A categorical input as a one-hot encoder looks it up (None is no category, so all
    zeros); RowNotFoldable for anything else that is not a string or a number."""
    if value is None or isinstance(value, str) or (isinstance(value, (int, float)) and value == value):
        return value
    raise RowNotFoldable(f"{value!r} as a category")


def _identity(transformer: Any) -> bool:
    # A fitted ColumnTransformer holds "passthrough" columns as a FunctionTransformer with no function.
    return type(transformer) is FunctionTransformer and transformer.func is None and not transformer.validate


def _indices(selection: Any, names: Sequence[str]) -> list[int]:
    items = selection.tolist() if isinstance(selection, np.ndarray) else selection
    if isinstance(items, (int, str)):
        items = [items]
    if not isinstance(items, list) or not all(isinstance(i, (int, str)) and not isinstance(i, bool) for i in items):
        raise NotFoldable("only columns selected by index or name are folded")
    return [names.index(i) if isinstance(i, str) else i for i in items]
