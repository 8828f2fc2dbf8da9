"""Folds: a fitted scikit-learn pipeline turned into plain Python that answers one row fast.

One row at a time, scikit-learn spends 1.5-2 ms on input checks, conversions and thread pools
for the demo's models, while their arithmetic takes microseconds. A fold reproduces what the
estimator computes for the pipelines it knows exactly: a ColumnTransformer of one-hot encoders,
scalers and passthrough columns (relevo.loaders.fold.columns) ahead of a LogisticRegression
(linear) or a HistGradientBoostingClassifier (trees). At every load the fold is compared with
the estimator's own predict_proba on probe rows (every category, numbers on both sides of every
split, missing values) and used only if every probability agrees to 1e-9. A row it cannot read
exactly as scikit-learn would goes to scikit-learn. A fold runs no code of the artifact's and
no I/O, so its calls end in bounded time.
"""

from __future__ import annotations

import logging
import math
from typing import Any, Protocol, Sequence

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline

from relevo.loaders.fold.errors import NotFoldable, RowNotFoldable
from relevo.loaders.fold.linear import fold_linear
from relevo.loaders.fold.trees import fold_trees

log = logging.getLogger(__name__)

AGREEMENT = 1e-9  # largest difference in any probability, fold against estimator, on the probe rows
MIN_PROBE_ROWS = 64
MAX_PROBE_ROWS = 1024

__all__ = ["AGREEMENT", "Fold", "NotFoldable", "RowNotFoldable", "checked_fold", "fold"]


class Fold(Protocol):
    """What every fold offers."""

    binary: bool
    probes: dict[str, list[Any]]

    def probabilities(self, row: Any) -> list[float]:
        """Probabilities in the estimator's class order; RowNotFoldable for a value it leaves to scikit-learn."""
        ...


def fold(estimator: Any, names: Sequence[str]) -> Fold:
    """The fold of a fitted estimator over inputs `names` (model order); NotFoldable says why not."""
    if type(estimator) is Pipeline:
        steps = [step for _, step in estimator.steps if step is not None and step != "passthrough"]
        if len(steps) != 2 or type(steps[0]) is not ColumnTransformer:
            raise NotFoldable("only a ColumnTransformer followed by a classifier is folded")
        features, classifier = steps
    else:
        features, classifier = None, estimator
    reasons = []
    for folder in (fold_linear, fold_trees):
        try:
            return folder(features, classifier, names)
        except NotFoldable as exc:
            reasons.append(str(exc))
    raise NotFoldable("; ".join(reasons))


def checked_fold(estimator: Any, names: Sequence[str], source: str) -> Fold | None:
    """The fold when there is one and it agrees with estimator.predict_proba on probe rows, else None."""
    try:
        folded = fold(estimator, names)
    except NotFoldable as exc:
        log.debug("model %s keeps scikit-learn's path: %s", source, exc)
        return None
    try:
        rows = probe_rows(folded.probes, names)
        got = np.asarray([folded.probabilities(row) for row in rows])
        matrix = np.empty((len(rows), len(names)), dtype=object)
        matrix[:] = [[row[name] for name in names] for row in rows]
        expected = np.asarray(estimator.predict_proba(matrix), dtype=np.float64)
    except Exception as exc:  # a probe row either side cannot answer: nothing to compare
        log.warning("model %s keeps scikit-learn's path: probe rows failed: %s", source, exc)
        return None
    gap = float(np.abs(got - expected).max()) if got.shape == expected.shape else math.inf
    if not gap <= AGREEMENT:
        log.warning("model %s keeps scikit-learn's path: the fold differs by %.3g on probe rows", source, gap)
        return None
    return folded


def probe_rows(probes: dict[str, list[Any]], names: Sequence[str]) -> list[dict[str, Any]]:
    """Rows in which every probe value of every input appears, in shuffled combinations."""
    rng = np.random.default_rng(0)
    size = min(max([len(v) for v in probes.values()] + [MIN_PROBE_ROWS]), MAX_PROBE_ROWS)
    columns = {}
    for name, values in probes.items():
        order = rng.permutation(size) % len(values)  # each value at least once when size allows
        columns[name] = [values[i] for i in order]
    return [{name: columns[name][i] if name in columns else 0.0 for name in names} for i in range(size)]
