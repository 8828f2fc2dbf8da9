"""From raw scores to class probabilities, as scikit-learn's classifiers compute them."""

from __future__ import annotations

import math


def class_probabilities(z: list[float]) -> list[float]:
    """One raw score: the logistic of it for the second class; several: their softmax."""
    if len(z) == 1:
        p = expit(z[0])
        return [1.0 - p, p]
    top = max(z)
    exps = [math.exp(v - top) for v in z]
    total = sum(exps)
    return [e / total for e in exps]


def expit(z: float) -> float:
    """The logistic function; neither branch overflows exp for large |z|."""
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)
