"""A Model around any scikit-learn-style estimator (loaded from skops or pickle)."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from relevo.errors import InvalidInput
from relevo.loaders.base import Prediction
from relevo.loaders.errors import ModelFailure
from relevo.loaders.outputs import Answers
from relevo.loaders.rows import to_matrix
from relevo.registry.metadata import Signature


class EstimatorModel:
    """Answers with predict_proba when the estimator has it, predict otherwise."""

    def __init__(self, estimator: Any, signature: Signature, source: str) -> None:
        _check_inputs(estimator, signature, source)
        self.estimator = estimator
        self.signature = signature
        self.source = source
        self.answers = Answers(signature, source)
        self.has_proba = hasattr(estimator, "predict_proba") and hasattr(estimator, "classes_")
        if self.has_proba:
            self.classes = np.asarray([str(c) for c in estimator.classes_], dtype=object)

    def predict(self, rows: Sequence[Mapping[str, Any]]) -> list[Prediction]:
        """One Prediction per row; ModelFailure if the estimator fails or answers off-signature."""
        if not rows:
            return []
        matrix = to_matrix(rows, self.signature)
        if self.has_proba:
            proba = self._call("predict_proba", matrix)
            if proba.ndim != 2 or proba.shape != (len(rows), len(self.classes)):
                raise ModelFailure(
                    f"model {self.source} returned probabilities of shape {proba.shape}, "
                    f"expected ({len(rows)}, {len(self.classes)})"
                )
            decisions = self.classes[proba.argmax(axis=1)]
            return [
                self.answers.make(decision, dict(zip(self.classes, row)))
                for decision, row in zip(decisions, proba.tolist())
            ]
        labels = self._call("predict", matrix).reshape(-1)
        if labels.shape != (len(rows),):
            raise ModelFailure(f"model {self.source} returned {labels.shape[0]} answers for {len(rows)} rows")
        return [self.answers.make(label) for label in labels.tolist()]

    def _call(self, method: str, matrix: np.ndarray) -> np.ndarray:
        try:
            return np.asarray(getattr(self.estimator, method)(matrix))
        except Exception as exc:  # an estimator can raise anything; the caller needs one error type
            raise ModelFailure(
                f"model {self.source} failed in {method}: {type(exc).__name__}: {exc}"
            ) from exc


def _check_inputs(estimator: Any, signature: Signature, source: str) -> None:
    # Rows reach the estimator as a bare array, so column order is all that ties inputs to features.
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None and [str(n) for n in names] != signature.names:
        raise InvalidInput(
            f"model {source} was fitted on features {list(map(str, names))}, "
            f"but the signature's inputs are {signature.names} (same names, same order needed)"
        )
    count = getattr(estimator, "n_features_in_", None)
    if count is not None and count != len(signature.names):
        raise InvalidInput(
            f"model {source} expects {count} features, but the signature lists {len(signature.names)} inputs"
        )
