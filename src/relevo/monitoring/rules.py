"""An alert rule held against a window's report: breached, back to normal, or not evaluated.

A rule fires only on evidence. Point statistics (PSI, Jensen-Shannon, a missing rate, a share of
new values) are computed only with the minimum sample; KS and Wasserstein count their error bound
against the breach; a rate with an interval (corrections, accuracy, a ratio or gap between groups)
breaches only when its whole interval lies past the threshold. Back to normal needs the estimate
itself to be back on the right side; in between, an open alert stays open and none is opened.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from relevo.analysis.drift import FieldDrift
from relevo.monitoring.report import Interval, MonitorReport
from relevo.services.monitoring_policy import FALLING, AlertRule

State = Literal["breached", "normal", "holding", "not evaluated"]
STATISTICS = {"psi": "PSI", "ks": "KS", "wasserstein": "Wasserstein", "js": "Jensen-Shannon"}


@dataclass(frozen=True)
class Finding:
    """What one rule found in one window."""

    rule: str
    metric: str
    severity: str
    state: State
    summary: str
    values: dict[str, float] = field(default_factory=dict)  # what was measured, by field or group

    @property
    def breached(self) -> bool:
        """True when the rule fires."""
        return self.state == "breached"


def _field_value(rule: AlertRule, found: FieldDrift) -> tuple[float, float] | None:
    """(value held against the threshold, value shown) of a field for an input_drift rule."""
    shown = getattr(found, rule.statistic)
    if shown is None:
        return None
    if rule.statistic in ("ks", "wasserstein"):  # the least the exact statistic can be
        bound = getattr(found, f"{rule.statistic}_bound") or 0.0
        return max(0.0, shown - bound), shown
    return shown, shown


def _fields(rule: AlertRule, report: MonitorReport, min_sample: int) -> list[FieldDrift]:
    found = report.fields if rule.against == "reference" else report.fields_previous
    return [f for f in found if (rule.field is None or f.field == rule.field) and f.n >= min_sample]


def _by_field(rule: AlertRule, report: MonitorReport, min_sample: int, what: str) -> "Finding":
    measured: dict[str, float] = {}
    held: dict[str, float] = {}
    for f in _fields(rule, report, min_sample):
        if not f.compared:
            continue
        if rule.metric == "input_drift":
            pair = _field_value(rule, f)
            if pair is not None:
                held[f.field], measured[f.field] = pair
        elif rule.metric == "new_categories" and f.new_share is not None:
            held[f.field] = measured[f.field] = f.new_share
    if rule.metric == "missing_rate":  # measured wherever the window and the reference have the field
        for f in (report.fields if rule.field is None else [x for x in report.fields if x.field == rule.field]):
            if f.missing_rate is not None and f.reference_missing_rate is not None and report.decisions >= min_sample:
                held[f.field] = measured[f.field] = abs(f.missing_rate - f.reference_missing_rate)
    if not held:
        return _finding(rule, "not evaluated", f"no field had {what} with at least {min_sample} values")
    over = {name: measured[name] for name, value in held.items() if value > rule.threshold}
    if over:
        listed = ", ".join(f"{name} {value:.3g}" for name, value in sorted(over.items(), key=lambda kv: -kv[1]))
        return _finding(rule, "breached", f"{what} above {rule.threshold:g}: {listed}", measured)
    return _finding(rule, "normal", f"{what} within {rule.threshold:g} on {len(held)} fields", measured)


def _interval(rule: AlertRule, value: Interval | None, n: int, min_sample: int, what: str) -> "Finding":
    if value is None or value.estimate is None or n < min_sample:
        return _finding(rule, "not evaluated", f"{what}: {n} cases; at least {min_sample} needed")
    shown = f"{what} {value.estimate:.3g} ({value.lower:.3g} to {value.upper:.3g})"
    falling = rule.metric in FALLING
    if (value.upper < rule.threshold) if falling else (value.lower > rule.threshold):
        return _finding(rule, "breached", f"{shown}: {'below' if falling else 'above'} {rule.threshold:g}",
                        {what: value.estimate})
    if (value.estimate >= rule.threshold) if falling else (value.estimate <= rule.threshold):
        return _finding(rule, "normal", shown, {what: value.estimate})
    return _finding(rule, "holding", f"{shown}: past {rule.threshold:g}, not yet shown", {what: value.estimate})


def _groups(rule: AlertRule, report: MonitorReport, min_sample: int) -> "Finding":
    findings = []
    for fair in report.fairness:
        if rule.attribute is not None and fair.attribute != rule.attribute:
            continue
        n = sum(g.n for g in fair.groups) if rule.metric == "disparate_impact" else sum(g.reviewed for g in fair.groups)
        value = fair.ratio if rule.metric == "disparate_impact" else fair.correction_gap
        what = (f"{fair.attribute}: selection-rate ratio for {fair.label}" if rule.metric == "disparate_impact"
                else f"{fair.attribute}: gap in correction rates")
        findings.append(_interval(rule, value, n, min_sample, what))
    if not findings:
        return _finding(rule, "not evaluated", "no protected input with two groups in the window")
    for state in ("breached", "holding", "normal"):
        chosen = [f for f in findings if f.state == state]
        if chosen:
            values = {k: v for f in findings for k, v in f.values.items()}
            return _finding(rule, state, "; ".join(f.summary for f in chosen), values)
    return findings[0]


def _finding(rule: AlertRule, state: State, summary: str, values: dict[str, Any] | None = None) -> Finding:
    return Finding(rule.name, rule.metric, rule.severity, state, summary, dict(values or {}))


def evaluate(rule: AlertRule, report: MonitorReport, min_sample: int) -> Finding:
    """Hold one rule against one window's report."""
    needed = max(min_sample, rule.min_sample or 0)
    metric = rule.metric
    if metric == "input_drift":
        against = "the reference" if rule.against == "reference" else "the previous window"
        return _by_field(rule, report, needed, f"{STATISTICS[rule.statistic]} against {against}")
    if metric == "missing_rate":
        return _by_field(rule, report, needed, "change in the missing rate")
    if metric == "new_categories":
        return _by_field(rule, report, needed, "share of values the reference never had")
    if metric == "output_drift":
        out = report.output
        if out.psi is None:
            return _finding(rule, "not evaluated", f"decisions: {out.detail}")
        state: State = "breached" if out.psi > rule.threshold else "normal"
        return _finding(rule, state, f"PSI of the decisions against the previous window {out.psi:.3g}",
                        {"psi": out.psi})
    if metric == "score_drift":
        out = report.output
        if out.confidence_ks is None:
            return _finding(rule, "not evaluated", "the model's confidence: no previous window or too few values")
        least = out.confidence_ks - (out.confidence_ks_bound or 0.0)
        state = "breached" if least > rule.threshold else "normal"
        return _finding(rule, state, f"KS of the model's confidence against the previous window "
                        f"{out.confidence_ks:.3g}", {"ks": out.confidence_ks})
    perf = report.performance
    if metric == "correction_rate":
        c = perf.corrections
        return _interval(rule, Interval(c.estimate, c.lower, c.upper), c.n, needed, "share corrected")
    if metric == "accuracy":
        a = perf.accuracy
        return _interval(rule, Interval(a.estimate, a.lower, a.upper), a.n, needed, "share confirmed")
    if metric == "estimated_accuracy":
        e = perf.estimated
        return _interval(rule, Interval(e.estimate, e.lower, e.upper), e.n, needed,
                         "accuracy estimated from the model's probabilities")
    return _groups(rule, report, needed)
