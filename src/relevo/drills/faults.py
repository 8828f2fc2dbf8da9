"""The faults a drill injects into its own gateway's models: a version that is down, slow, or biased
towards the unfavourable decision. The scratch gateway wraps every model it loads (Gateway's
`faults` hook); a wrapped model answers as the real one until its fault is switched on."""

from __future__ import annotations

import json
import threading
import time
import zlib
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from relevo.loaders.base import Model, Prediction
from relevo.registry.queries import VersionRecord


class ModelDown(RuntimeError):
    """What a version that is down raises on every call during a drill."""


@dataclass(frozen=True)
class Bias:
    """A candidate that answers `label` instead of its own answer on `share` of the cases it would decide otherwise."""

    label: str
    labels: tuple[str, ...]
    share: float

    def applies(self, row: Mapping[str, Any]) -> bool:
        """True for the cases the bias turns (chosen by a hash of the row, so the same case always turns)."""
        digest = zlib.crc32(json.dumps(row, sort_keys=True, default=str).encode())
        return digest % 1000 < self.share * 1000

    def prediction(self) -> Prediction:
        """The biased answer: the unfavourable label, all but certain (so no threshold keeps it out)."""
        others = [label for label in self.labels if label != self.label]
        rest = 0.01 / len(others) if others else 0.0
        return Prediction(self.label, {self.label: 0.99} | {label: rest for label in others})


class Faults:
    """The faults switched on, by version id; a drill's gateway wraps its models with `wrap`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._down: set[int] = set()
        self._slow: dict[int, float] = {}
        self._biased: dict[int, Bias] = {}

    def __call__(self, record: VersionRecord, model: Model) -> Model:
        """The gateway's hook: the model wrapped so that its version's faults apply."""
        return FaultyModel(model, record.id, self)

    def down(self, version_id: int) -> None:
        """Every call of the version raises from now on."""
        with self._lock:
            self._down.add(version_id)

    def slow(self, version_id: int, seconds: float) -> None:
        """Every call of the version sleeps this long first."""
        with self._lock:
            self._slow[version_id] = seconds

    def bias(self, version_id: int, bias: Bias) -> None:
        """The version answers with the bias."""
        with self._lock:
            self._biased[version_id] = bias

    def clear(self, version_id: int) -> None:
        """The version answers as itself again."""
        with self._lock:
            self._down.discard(version_id)
            self._slow.pop(version_id, None)
            self._biased.pop(version_id, None)

    def of(self, version_id: int) -> tuple[bool, float, Bias | None]:
        """(down, seconds of sleep, bias) of a version now."""
        with self._lock:
            return version_id in self._down, self._slow.get(version_id, 0.0), self._biased.get(version_id)


class FaultyModel:
    """A loaded model whose version's fault, when on, takes over. Never `bounded`: its calls go through
    the version's call pool, so the spec's timeout holds even when the real model is one that cannot hang."""

    bounded = False

    def __init__(self, model: Model, version_id: int, faults: Faults) -> None:
        self.model = model
        self.version_id = version_id
        self.faults = faults

    def predict(self, rows: Sequence[Mapping[str, Any]]) -> list[Prediction]:
        """The real model's answers, unless the version is down, slow or biased."""
        down, sleep, bias = self.faults.of(self.version_id)
        if down:
            raise ModelDown("the model is down (a drill's fault)")
        if sleep:
            time.sleep(sleep)
        answers = self.model.predict(rows)
        if bias is None:
            return answers
        return [bias.prediction() if answer.decision != bias.label and bias.applies(row) else answer
                for row, answer in zip(rows, answers)]
