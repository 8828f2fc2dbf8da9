"""Regression: the candidate against the stable version on the same labelled cases, overall and
per group of each protected input; a metric passes only when its interval shows the drop, if
any, within the margin (a wide interval at a small count does not pass)."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from relevo.analysis.fixed_sample import paired_change
from relevo.services.spec import ServiceSpec
from relevo.suites.results import CheckResult
from relevo.suites.suite import Regression, RegressionMetric


def _groups(spec: ServiceSpec, rows: Sequence[dict[str, Any]], by_group: bool) -> list[tuple[str, np.ndarray]]:
    """("", every case) and, by_group, ("attribute=value", its cases) for every protected input's value seen."""
    out = [("", np.ones(len(rows), dtype=bool))]
    if by_group:
        for name, field in spec.inputs.items():
            if field.protected:
                values = np.array([str(row.get(name)) if row.get(name) is not None else "" for row in rows])
                out += [(f"{name}={value}", values == value) for value in sorted(set(values) - {""})]
    return out


def _result(metric: RegressionMetric, group: str, correct_candidate: np.ndarray, correct_stable: np.ndarray,
            alpha: float) -> CheckResult:
    gains = int((correct_candidate & ~correct_stable).sum())
    losses = int((correct_stable & ~correct_candidate).sum())
    change = paired_change(gains, losses, len(correct_candidate), alpha)
    name = metric.title + (f" [{group}]" if group else "")
    margin = metric.margin if not group or metric.group_margin is None else metric.group_margin
    shown = change.lower >= -margin
    detail = (f"{change.estimate:+.3f} ({change.lower:+.3f} to {change.upper:+.3f}) on {change.n} cases; "
              f"a drop of at most {margin:g} {'shown' if shown else 'not shown'}")
    return CheckResult("regression", name, "passed" if shown else "failed", detail, measured=change.estimate,
                       lower=change.lower, upper=change.upper)


def run_regression(check: Regression, spec: ServiceSpec, rows: Sequence[dict[str, Any]], labels: Sequence[str],
                   candidate: Sequence[str | None], stable: Sequence[str | None] | None, alpha: float,
                   no_stable: str = "") -> list[CheckResult]:
    """One result per metric and group; not applicable (with no_stable's reason) without a stable version."""
    if stable is None:
        return [CheckResult("regression", m.title, "not applicable", no_stable) for m in check.metrics]
    truth = np.array(labels, dtype=object)
    right_c = np.array(candidate, dtype=object) == truth
    right_s = np.array(stable, dtype=object) == truth
    out = []
    for metric in check.metrics:
        counted = np.ones(len(truth), dtype=bool) if metric.label is None else truth == metric.label
        for group, members in _groups(spec, rows, check.by_group):
            where = counted & members
            if where.any():
                out.append(_result(metric, group, right_c[where], right_s[where], alpha))
            elif not group:
                out.append(CheckResult("regression", metric.title, "failed",
                                       f"no reference case is truly {metric.label}: nothing shows its recall"))
    return out
