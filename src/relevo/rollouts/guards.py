"""Hard guards: roll back at once when the candidate's last decisions fail or are slow too often.

No statistics here, on purpose: a guard is the safety net under the judge, for a candidate that
is plainly broken, and it trips on the candidate's own recent answers alone.
"""

from __future__ import annotations


from relevo.rollouts.ledger import Ledger, last_start
from relevo.rollouts.observations import StepObservations
from relevo.services.rollout_policy import Guard


def check_guards(guards: list[Guard], obs: StepObservations, shadow: bool = False,
                 ledger: Ledger | None = None) -> str | None:
    """The first hard guard the candidate breaches, described, or None; ledger: the step's kept
    evidence (obs then holds only the decisions since)."""
    ledger = ledger or Ledger()
    for index, guard in enumerate(guards):
        if shadow:
            mask = obs.shadowed  # failed copies included: a failing candidate must trip the guard
            failed, latency = obs.shadow_failed[mask], obs.shadow_latency_ms[mask]
        else:
            mask = obs.candidate
            failed, latency = obs.failed[mask], obs.latency_ms[mask]
        times, (failed, latency) = ledger.recent(f"guard/{index}", guard.last, obs.created_at[mask], failed, latency)
        start = last_start(times, guard.last)
        recent = failed[start:] if guard.metric == "error_rate" else (
            latency[start:] > (guard.budget_ms or float("inf")))
        if recent.size >= guard.last and recent.mean() > guard.max_share:
            return (f"guard {guard.metric}: {int(recent.sum())} of the candidate's last {recent.size} decisions "
                    f"({recent.mean():.0%}) exceed the {guard.max_share:.0%} limit")
    return None
