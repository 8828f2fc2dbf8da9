"""Synthetic data, signatures and helper models shared by the loader tests."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from relevo.loaders import Prediction
from relevo.loaders.signature import ModelSpec, Signature

LABELS = ["deny", "grant"]  # sorted, as scikit-learn orders classes_
NUMERIC_NAMES = ["income", "household", "debt"]
MIXED_NAMES = ["income", "household", "region"]


def numeric_data(n: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three numeric inputs and a noisy grant/deny label."""
    rng = np.random.default_rng(seed)
    x = np.column_stack([rng.normal(30, 10, n), rng.integers(1, 6, n), rng.normal(5, 3, n)])
    score = 0.15 * (x[:, 0] - 30) - 0.4 * (x[:, 1] - 3) - 0.2 * (x[:, 2] - 5) + rng.normal(0, 1, n)
    return x, np.where(score > 0, "grant", "deny")


def mixed_data(n: int = 200, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Two numeric inputs and a categorical one, as an object array."""
    rng = np.random.default_rng(seed)
    income, household = rng.normal(30, 10, n), rng.integers(1, 6, n)
    region = rng.choice(["north", "south", "islands"], n)
    score = 0.15 * (income - 30) - 0.4 * (household - 3) + np.where(region == "islands", 1.5, 0)
    x = np.empty((n, 3), dtype=object)
    x[:, 0], x[:, 1], x[:, 2] = income, household, region
    return x, np.where(score + rng.normal(0, 1, n) > 0, "grant", "deny")


def signature(
    names: list[str], types: list[str], labels: list[str] = LABELS, probabilities: bool = True
) -> Signature:
    """A signature with the given inputs and labels."""
    return Signature.model_validate({
        "inputs": [{"name": n, "type": t} for n, t in zip(names, types)],
        "outputs": {"labels": labels, "probabilities": probabilities},
    })


NUMERIC_SIGNATURE = signature(NUMERIC_NAMES, ["number", "integer", "number"])
MIXED_SIGNATURE = signature(MIXED_NAMES, ["number", "integer", "string"])


def rows(x: np.ndarray, names: list[str]) -> list[dict[str, Any]]:
    """Input rows as mappings, with plain Python values as a JSON request would give."""
    return [dict(zip(names, values)) for values in x.tolist()]


def spec(format: str, entry: str | None = None, **extra: Any) -> ModelSpec:
    """A validated model spec."""
    return ModelSpec.model_validate({"format": format, "entry": entry, **extra})


class ThresholdClassifier(ClassifierMixin, BaseEstimator):
    """A custom estimator: skops does not trust its type by default."""

    def __init__(self, threshold: float = 30.0, above: str = "grant", below: str = "deny") -> None:
        self.threshold = threshold
        self.above = above
        self.below = below

    def fit(self, x: np.ndarray, y: np.ndarray) -> "ThresholdClassifier":
        self.classes_ = np.unique(y)
        self.n_features_in_ = np.asarray(x).shape[1]
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.where(np.asarray(x, dtype=float)[:, 0] > self.threshold, self.above, self.below)


def approve_rich(row: Mapping[str, Any]) -> tuple[str, dict[str, float]]:
    """An importable entrypoint: grant above an income of 30."""
    p = 0.9 if row["income"] > 30 else 0.2
    return ("grant" if p > 0.5 else "deny"), {"grant": p, "deny": 1 - p}


def approve_as_prediction(row: Mapping[str, Any]) -> Prediction:
    """An importable entrypoint answering with a Prediction."""
    return Prediction("grant" if row["income"] > 30 else "deny")
