"""Hard guards: roll back at once when the candidate's last decisions fail or are slow too often.

No statistics here, on purpose: a guard is the safety net under the judge, for a candidate that
is plainly broken, and it trips on the candidate's own recent answers alone.
"""

from __future__ import annotations

import numpy as np

from relevo.rollouts.observations import StepObservations
from relevo.services.rollout_policy import Guard


def _last(values: np.ndarray, times: np.ndarray, n: int) -> np.ndarray:
    """The last n values in time order, with every value recorded at the same moment as the
    oldest of them (the store does not order those, so all of them or none)."""
    if values.size <= n:
        return values
    start = values.size - n
    while start > 0 and times[start - 1] == times[start]:
        start -= 1
    return values[start:]


def check_guards(guards: list[Guard], obs: StepObservations, shadow: bool = False) -> str | None:
    """The first hard guard the candidate breaches, described, or None."""
    for guard in guards:
        if shadow:
            mask = obs.shadowed  # failed copies included: a failing candidate must trip the guard
            failed, latency = obs.shadow_failed[mask], obs.shadow_latency_ms[mask]
        else:
            mask = obs.candidate
            failed, latency = obs.failed[mask], obs.latency_ms[mask]
        times = obs.created_at[mask]
        recent = _last(failed, times, guard.last) if guard.metric == "error_rate" else (
            _last(latency, times, guard.last) > (guard.budget_ms or float("inf")))
        if recent.size >= guard.last and recent.mean() > guard.max_share:
            return (f"guard {guard.metric}: {int(recent.sum())} of the candidate's last {recent.size} decisions "
                    f"({recent.mean():.0%}) exceed the {guard.max_share:.0%} limit")
    return None
