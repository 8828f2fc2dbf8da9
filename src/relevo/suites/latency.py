"""Latency: the 95th percentile of one-case calls, as the gateway makes them, under a budget."""

from __future__ import annotations

import itertools
import math
from typing import Any, Callable, Sequence

from relevo.suites.answering import Answering
from relevo.suites.results import CheckResult
from relevo.suites.suite import Latency


def run_latency(version: Answering, check: Latency, rows: Sequence[dict[str, Any]],
                step: Callable[[], None] = lambda: None) -> list[CheckResult]:
    """Time check.calls one-case calls over rows (cycled); the p95 (nearest rank) against the budget."""
    if not rows:
        return [CheckResult("latency", "p95", "not applicable", "no case to time (no golden or reference case)")]
    version.answer(dict(rows[0]), "the warm-up call")  # a first call may load what later ones reuse
    times, problems = [], []
    for row in itertools.islice(itertools.cycle(rows), check.calls):
        answer = version.answer(dict(row), "a latency call")
        times.append(answer.seconds * 1000)
        if answer.problem is not None:
            problems.append(answer.problem)
        step()
    times.sort()
    p95 = times[math.ceil(0.95 * len(times)) - 1]
    detail = f"p95 {p95:.2f} ms over {len(times)} calls, budget {check.p95_ms:g} ms"
    if problems:
        return [CheckResult("latency", "p95", "failed", f"{detail}; {len(problems)} calls failed: {problems[0]}",
                            measured=p95)]
    return [CheckResult("latency", "p95", "passed" if p95 <= check.p95_ms else "failed", detail, measured=p95)]
