"""The one interface every model loader implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Protocol, Sequence


@dataclass(frozen=True)
class Prediction:
    """One model answer: a decision label, and class probabilities where the model has them."""

    decision: str
    probabilities: Mapping[str, float] | None = None


class Model(Protocol):
    """A loaded model version, ready to answer."""

    def predict(self, rows: Sequence[Mapping[str, Any]]) -> list[Prediction]:
        """One Prediction per input row (a mapping of input name to value), in order."""
        ...
