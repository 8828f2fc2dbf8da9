"""What a gateway holds for one service: the spec compiled, the route, the loaded versions.

A runtime is rebuilt (off the hot path) whenever the spec or the route changes, and swapped in
whole, so a request always sees one consistent picture.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from threadpoolctl import ThreadpoolController

from relevo.clock import Clock
from relevo.gateway.circuit import CircuitBreaker
from relevo.gateway.fallback import Rules
from relevo.gateway.validation import InputValidator
from relevo.loaders.base import Model
from relevo.registry.queries import VersionRecord
from relevo.routing.assign import goes_to_candidate
from relevo.routing.table import Route
from relevo.services.spec import ServiceSpec

log = logging.getLogger(__name__)


class CallTimeout(Exception):
    """The call did not return in time; it may still be running in its worker."""


@dataclass(eq=False)
class _Call:
    function: Callable[[Any], Any]
    argument: Any
    finished: Any = field(default_factory=threading.Lock)  # held until the call ends
    abandoned: bool = False
    result: Any = None
    error: BaseException | None = None


class CallPool:
    """Worker threads that run model calls, so that a caller stops waiting at its timeout.

    A call is one queue put and one lock wait: about 0.05 ms of hand-off here, against 0.1 ms
    for a ThreadPoolExecutor's future. A call whose caller gave up before it started is
    skipped; one already running cannot be stopped and keeps its worker until it returns. The
    workers are daemon threads, so a call stuck for good does not keep the process from exiting
    (a ThreadPoolExecutor joins its workers at exit).
    """

    def __init__(self, workers: int, name: str) -> None:
        # Finding the loaded OpenMP runtimes scans every shared library (milliseconds): done
        # here, as the version loads, rather than in each worker as it takes its first call.
        openmp = ThreadpoolController().select(user_api="openmp")
        self._calls: queue.SimpleQueue[_Call | None] = queue.SimpleQueue()
        self._workers = [threading.Thread(target=self._work, args=(openmp,), name=f"{name}-{i}", daemon=True)
                         for i in range(workers)]
        for worker in self._workers:
            worker.start()

    def call(self, function: Callable[[Any], Any], argument: Any, timeout: float) -> Any:
        """function(argument) from a worker; CallTimeout if it has not returned within timeout seconds."""
        call = _Call(function, argument)
        call.finished.acquire()
        self._calls.put(call)
        if not call.finished.acquire(timeout=timeout):
            call.abandoned = True
            raise CallTimeout(f"no answer within {timeout * 1000:g} ms")
        if call.error is not None:
            raise call.error
        return call.result

    def close(self) -> None:
        """Let the workers end once their current call returns; does not wait for them."""
        for _ in self._workers:
            self._calls.put(None)

    def _work(self, openmp: ThreadpoolController) -> None:
        # Concurrent requests already keep the cores busy. An OpenMP team per one-row call (as
        # scikit-learn's HistGradientBoosting starts) only makes the workers fight over them: on
        # 2 cores under load it took the demo's v2 from p99 4 ms to p99 100 ms, with outliers
        # past any timeout. OpenMP's thread count is per calling thread: this limits the workers.
        openmp.limit(limits=1)
        while (call := self._calls.get()) is not None:
            if call.abandoned:
                continue
            try:
                call.result = call.function(call.argument)
            except BaseException as exc:  # handed to the caller, whatever it is
                call.error = exc
            call.finished.release()


@dataclass
class LoadedVersion:
    """A version ready to answer: its model, its call pool (for timeouts) and its circuit breaker.

    A model that says it is `bounded` (it runs no code of the artifact's own and no I/O, as a
    folded scikit-learn pipeline: relevo.loaders.fold) has no pool and is called in the
    request's own thread: it cannot hang, so the hand-off to a worker (0.08 ms a call) buys
    nothing. Any other model is called in its pool, so that a caller stops waiting at the
    timeout even when the call never returns.
    """

    record: VersionRecord
    model: Model | None
    pool: CallPool | None
    breaker: CircuitBreaker
    unavailable: str | None = None  # why the routed version could not be loaded: every call fails

    @classmethod
    def of(cls, record: VersionRecord, model: Model, spec: ServiceSpec, clock: Clock, workers: int) -> "LoadedVersion":
        """Wrap a loaded model with its own pool (unless it is bounded) and breaker."""
        pool = None if getattr(model, "bounded", False) else CallPool(
            workers, name=f"predict-{record.service}-{record.name}")
        return cls(record, model, pool, CircuitBreaker(spec.circuit_breaker, clock))

    @classmethod
    def not_loaded(cls, record: VersionRecord, reason: str, spec: ServiceSpec, clock: Clock) -> "LoadedVersion":
        """A routed version that could not be loaded (tampered, missing, refused): it stays on its
        arm, so its cases are answered by the fallback and counted as its failures, where the
        judge and the guards see them, instead of silently going to the other version."""
        return cls(record, None, None, CircuitBreaker(spec.circuit_breaker, clock), unavailable=reason)

    def predict(self, inputs: dict[str, Any], timeout: float) -> Any:
        """The model's Prediction for one row; CallTimeout if a pooled call takes longer than timeout seconds."""
        if self.pool is None:
            [prediction] = self.model.predict([inputs])
        else:
            [prediction] = self.pool.call(self.model.predict, [inputs], timeout=timeout)
        return prediction

    def close(self) -> None:
        """Stop the pool without waiting for stuck calls."""
        if self.pool is not None:
            self.pool.close()


@dataclass(frozen=True)
class Policy:
    """What one spec makes of a case: which inputs it accepts, how a model's answer becomes a
    decision (labels, threshold), how long the model may take, and the fallback rules."""

    spec: ServiceSpec
    spec_sha256: str
    validator: InputValidator
    rules: Rules

    @classmethod
    def of(cls, spec: ServiceSpec, spec_sha256: str) -> "Policy":
        """Compile a spec."""
        return cls(spec, spec_sha256, InputValidator(spec), Rules(spec.fallback, spec.decisions))

    @property
    def timeout_s(self) -> float:
        """The model call's timeout in seconds."""
        return self.spec.timeout_ms / 1000

    def decision(self, label: str, probabilities: dict[str, float] | None) -> str | None:
        """The decision for a model's answer under this spec, or None when the answer is unusable."""
        if label not in self.spec.decisions or (
                probabilities and not all(math.isfinite(p) for p in probabilities.values())):
            return None
        threshold = self.spec.threshold
        if threshold is None:
            return label
        if not probabilities or threshold.label not in probabilities:
            return None  # the spec's threshold needs the model's probabilities
        if probabilities[threshold.label] >= threshold.min_probability:
            return threshold.label
        others = {k: v for k, v in probabilities.items() if k != threshold.label and k in self.spec.decisions}
        return max(others, key=others.__getitem__) if others else None


@dataclass(frozen=True)
class ServiceRuntime:
    """One consistent snapshot of how a service is answered."""

    policy: Policy  # the service's spec: the stable arm, the fallback without a route
    candidate_policy: Policy  # the candidate release's spec (the same policy for a model-only change)
    route: Route | None
    stable: LoadedVersion | None
    candidate: LoadedVersion | None

    @property
    def spec(self) -> ServiceSpec:
        """The service's spec."""
        return self.policy.spec

    @property
    def spec_sha256(self) -> str:
        """The service's spec hash."""
        return self.policy.spec_sha256

    def choose(self, case_id: str) -> tuple[str | None, LoadedVersion | None, Policy]:
        """(arm, version, policy) answering this case under the route; arm and version are None
        when no version can answer."""
        route = self.route
        if route is None:
            return None, None, self.policy
        if route.mode == "bluegreen" and self.candidate is not None:
            return "candidate", self.candidate, self.candidate_policy
        if (route.mode == "canary" and self.candidate is not None
                and goes_to_candidate(case_id, route.weight, salt=self.spec.name)):
            return "candidate", self.candidate, self.candidate_policy
        if self.stable is not None:
            return "stable", self.stable, self.policy
        return None, None, self.policy

    @property
    def shadow(self) -> LoadedVersion | None:
        """The version that gets shadow copies: the candidate, in shadow mode."""
        # Copies go only where the stable model answered (the gateway checks that), so under the
        # kill switch or a failing stable model nothing is shadowed.
        if self.route is not None and self.route.mode == "shadow":
            return self.candidate
        return None
