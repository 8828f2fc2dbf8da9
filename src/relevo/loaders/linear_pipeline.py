"""A fitted scikit-learn linear pipeline folded into per-input tables, to answer one row fast.

One row at a time, scikit-learn spends about 1.5 ms checking and converting inputs for the
demo's v1 while the model's arithmetic is some twenty multiply-adds. A Pipeline of a
ColumnTransformer (one-hot encoders, standard scalers, passthrough and dropped columns) ahead of
a LogisticRegression is a linear function of its inputs: each categorical input adds its
category's coefficients, each numeric one `slope * x`, the scalers' shifts join the intercept.
Folded once at load, a row costs a few dictionary lookups and multiply-adds (about 10 µs).

Only exact types with plain settings are folded (no dropped categories, no infrequent
categories, no sample-specific behaviour); anything else keeps scikit-learn's own path. The
fold must also agree with the estimator's predict_proba on probe rows to 1e-9 at load, or it
is not used. A row the fold cannot read exactly as scikit-learn would (a missing or non-finite
number, a category value that is neither a string nor a number) goes scikit-learn's way too.
The fold runs no code of the artifact's and no I/O, so it always returns in bounded time.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

log = logging.getLogger(__name__)

AGREEMENT = 1e-9  # largest difference in any probability, fold against estimator, on the probe rows


class NotFoldable(Exception):
    """The estimator is not one this module folds exactly."""


class RowNotFoldable(Exception):
    """This row holds a value the fold does not read as scikit-learn would."""


@dataclass(frozen=True)
class _Categorical:
    name: str
    # category -> its coefficient per output (one output for a binary model)
    table: dict[Any, tuple[float, ...]]


@dataclass(frozen=True)
class _Numeric:
    name: str
    slopes: tuple[float, ...]


class LinearPipeline:
    """Class probabilities of a folded linear pipeline, one row at a time."""

    def __init__(self, intercept: Sequence[float], categorical: list[_Categorical], numeric: list[_Numeric]) -> None:
        self.intercept = tuple(intercept)
        self.categorical = categorical
        self.numeric = numeric
        self.binary = len(self.intercept) == 1

    def probabilities(self, row: Mapping[str, Any]) -> list[float]:
        """Probabilities in class order; RowNotFoldable for a value only scikit-learn may judge."""
        z = list(self.intercept)
        for term in self.categorical:
            value = row[term.name]
            if not isinstance(value, (str, int, float)) or (isinstance(value, float) and value != value):
                raise RowNotFoldable(term.name)
            weights = term.table.get(value)
            if weights is not None:  # an unknown category encodes as zeros (handle_unknown="ignore")
                for k, w in enumerate(weights):
                    z[k] += w
        for term in self.numeric:
            value = row[term.name]
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                raise RowNotFoldable(term.name)
            for k, slope in enumerate(term.slopes):
                z[k] += slope * value
        if self.binary:
            p = _expit(z[0])
            return [1.0 - p, p]
        top = max(z)
        exps = [math.exp(v - top) for v in z]
        total = sum(exps)
        return [e / total for e in exps]


def fold(estimator: Any, names: Sequence[str]) -> LinearPipeline:
    """The fold of a fitted Pipeline(ColumnTransformer, LogisticRegression) or bare
    LogisticRegression over inputs `names` (model order); NotFoldable says why not."""
    if type(estimator) is Pipeline:
        steps = [step for _, step in estimator.steps if step is not None and step != "passthrough"]
        if len(steps) != 2 or type(steps[0]) is not ColumnTransformer:
            raise NotFoldable("only a ColumnTransformer followed by a LogisticRegression is folded")
        features, classifier = steps
    else:
        features, classifier = None, estimator
    if type(classifier) is not LogisticRegression:
        raise NotFoldable(f"{type(classifier).__name__} is not folded")
    coef = np.asarray(classifier.coef_, dtype=np.float64)
    intercept = np.asarray(classifier.intercept_, dtype=np.float64).reshape(-1)
    n_classes = len(classifier.classes_)
    if n_classes > 2 and coef.shape[0] != n_classes:
        raise NotFoldable("a one-vs-rest multi-class model is not folded")
    columns = _columns(features, names) if features is not None else [
        ("number", index, None) for index in range(len(names))]
    if sum(1 for kind, _, _ in columns if kind == "number") + sum(
            len(extra) for kind, _, extra in columns if kind == "category") != coef.shape[1]:
        raise NotFoldable("the features do not line up with the classifier's coefficients")
    shift = intercept.copy()
    slopes: dict[str, np.ndarray] = {}
    tables: dict[str, dict[Any, np.ndarray]] = {}
    position = 0
    for kind, index, extra in columns:
        name = names[index]
        if kind == "number":
            mean, scale = extra if extra is not None else (0.0, 1.0)
            w = coef[:, position] / scale
            shift -= w * mean
            slopes[name] = slopes.get(name, 0) + w
            position += 1
        else:
            table = tables.setdefault(name, {})
            for category in extra:
                table[category] = table.get(category, 0) + coef[:, position]
                position += 1
    return LinearPipeline(
        tuple(shift),
        [_Categorical(name, {c: tuple(map(float, w)) for c, w in table.items()}) for name, table in tables.items()],
        [_Numeric(name, tuple(map(float, s))) for name, s in slopes.items()],
    )


def checked_fold(estimator: Any, names: Sequence[str], source: str) -> LinearPipeline | None:
    """The fold when it exists and agrees with estimator.predict_proba on probe rows, else None."""
    try:
        folded = fold(estimator, names)
    except NotFoldable as exc:
        log.debug("model %s keeps scikit-learn's path: %s", source, exc)
        return None
    rows = _probe_rows(folded, names)
    matrix = np.empty((len(rows), len(names)), dtype=object)
    matrix[:] = [[row[name] for name in names] for row in rows]
    try:
        expected = np.asarray(estimator.predict_proba(matrix), dtype=np.float64)
    except Exception as exc:  # the estimator cannot answer its own probe rows: nothing to compare
        log.warning("model %s keeps scikit-learn's path: probe rows failed: %s", source, exc)
        return None
    got = np.asarray([folded.probabilities(row) for row in rows])
    gap = float(np.abs(got - expected).max()) if got.shape == expected.shape else math.inf
    if not gap <= AGREEMENT:
        log.warning("model %s keeps scikit-learn's path: the fold differs by %.3g on probe rows", source, gap)
        return None
    return folded


def _columns(features: ColumnTransformer, names: Sequence[str]) -> list[tuple[str, int, Any]]:
    """The ColumnTransformer's output features in order, as ("number", input index, (mean,
    scale) or None) or ("category", input index, categories)."""
    out: list[tuple[str, int, Any]] = []
    for _, transformer, selection in features.transformers_:
        if transformer == "drop":
            continue
        indices = _indices(selection, names)
        if transformer == "passthrough" or _identity(transformer):
            out += [("number", i, None) for i in indices]
        elif type(transformer) is StandardScaler:
            mean = transformer.mean_ if transformer.with_mean else np.zeros(len(indices))
            scale = transformer.scale_ if transformer.with_std else np.ones(len(indices))
            out += [("number", i, (float(m), float(s))) for i, m, s in zip(indices, mean, scale)]
        elif type(transformer) is OneHotEncoder:
            if (transformer.drop_idx_ is not None or getattr(transformer, "_infrequent_enabled", False)
                    or transformer.handle_unknown != "ignore"):
                raise NotFoldable("a one-hot encoder with dropped, infrequent or refused categories is not folded")
            for i, categories in zip(indices, transformer.categories_):
                values = categories.tolist()
                if not all(isinstance(v, str) for v in values) and not all(
                        isinstance(v, (int, float)) and math.isfinite(v) for v in values):
                    raise NotFoldable("categories must be all strings or all finite numbers")
                out.append(("category", i, values))
        else:
            raise NotFoldable(f"{type(transformer).__name__} in a ColumnTransformer is not folded")
    return out


def _identity(transformer: Any) -> bool:
    # A fitted ColumnTransformer holds "passthrough" columns as a FunctionTransformer with no function.
    return (type(transformer) is FunctionTransformer and transformer.func is None
            and not transformer.validate)


def _indices(selection: Any, names: Sequence[str]) -> list[int]:
    items = selection.tolist() if isinstance(selection, np.ndarray) else selection
    if isinstance(items, (int, str)):
        items = [items]
    if not isinstance(items, list) or not all(isinstance(i, (int, str)) and not isinstance(i, bool) for i in items):
        raise NotFoldable("only columns selected by index or name are folded")
    return [names.index(i) if isinstance(i, str) else i for i in items]


def _probe_rows(folded: LinearPipeline, names: Sequence[str]) -> list[dict[str, Any]]:
    """Every category of every input at least once, numbers spread around zero."""
    rng = np.random.default_rng(0)
    size = max([len(t.table) for t in folded.categorical] + [8])
    rows = []
    for i in range(size):
        row: dict[str, Any] = {name: 0.0 for name in names}
        for term in folded.categorical:
            categories = list(term.table)
            row[term.name] = categories[i % len(categories)]
        for term in folded.numeric:
            row[term.name] = float(rng.normal(0, 3))
        rows.append(row)
    return rows


def _expit(z: float) -> float:
    # Both branches avoid overflowing exp for large |z|.
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)
