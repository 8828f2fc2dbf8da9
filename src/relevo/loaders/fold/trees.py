"""A HistGradientBoostingClassifier walked in plain Python, one row at a time.

scikit-learn predicts a row through checks, a thread pool and array conversions that cost about
2 ms, while the walk itself is a few comparisons per tree. The fold keeps each tree's nodes as
lists and adds the leaves' values to the baseline in scikit-learn's order, so the raw score is
the same float; missing values (NaN) take each node's learned side, as in scikit-learn.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier

from relevo.loaders.fold.columns import Categories, FeatureVector, read_columns
from relevo.loaders.fold.errors import NotFoldable
from relevo.loaders.fold.link import class_probabilities

MAX_PROBES_PER_INPUT = 64


class TreesFold:
    """Class probabilities of a folded gradient-boosted classifier, one row at a time."""

    def __init__(self, vector: FeatureVector, baseline: list[float], trees: list[list[tuple]],
                 probes: dict[str, list[Any]]) -> None:
        self.vector = vector
        self.baseline = baseline
        self.trees = trees  # per iteration, one tree per raw score (one for a binary model)
        self.probes = probes

    @property
    def binary(self) -> bool:
        """One raw score (two classes)."""
        return len(self.baseline) == 1

    def probabilities(self, row: Mapping[str, Any]) -> list[float]:
        """Probabilities in class order; RowNotFoldable for a value only scikit-learn may judge."""
        x = self.vector(row)
        z = list(self.baseline)
        for iteration in self.trees:
            for k, (leaf, feature, threshold, missing_left, left, right, value) in enumerate(iteration):
                i = 0
                while not leaf[i]:
                    v = x[feature[i]]
                    if v != v:
                        i = left[i] if missing_left[i] else right[i]
                    elif v <= threshold[i]:
                        i = left[i]
                    else:
                        i = right[i]
                z[k] += value[i]
        return class_probabilities(z)


def fold_trees(features: Any, classifier: Any, names: Sequence[str]) -> TreesFold:
    """The fold of a fitted HistGradientBoostingClassifier behind a ColumnTransformer (features), or alone (None)."""
    if type(classifier) is not HistGradientBoostingClassifier:
        raise NotFoldable(f"{type(classifier).__name__} is not a HistGradientBoostingClassifier")
    if classifier.is_categorical_ is not None and bool(np.any(classifier.is_categorical_)):
        raise NotFoldable("native categorical features are not folded")
    columns = read_columns(features, names)
    vector = FeatureVector(columns, missing_numbers=True)
    if vector.size != classifier.n_features_in_:
        raise NotFoldable("the features do not line up with the classifier's inputs")
    baseline = np.asarray(classifier._baseline_prediction, dtype=np.float64).reshape(-1).tolist()
    trees = []
    thresholds: dict[int, list[float]] = {}
    for iteration in classifier._predictors:
        if len(iteration) != len(baseline):
            raise NotFoldable("one tree per raw score expected")
        walked = []
        for predictor in iteration:
            nodes = predictor.nodes
            if bool(np.any(nodes["is_categorical"])):
                raise NotFoldable("native categorical splits are not folded")
            walked.append(tuple(nodes[field].tolist() for field in
                                ("is_leaf", "feature_idx", "num_threshold", "missing_go_to_left", "left", "right", "value")))
            for is_leaf, feature, threshold in zip(nodes["is_leaf"], nodes["feature_idx"], nodes["num_threshold"]):
                if not is_leaf:
                    thresholds.setdefault(int(feature), []).append(float(threshold))
        trees.append(walked)
    return TreesFold(vector, baseline, trees, _probes(columns, thresholds))


def _probes(columns: list, thresholds: dict[int, list[float]]) -> dict[str, list[Any]]:
    """Per input, values on both sides of its split points (and NaN), or its categories."""
    probes: dict[str, list[Any]] = {}
    position = 0
    for column in columns:
        if isinstance(column, Categories):
            probes[column.name] = list(column.categories) + [None]
            position += len(column.categories)
            continue
        values = [None, math.nan, column.mean]
        for t in sorted(set(thresholds.get(position, [])))[:MAX_PROBES_PER_INPUT // 2]:
            x = t * column.scale + column.mean
            values += [x, float(np.nextafter(x, math.inf))]
        probes[column.name] = values
        position += 1
    return probes

