"""What a gateway holds for one service: the spec compiled, the route, the loaded versions.

A runtime is rebuilt (off the hot path) whenever the spec or the route changes, and swapped in
whole, so a request always sees one consistent picture.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

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


@dataclass
class LoadedVersion:
    """A version ready to answer: its model, a thread pool (for timeouts) and its circuit breaker."""

    record: VersionRecord
    model: Model
    executor: ThreadPoolExecutor
    breaker: CircuitBreaker

    @classmethod
    def of(cls, record: VersionRecord, model: Model, spec: ServiceSpec, clock: Clock, workers: int) -> "LoadedVersion":
        """Wrap a loaded model with its own pool and breaker."""
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"predict-{record.service}-{record.name}")
        return cls(record, model, pool, CircuitBreaker(spec.circuit_breaker, clock))

    def close(self) -> None:
        """Stop the pool without waiting for stuck calls."""
        self.executor.shutdown(wait=False, cancel_futures=True)


@dataclass(frozen=True)
class ServiceRuntime:
    """One consistent snapshot of how a service is answered."""

    spec: ServiceSpec
    spec_sha256: str
    validator: InputValidator
    rules: Rules
    route: Route | None
    stable: LoadedVersion | None
    candidate: LoadedVersion | None

    def choose(self, case_id: str) -> tuple[str | None, LoadedVersion | None]:
        """(arm, version) answering this case under the route; (None, None) when nothing can."""
        route = self.route
        if route is None:
            return None, None
        if route.mode == "bluegreen" and self.candidate is not None:
            return "candidate", self.candidate
        if (route.mode == "canary" and self.candidate is not None
                and goes_to_candidate(case_id, route.weight, salt=self.spec.name)):
            return "candidate", self.candidate
        if self.stable is not None:
            return "stable", self.stable
        return None, None

    @property
    def shadow(self) -> LoadedVersion | None:
        """The version that gets shadow copies, if the route is in shadow mode."""
        if self.route is not None and self.route.mode == "shadow":
            return self.candidate
        return None
