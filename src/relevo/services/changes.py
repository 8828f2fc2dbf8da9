"""What a change to a service spec does: which decision rules it changes and what it loosens.

On a service already answering citizens, `service apply` may only tighten what judges and
guards its rollouts, or change what decides nothing (a description, the owner). A change to the
decision rules (relevo.services.catalogue.DECISION_RULES: what is accepted, the labels, the
fallback, the threshold, the timeout...) changes citizens' answers, and loosening a role, a
criterion, a guard or a plan weakens a gate: either is a spec release, rolled out and judged
like a model. Anything this module cannot show to be stricter counts as loosening.
"""

from __future__ import annotations

from dataclasses import dataclass

from relevo.services.catalogue import DECISION_RULES, decision_rules
from relevo.services.spec import ServiceSpec

# Criterion fields where a larger value asks more (min_*) or less (the rest) of a candidate.
STRICTER_WHEN_LARGER = ("min_sample", "min_ratio", "min_agreement")
STRICTER_WHEN_SMALLER = ("budget_ms", "max_share")


@dataclass(frozen=True)
class SpecChanges:
    """The parts a spec change touches."""

    decision_rules: list[str]  # DECISION_RULES fields that differ
    loosened: list[str]  # each way the change weakens a role, criterion, guard or plan
    other: list[str]  # fields that decide nothing (description, owner) or only tighten

    @property
    def needs_release(self) -> bool:
        """True when the change must be rolled out as a spec release on a live service."""
        return bool(self.decision_rules or self.loosened)


def _form(c) -> tuple[bool, ...]:
    """Which of a criterion's limits are set: a change there is another test, not a stricter one."""
    return tuple(getattr(c, name) is not None for name in ("tolerance", "max_share", "budget_ms", "min_ratio",
                                                              "min_agreement"))


def _tolerance_loosened(old, new) -> bool:
    if old is None or new is None:
        return old is not None and new is None
    if (old.relative is None) != (new.relative is None):
        return True  # another scale: not comparable, so not shown to be stricter
    if old.relative is not None:
        return new.relative > old.relative
    return new.absolute > old.absolute


def _criteria(old: ServiceSpec, new: ServiceSpec) -> list[str]:
    out = []
    before = {c.name: c for c in old.rollout.criteria}
    after = {c.name: c for c in new.rollout.criteria}
    for key in sorted(set(before) - set(after)):
        out.append(f"rollout.criteria drops {key}")
    for key in sorted(set(before) & set(after)):
        a, b = before[key], after[key]
        if _form(a) != _form(b):
            out.append(f"rollout.criteria {key}: another kind of test")
            continue
        if _tolerance_loosened(a.tolerance, b.tolerance):
            out.append(f"rollout.criteria {key}: a wider tolerance")
        for name in STRICTER_WHEN_LARGER:
            if getattr(b, name) is not None and getattr(a, name) is not None and getattr(b, name) < getattr(a, name):
                out.append(f"rollout.criteria {key}: a lower {name}")
        for name in STRICTER_WHEN_SMALLER:
            if getattr(b, name) is not None and getattr(a, name) is not None and getattr(b, name) > getattr(a, name):
                out.append(f"rollout.criteria {key}: a higher {name}")
        if a.review_delay != b.review_delay:
            out.append(f"rollout.criteria {key}: another review_delay")
    return out


def _guards(old: ServiceSpec, new: ServiceSpec) -> list[str]:
    remaining = list(new.rollout.guards)
    out = []
    for guard in old.rollout.guards:
        # kept if some new guard on the same metric trips at least as soon
        match = next((g for g in remaining if g.metric == guard.metric and g.max_share <= guard.max_share
                      and g.last <= guard.last and (guard.budget_ms is None or (
                          g.budget_ms is not None and g.budget_ms <= guard.budget_ms))), None)
        if match is None:
            out.append(f"rollout.guards: the {guard.metric} guard ({guard.max_share:.0%} of the last {guard.last}) "
                       f"is dropped or loosened")
        else:
            remaining.remove(match)
    return out


def _roles(old: ServiceSpec, new: ServiceSpec) -> list[str]:
    out = []
    for role in ("operators", "approvers", "incident_owners"):
        before, after = set(getattr(old.roles, role)), set(getattr(new.roles, role))
        if before and not after:
            out.append(f"roles.{role} no longer names anyone, which lets anyone act")
        elif before and after - before:
            out.append(f"roles.{role} adds {', '.join(sorted(after - before))}")
    return out


def spec_changes(old: ServiceSpec, new: ServiceSpec) -> SpecChanges:
    """What changing a service's spec from old to new does."""
    before, after = old.model_dump(mode="json"), new.model_dump(mode="json")
    rules_before, rules_after = decision_rules(old), decision_rules(new)
    rules = [name for name in DECISION_RULES if rules_before.get(name) != rules_after.get(name)]
    loosened = _roles(old, new) + _criteria(old, new) + _guards(old, new)
    policy_before, policy_after = before["rollout"], after["rollout"]
    if policy_after["alpha"] > policy_before["alpha"]:
        loosened.append("rollout.alpha is larger (passes come easier)")
    if policy_before["require_approval"] and not policy_after["require_approval"]:
        loosened.append("rollout.require_approval is off")
    if (policy_before["plans"], policy_before["default_plan"]) != (policy_after["plans"], policy_after["default_plan"]):
        loosened.append("rollout.plans change (a plan can only be shown stricter by rolling it out)")
    touched = {k for k in after if before.get(k) != after.get(k)}
    other = sorted(touched - set(rules) - {"roles", "rollout"})
    return SpecChanges(rules, loosened, other)
