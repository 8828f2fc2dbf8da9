"""A Model around any scikit-learn-style estimator (loaded from skops or pickle).

One row at a time, scikit-learn's per-call checks cost more than the arithmetic. Two of them
are settled once, or by us: a Pipeline checks on every call that each step is fitted, which
cannot change after loading, so its steps are called in turn directly (what
Pipeline.predict_proba does when no parameters are routed); and when every input value is a
finite number or a string, scikit-learn is told to skip its own finiteness scans
(`assume_finite`). For the demo's v1 that is about 0.1 ms of its 1.4 ms per row.

The pipelines a fold reproduces (one-hot encoders and scalers ahead of a logistic regression or
of gradient-boosted trees, as the demo's three versions) skip scikit-learn altogether: they are
folded at load and checked against the estimator there (relevo.loaders.fold), 0.02-0.14 ms a row.
"""

from __future__ import annotations

import math
from contextlib import nullcontext
from typing import Any, Mapping, Sequence

import numpy as np
import sklearn
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from relevo.errors import InvalidInput
from relevo.loaders.base import Prediction
from relevo.loaders.errors import ModelFailure
from relevo.loaders.fold import RowNotFoldable, checked_fold
from relevo.loaders.outputs import Answers
from relevo.loaders.rows import to_matrix
from relevo.loaders.signature import Signature


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
        self.pipeline = _fitted_pipeline_steps(estimator)
        # Fitted on a DataFrame (its columns named): rows travel as one, columns by name.
        self.columns = _fitted_columns(estimator, source)
        self.folded = (checked_fold(estimator, signature.names, source)
                       if self.has_proba and self.columns is None else None)
        # True when every call runs the fold or scikit-learn's own code for the fold's types (no
        # code of the artifact's, no I/O): the gateway may then call it without a timeout thread.
        self.bounded = self.folded is not None

    def predict(self, rows: Sequence[Mapping[str, Any]]) -> list[Prediction]:
        """One Prediction per row; ModelFailure if the estimator fails or answers off-signature."""
        if not rows:
            return []
        if self.folded is not None:
            try:
                return [self._answer(self.folded.probabilities(row)) for row in rows]
            except (RowNotFoldable, KeyError):
                pass  # scikit-learn's own path judges that row (and names a missing input)
        matrix = to_matrix(rows, self.signature)
        if self.columns is not None:
            matrix = self._frame(matrix)
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

    def _answer(self, probabilities: list[float]) -> Prediction:
        best = max(range(len(probabilities)), key=probabilities.__getitem__)  # first on a tie, as argmax
        return self.answers.make(self.classes[best], dict(zip(self.classes, probabilities)))

    def _frame(self, matrix: np.ndarray) -> Any:
        """The rows as the DataFrame the estimator was fitted on: its columns, in its order."""
        import pandas

        frame = pandas.DataFrame(matrix, columns=self.signature.names).infer_objects()
        return frame[self.columns]

    def _call(self, method: str, matrix: Any) -> np.ndarray:
        try:
            finite = isinstance(matrix, np.ndarray) and _all_finite(matrix)
            with sklearn.config_context(assume_finite=True) if finite else nullcontext():
                if self.pipeline is None:
                    return np.asarray(getattr(self.estimator, method)(matrix))
                transforms, final = self.pipeline
                for transform in transforms:
                    matrix = transform.transform(matrix)
                return np.asarray(getattr(final, method)(matrix))
        except Exception as exc:  # an estimator can raise anything; the caller needs one error type
            raise ModelFailure(
                f"model {self.source} failed in {method}: {type(exc).__name__}: {exc}"
            ) from exc


def _fitted_columns(estimator: Any, source: str) -> list[str] | None:
    """The column names an estimator fitted on a DataFrame reads (None: fitted on an array)."""
    names = getattr(estimator, "feature_names_in_", None)
    if names is None:
        return None
    try:
        import pandas  # noqa: F401
    except ImportError:
        raise InvalidInput(f"model {source} was fitted on a pandas DataFrame (it names its columns), so it reads "
                           "one: install pandas (pip install 'relevo[dataframe]') to serve it") from None
    return [str(n) for n in names]


def _check_inputs(estimator: Any, signature: Signature, source: str) -> None:
    # Fitted on a DataFrame, columns are matched by name; fitted on an array, by position.
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None and sorted(map(str, names)) != sorted(signature.names):
        missing = sorted(set(map(str, names)) - set(signature.names))
        extra = sorted(set(signature.names) - set(map(str, names)))
        raise InvalidInput(
            f"model {source} was fitted on the columns {list(map(str, names))}, but the signature's inputs are "
            f"{signature.names}" + (f"; add to the inputs: {', '.join(missing)}" if missing else "")
            + (f"; the model does not read: {', '.join(extra)}" if extra else ""))
    count = getattr(estimator, "n_features_in_", None)
    if count is not None and count != len(signature.names):
        raise InvalidInput(
            f"model {source} expects {count} features, but the signature lists {len(signature.names)} inputs"
        )


def _fitted_pipeline_steps(estimator: Any) -> tuple[list[Any], Any] | None:
    """(transformers, final estimator) of a fitted plain Pipeline, else None."""
    if type(estimator) is not Pipeline:  # a subclass may predict differently
        return None
    final = estimator.steps[-1][1]
    if final is None or final == "passthrough":
        return None
    try:
        check_is_fitted(estimator)
    except NotFittedError:
        return None  # let each call fail as scikit-learn says
    transforms = [step for _, step in estimator.steps[:-1] if step is not None and step != "passthrough"]
    return transforms, final


def _all_finite(matrix: np.ndarray) -> bool:
    """True when every value is a finite number or a string (so nothing is left to scan)."""
    if matrix.dtype != object:
        return bool(np.isfinite(matrix).all())
    for value in matrix.flat:
        if isinstance(value, str):
            continue
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            return False
    return True
