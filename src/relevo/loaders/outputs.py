"""Checking a model's answer against its signature and shaping it as a Prediction."""

from __future__ import annotations

from typing import Any, Mapping

from relevo.loaders.base import Prediction
from relevo.loaders.errors import InvalidOutput
from relevo.loaders.signature import Signature


class Answers:
    """Builds Predictions for one model, refusing labels its signature does not list."""

    def __init__(self, signature: Signature, source: str) -> None:
        self.labels = frozenset(signature.outputs.labels)
        self.with_probabilities = signature.outputs.probabilities
        self.source = source

    def make(self, decision: Any, probabilities: Mapping[Any, Any] | None = None) -> Prediction:
        """A checked Prediction; InvalidOutput if the model answered outside its signature."""
        label = str(decision)
        if label not in self.labels:
            raise InvalidOutput(
                f"model {self.source} answered {label!r}, which is not among the signature's "
                f"labels ({', '.join(sorted(self.labels))})"
            )
        if probabilities is None or not self.with_probabilities:
            return Prediction(label)
        shaped = {str(key): float(value) for key, value in probabilities.items()}
        unknown = sorted(set(shaped) - self.labels)
        if unknown:
            raise InvalidOutput(
                f"model {self.source} gave probabilities for labels not in its signature: "
                f"{', '.join(unknown)}"
            )
        return Prediction(label, shaped)
