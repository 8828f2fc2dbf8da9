"""What a suite run found: one result per case or measure, and the run as recorded."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Outcome = Literal["passed", "failed", "not applicable"]


@dataclass(frozen=True)
class CheckResult:
    """One check's finding: what was measured against what was asked, in words and numbers."""

    check: str  # golden, regression, latency, robustness, fairness
    name: str  # the case, the metric (and group), the attribute
    outcome: Outcome
    detail: str
    measured: float | None = None
    lower: float | None = None
    upper: float | None = None
    seconds: float = 0.0


@dataclass(frozen=True)
class SuiteRun:
    """One run of a service's suite on a version, as stored."""

    id: int
    service: str
    version: str
    version_sha256: str
    suite_sha256: str
    kind: str  # full (relevo test) or smoke (before a rollout's first step)
    environment: str
    fingerprint: dict[str, Any]
    stable: str | None
    outcome: str  # passed or failed
    started_at: datetime
    finished_at: datetime
    ran_by: str
    results: list[CheckResult] = field(default_factory=list)

    @property
    def failures(self) -> list[CheckResult]:
        """The results that failed."""
        return [r for r in self.results if r.outcome == "failed"]


def overall(results: list[CheckResult]) -> str:
    """passed when nothing failed and something passed (zero checks run is never a pass)."""
    if any(r.outcome == "failed" for r in results) or not any(r.outcome == "passed" for r in results):
        return "failed"
    return "passed"
