"""Fairness: the ratio of the lowest group's rate of a decision to the highest group's, across a
protected input's groups in the reference set; it passes only when the interval's lower end is
at or above the threshold."""

from __future__ import annotations

from typing import Any, Sequence

from relevo.analysis.fixed_sample import selection_ratio
from relevo.suites.results import CheckResult
from relevo.suites.suite import Fairness


def run_fairness(checks: Sequence[Fairness], rows: Sequence[dict[str, Any]], decisions: Sequence[str | None],
                 alpha: float) -> list[CheckResult]:
    """One result per fairness check."""
    out = []
    for check in checks:
        counts: dict[str, list[int]] = {}
        for row, decision in zip(rows, decisions):
            value = row.get(check.attribute)
            if value is not None:
                tally = counts.setdefault(str(value), [0, 0])
                tally[0] += decision == check.label
                tally[1] += 1
        name = f"{check.attribute}: {check.label}"
        if len(counts) < 2:
            out.append(CheckResult("fairness", name, "not applicable",
                                   f"the reference set has {len(counts)} group of {check.attribute}; a ratio needs two"))
            continue
        ratio = selection_ratio({g: (s, n) for g, (s, n) in counts.items()}, alpha)
        rates = ", ".join(f"{g} {s / n:.3f}" for g, (s, n) in sorted(ratio.rates.items()))
        shown = ratio.lower >= check.min_ratio
        estimate = "undefined (no group has it)" if ratio.estimate is None else f"{ratio.estimate:.3f}"
        out.append(CheckResult(
            "fairness", name, "passed" if shown else "failed",
            f"ratio {estimate} ({ratio.lower:.3f} to {ratio.upper:.3f}); at least {check.min_ratio:g} "
            f"{'shown' if shown else 'not shown'}; rates: {rates}",
            measured=ratio.estimate, lower=ratio.lower, upper=ratio.upper))
    return out
