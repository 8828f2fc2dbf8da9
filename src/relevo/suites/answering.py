"""A version answering a suite's cases as the gateway would: same validation, same call with a
timeout, same reading of its answer; a version that hangs is found once and not asked again."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Sequence

from relevo.clock import Clock
from relevo.gateway.runtime import CallTimeout, LoadedVersion, Policy
from relevo.loaders.base import Model
from relevo.registry.queries import VersionRecord
from relevo.services.catalogue import spec_digest
from relevo.services.spec import ServiceSpec

# How long a call past the service's timeout may still take before the version counts as hung.
HANG_S = 5.0
BATCH = 500  # reference cases per call


@dataclass(frozen=True)
class Answer:
    """One case answered: the decision (None when the model's answer is unusable or it failed), its
    probabilities, the time taken, and what went wrong if anything did."""

    decision: str | None
    probabilities: dict[str, float] | None
    seconds: float
    problem: str | None = None


class Answering:
    """One loaded version, asked one case or many at a time."""

    def __init__(self, record: VersionRecord, model: Model, spec: ServiceSpec, clock: Clock) -> None:
        self.record = record
        self.policy = Policy.of(spec, spec_digest(spec))
        self.loaded = LoadedVersion.of(record, model, spec, clock, workers=1)
        self.hung: str | None = None  # the case it hung on: no further call is made
        self.hang_s = HANG_S  # read at load: a test may shorten it, a child process is told it

    @property
    def timeout_s(self) -> float:
        """The service's model timeout, in seconds."""
        return self.policy.timeout_s

    def answer(self, inputs: dict[str, Any], case: str) -> Answer:
        """The version's decision for one case, within the service's timeout."""
        if self.hung is not None:
            return Answer(None, None, 0.0, f"not asked: the version hung on {self.hung}")
        started = time.perf_counter()
        try:
            prediction = self.loaded.predict(inputs, self.timeout_s)
        except CallTimeout:
            self._check_alive(case)
            return Answer(None, None, time.perf_counter() - started,
                          f"no answer within the service's timeout ({self.timeout_s * 1000:g} ms)"
                          + (": it hung" if self.hung else ""))
        except Exception as exc:  # the model's own failure: the gateway would fall back
            return Answer(None, None, time.perf_counter() - started, f"failed: {type(exc).__name__}: {exc}")
        seconds = time.perf_counter() - started
        probabilities = dict(prediction.probabilities) if prediction.probabilities else None
        decision = self.policy.decision(prediction.decision, probabilities)
        if decision is None:
            return Answer(None, probabilities, seconds, f"answered {prediction.decision!r}, which is not a usable "
                          f"decision ({', '.join(self.policy.spec.decisions)})")
        return Answer(decision, probabilities, seconds)

    def answer_many(self, rows: Sequence[dict[str, Any]]) -> list[str | None]:
        """Decisions for many cases, BATCH at a time (None where an answer is unusable)."""
        out: list[str | None] = []
        for start in range(0, len(rows), BATCH):
            chunk = list(rows[start:start + BATCH])
            if self.hung is not None:
                out += [None] * len(chunk)
                continue
            try:
                if self.loaded.pool is None:
                    predictions = self.loaded.model.predict(chunk)  # type: ignore[union-attr]
                else:
                    predictions = self.loaded.pool.call(self.loaded.model.predict, chunk,  # type: ignore[union-attr]
                                                        timeout=self.hang_s + self.timeout_s * len(chunk))
            except CallTimeout:
                self.hung = f"reference cases {start + 1}-{start + len(chunk)}"
                out += [None] * len(chunk)
                continue
            except Exception:
                # One bad case fails a whole batch call: ask its cases one by one.
                out += [self.answer(row, f"reference case {start + i + 1}").decision for i, row in enumerate(chunk)]
                continue
            out += [self.policy.decision(p.decision, dict(p.probabilities) if p.probabilities else None)
                    for p in predictions]
        return out

    def _check_alive(self, case: str) -> None:
        """After a timeout: the version is hung unless its worker frees within hang_s."""
        if self.loaded.pool is None:
            return
        try:
            self.loaded.pool.call(lambda _: None, None, timeout=self.hang_s)
        except CallTimeout:
            self.hung = case

    def close(self) -> None:
        """Let the worker go (a hung call keeps it, as a daemon thread, until it returns)."""
        self.loaded.close()
