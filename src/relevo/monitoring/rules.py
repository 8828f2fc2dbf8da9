"""An alert rule held against a window's report: breached, back to normal, holding, or not evaluated.

A rule fires only on evidence that what it watches is past its threshold, never on noise:
- PSI, Jensen-Shannon and Wasserstein are effect sizes whose noise is large at small counts (a
  hundred cases over thirty categories give a PSI near 0.3 with no drift at all), so beyond the
  threshold they also need a homogeneity test that shows the window and its reference differ,
  at ALPHA shared among the fields the rule watches;
- KS counts its sketch's error bound and both samples' sampling error (Dvoretzky-Kiefer-Wolfowitz)
  against the breach: the least the true distance can be must pass the threshold;
- a rate with an interval (a missing or new-value share, corrections, accuracy, a ratio or gap
  between groups) breaches only when its whole interval lies past the threshold.
Back to normal needs every item that breached to be evaluated again with its estimate back on the
right side; in between, an open alert stays open and none is opened.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from relevo.analysis.drift import FieldDrift, dkw
from relevo.analysis.fixed_sample import exact_interval
from relevo.analysis.performance import Estimated, Rate
from relevo.monitoring.report import Interval, MonitorReport
from relevo.services.monitoring_policy import FALLING, AlertRule

ALPHA = 0.01  # a rule's chance of firing on a window where nothing moved, at most
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
    breached: list[str] = field(default_factory=list)  # the items past the threshold, on evidence
    normal: list[str] = field(default_factory=list)  # the items evaluated and within it

    @property
    def is_breached(self) -> bool:
        """True when the rule fires."""
        return self.state == "breached"


@dataclass(frozen=True)
class _Item:
    """One thing a rule measured: its value, and whether the evidence shows it past the threshold."""

    name: str
    value: float
    shown: bool


def _judge(rule: AlertRule, items: list[_Item], what: str, empty: str) -> Finding:
    """A rule's finding from its items: breached when one is shown past the threshold, normal when
    every one is within it, holding otherwise."""
    if not items:
        return _finding(rule, "not evaluated", empty)
    falling = rule.metric in FALLING
    within = [i for i in items if (i.value >= rule.threshold if falling else i.value <= rule.threshold)]
    shown = [i for i in items if i.shown]
    values = {i.name: i.value for i in items}
    side = "below" if falling else "above"
    if shown:
        listed = ", ".join(f"{i.name} {i.value:.3g}" for i in sorted(shown, key=lambda i: i.value, reverse=not falling))
        return _finding(rule, "breached", f"{what} {side} {rule.threshold:g}: {listed}", values,
                        [i.name for i in shown], [i.name for i in within])
    if len(within) == len(items):
        return _finding(rule, "normal", f"{what} within {rule.threshold:g} on {len(items)} "
                        f"{'item' if len(items) == 1 else 'items'}", values, [], [i.name for i in within])
    past = [i for i in items if i not in within]
    listed = ", ".join(f"{i.name} {i.value:.3g}" for i in past)
    return _finding(rule, "holding", f"{what} {side} {rule.threshold:g} but not yet shown: {listed}", values, [],
                    [i.name for i in within])


def _fields(rule: AlertRule, report: MonitorReport, min_sample: int) -> list[FieldDrift]:
    found = report.fields if rule.against == "reference" else report.fields_previous
    return [f for f in found if (rule.field is None or f.field == rule.field) and f.n >= min_sample and f.compared]


def _drift(rule: AlertRule, report: MonitorReport, min_sample: int) -> Finding:
    fields = [f for f in _fields(rule, report, min_sample) if getattr(f, rule.statistic) is not None]
    share = ALPHA / max(len(fields), 1)
    items = []
    for f in fields:
        value = getattr(f, rule.statistic)
        if rule.statistic == "ks":  # the least the true distance can be
            least = value - (f.ks_bound or 0.0) - dkw(f.n, share / 2) - dkw(f.reference_n, share / 2)
            items.append(_Item(f.field, value, least > rule.threshold))
        else:
            margin = (f.wasserstein_bound or 0.0) if rule.statistic == "wasserstein" else 0.0
            differs = f.shift_p is not None and f.shift_p < share
            items.append(_Item(f.field, value, value - margin > rule.threshold and differs))
    against = "the reference" if rule.against == "reference" else "the previous window"
    return _judge(rule, items, f"{STATISTICS[rule.statistic]} against {against}",
                  f"no field with {STATISTICS[rule.statistic]} and at least {min_sample} values")


def _shares(rule: AlertRule, report: MonitorReport, min_sample: int) -> Finding:
    """missing_rate and new_categories: shares of the window's decisions, with exact intervals."""
    items = []
    fields = report.fields if rule.field is None else [f for f in report.fields if f.field == rule.field]
    share = ALPHA / max(len(fields), 1)
    for f in fields:
        if rule.metric == "missing_rate":
            if f.missing_rate is None or f.reference_missing_rate is None or report.decisions < min_sample:
                continue
            missing = round(f.missing_rate * report.decisions)
            low, high = exact_interval(missing, report.decisions, share)
            change = abs(f.missing_rate - f.reference_missing_rate)
            shown = low > f.reference_missing_rate + rule.threshold or high < f.reference_missing_rate - rule.threshold
            items.append(_Item(f.field, change, shown))
        elif f.compared and f.new_share is not None and f.n >= min_sample:
            low, _ = exact_interval(sum(f.new_categories.values()), f.n, share)
            items.append(_Item(f.field, f.new_share, low > rule.threshold))
    what = "change in the missing rate" if rule.metric == "missing_rate" else "share of values the reference never had"
    return _judge(rule, items, what, f"no field with a reference and at least {min_sample} values")


def _interval(rule: AlertRule, name: str, value: Interval | None, n: int, min_sample: int) -> _Item | None:
    if value is None or value.estimate is None or n < min_sample:
        return None
    shown = value.upper < rule.threshold if rule.metric in FALLING else value.lower > rule.threshold
    return _Item(name, value.estimate, shown)


def _groups(rule: AlertRule, report: MonitorReport, min_sample: int) -> Finding:
    items = []
    for fair in report.fairness:
        if rule.attribute is not None and fair.attribute != rule.attribute:
            continue
        if rule.metric == "disparate_impact":
            item = _interval(rule, fair.attribute, fair.ratio, sum(g.n for g in fair.groups), min_sample)
        else:
            item = _interval(rule, fair.attribute, fair.correction_gap, sum(g.reviewed for g in fair.groups),
                             min_sample)
        if item is not None:
            items.append(item)
    what = ("selection-rate ratio (lowest group over highest)" if rule.metric == "disparate_impact"
            else "gap in correction rates between groups")
    return _judge(rule, items, what, f"no protected input with two groups and at least {min_sample} cases")


def _finding(rule: AlertRule, state: State, summary: str, values: dict[str, float] | None = None,
             breached: list[str] | None = None, normal: list[str] | None = None) -> Finding:
    return Finding(rule.name, rule.metric, rule.severity, state, summary, dict(values or {}), list(breached or []),
                   list(normal or []))


def evaluate(rule: AlertRule, report: MonitorReport, min_sample: int) -> Finding:
    """Hold one rule against one window's report."""
    needed = max(min_sample, rule.min_sample or 0)
    metric = rule.metric
    if metric == "input_drift":
        return _drift(rule, report, needed)
    if metric in ("missing_rate", "new_categories"):
        return _shares(rule, report, needed)
    out = report.output
    if metric == "output_drift":
        items = [] if out.psi is None else [_Item("decisions", out.psi, out.psi > rule.threshold and
                                                  out.shift_p is not None and out.shift_p < ALPHA)]
        return _judge(rule, items, "PSI of the decisions against the previous window", out.detail)
    if metric == "score_drift":
        items = []
        if out.confidence_ks is not None:
            least = (out.confidence_ks - (out.confidence_ks_bound or 0.0) - dkw(out.confidence_n, ALPHA / 2)
                     - dkw(out.confidence_previous_n, ALPHA / 2))
            items.append(_Item("confidence", out.confidence_ks, least > rule.threshold))
        return _judge(rule, items, "KS of the model's confidence against the previous window",
                      "no previous window, or too few probabilities")
    perf = report.performance
    if metric in ("correction_rate", "accuracy", "estimated_accuracy"):
        rate: Rate | Estimated = (perf.corrections if metric == "correction_rate" else
                                  perf.accuracy if metric == "accuracy" else perf.estimated)
        what = {"correction_rate": "share corrected by case workers", "accuracy": "share confirmed by case workers",
                "estimated_accuracy": "accuracy the model's probabilities predict"}[metric]
        item = _interval(rule, metric, Interval(rate.estimate, rate.lower, rate.upper), rate.n, needed)
        return _judge(rule, [item] if item else [], what, f"{what}: {rate.n} cases; at least {needed} needed")
    return _groups(rule, report, needed)
