"""A linear pipeline folded into per-input tables.

A ColumnTransformer ahead of a LogisticRegression is a linear function of its inputs: each
categorical input adds its category's coefficients, each numeric one `slope * x`, and the
scalers' shifts join the intercept. A row then costs a few lookups and multiply-adds.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
from sklearn.linear_model import LogisticRegression

from relevo.loaders.fold.columns import Categories, Number, category, number, read_columns
from relevo.loaders.fold.errors import NotFoldable
from relevo.loaders.fold.link import class_probabilities


class LinearFold:
    """Class probabilities of a folded logistic regression, one row at a time."""

    def __init__(self, intercept: Sequence[float], categorical: dict[str, dict[Any, tuple[float, ...]]],
                 numeric: dict[str, tuple[float, ...]], probes: dict[str, list[Any]]) -> None:
        self.intercept = tuple(intercept)
        self.categorical = list(categorical.items())
        self.numeric = list(numeric.items())
        self.probes = probes  # per input, values the load-time check tries

    @property
    def binary(self) -> bool:
        """One raw score (two classes)."""
        return len(self.intercept) == 1

    def probabilities(self, row: Mapping[str, Any]) -> list[float]:
        """Probabilities in class order; RowNotFoldable for a value only scikit-learn may judge."""
        z = list(self.intercept)
        for name, table in self.categorical:
            weights = table.get(category(row[name]))
            if weights is not None:  # an unknown category encodes as zeros
                for k, w in enumerate(weights):
                    z[k] += w
        for name, slopes in self.numeric:
            value = number(row[name])
            for k, slope in enumerate(slopes):
                z[k] += slope * value
        return class_probabilities(z)


def fold_linear(features: Any, classifier: Any, names: Sequence[str]) -> LinearFold:
    """The fold of a fitted LogisticRegression behind a ColumnTransformer (features), or alone (None)."""
    if type(classifier) is not LogisticRegression:
        raise NotFoldable(f"{type(classifier).__name__} is not a LogisticRegression")
    coef = np.asarray(classifier.coef_, dtype=np.float64)
    intercept = np.asarray(classifier.intercept_, dtype=np.float64).reshape(-1)
    if len(classifier.classes_) > 2 and coef.shape[0] != len(classifier.classes_):
        raise NotFoldable("a one-vs-rest multi-class model is not folded")
    columns = read_columns(features, names)
    width = sum(len(c.categories) if isinstance(c, Categories) else 1 for c in columns)
    if width != coef.shape[1]:
        raise NotFoldable("the features do not line up with the classifier's coefficients")
    shift = intercept.copy()
    slopes: dict[str, np.ndarray] = {}
    tables: dict[str, dict[Any, np.ndarray]] = {}
    probes: dict[str, list[Any]] = {}
    rng = np.random.default_rng(0)
    position = 0
    for column in columns:
        if isinstance(column, Number):
            w = coef[:, position] / column.scale
            shift -= w * column.mean
            slopes[column.name] = slopes.get(column.name, 0) + w
            probes[column.name] = (column.mean + column.scale * rng.normal(0, 2, 16)).tolist()
            position += 1
        else:
            table = tables.setdefault(column.name, {})
            for value in column.categories:
                table[value] = table.get(value, 0) + coef[:, position]
                position += 1
            probes[column.name] = list(column.categories) + [None]
    return LinearFold(
        tuple(shift),
        {name: {c: tuple(map(float, w)) for c, w in table.items()} for name, table in tables.items()},
        {name: tuple(map(float, s)) for name, s in slopes.items()},
        probes,
    )

