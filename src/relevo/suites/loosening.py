"""What a new test suite weakens against the one it replaces.

A suite gates every release (its smoke cases before any traffic, its full run on the checklist),
so replacing it with a weaker one would open the gate quietly: an operator could drop the golden
case a bad candidate fails, or widen a regression margin until it passes. As with a service's
spec (relevo.services.changes), anything this module cannot show to be at least as strict counts
as loosening, and a loosened suite needs an approver's override with a written reason.
"""

from __future__ import annotations

from relevo.suites.suite import Suite


def _golden(old: Suite, new: Suite) -> list[str]:
    out = []
    after = {case.name: case for case in new.golden}
    for case in old.golden:
        kept = after.get(case.name)
        if kept is None:
            out.append(f"golden case {case.name} is dropped")
        elif kept.inputs != case.inputs or kept.expect != case.expect:
            out.append(f"golden case {case.name} asks another decision or of other inputs")
        elif case.probability is not None and (kept.probability != case.probability
                                               or kept.tolerance > case.tolerance):
            out.append(f"golden case {case.name}'s probability is dropped, moved or given more tolerance")
    smoke_before = {case.name for case in old.smoke_cases}
    smoke_after = {case.name for case in new.smoke_cases}
    dropped = {case.name for case in old.golden} - set(after)  # said once, above
    out += [f"smoke case {name} no longer runs before traffic" for name in sorted(smoke_before - smoke_after - dropped)]
    return out


def _reference(old: Suite, new: Suite) -> list[str]:
    if not old.reference_rows:
        return []
    kept = {(repr(sorted(row.items())), label) for row, label in zip(new.reference_rows, new.reference_labels)}
    missing = sum((repr(sorted(row.items())), label) not in kept
                  for row, label in zip(old.reference_rows, old.reference_labels))
    return [f"{missing} of the {len(old.reference_rows)} reference cases are dropped or relabelled"] if missing else []


def _regression(old: Suite, new: Suite) -> list[str]:
    if old.regression is None:
        return []
    if new.regression is None:
        return ["the regression check is dropped"]
    out = ["regression no longer checks each protected group"] if old.regression.by_group and not new.regression.by_group else []
    after = {m.title: m for m in new.regression.metrics}
    for metric in old.regression.metrics:
        kept = after.get(metric.title)
        if kept is None:
            out.append(f"regression drops {metric.title}")
            continue
        if kept.margin > metric.margin:
            out.append(f"regression allows {metric.title} to drop {kept.margin:g} (was {metric.margin:g})")
        if (kept.group_margin or kept.margin) > (metric.group_margin or metric.margin):
            out.append(f"regression allows {metric.title} to drop more within a group")
    return out


def _others(old: Suite, new: Suite) -> list[str]:
    out = [f"alpha is larger ({new.alpha:g}, was {old.alpha:g}): narrower intervals pass more easily"
           ] if new.alpha > old.alpha else []
    if old.latency is not None:
        if new.latency is None:
            out.append("the latency check is dropped")
        elif new.latency.p95_ms > old.latency.p95_ms or new.latency.calls < old.latency.calls:
            out.append(f"latency allows p95 {new.latency.p95_ms:g} ms over {new.latency.calls} calls "
                       f"(was {old.latency.p95_ms:g} ms over {old.latency.calls})")
    if old.robustness is not None:
        if new.robustness is None:
            out.append("the robustness check is dropped")
        elif new.robustness.examples < old.robustness.examples:
            out.append(f"robustness generates {new.robustness.examples} cases (was {old.robustness.examples})")
    after = {(f.attribute, f.label): f for f in new.fairness}
    for check in old.fairness:
        kept = after.get((check.attribute, check.label))
        if kept is None:
            out.append(f"the fairness check on {check.attribute} ({check.label}) is dropped")
        elif kept.min_ratio < check.min_ratio:
            out.append(f"fairness on {check.attribute} accepts a ratio of {kept.min_ratio:g} (was {check.min_ratio:g})")
    return out


def suite_loosened(old: Suite, new: Suite) -> list[str]:
    """Each way new is weaker than old, in words; empty when new asks at least as much."""
    return _golden(old, new) + _reference(old, new) + _regression(old, new) + _others(old, new)
