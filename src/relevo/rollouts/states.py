"""The rollout state machine: which action is legal in which state, and where it leads.

running   -> the controller judges the current step and advances, holds or rolls back
paused    -> a person stopped the clock-driven advance; traffic stays as it is
held      -> a step ended without conclusive evidence; a person extends, aborts or promotes
promoted  -> final, except that a person may revert it: back to the release that was stable
rolled_back, aborted, reverted -> final
"""

from __future__ import annotations

from relevo.errors import Conflict

FINAL = ("promoted", "rolled_back", "aborted", "reverted")
ACTIVE = ("running", "paused", "held")

TRANSITIONS: dict[tuple[str, str], str] = {
    ("running", "pause"): "paused",
    ("paused", "resume"): "running",
    ("running", "advance"): "running",
    ("running", "hold"): "held",
    ("held", "extend"): "running",
    ("held", "abort"): "aborted",
    ("paused", "abort"): "aborted",
    ("running", "abort"): "aborted",
    ("running", "promote"): "promoted",
    ("paused", "promote"): "promoted",
    ("held", "promote"): "promoted",
    ("running", "rollback"): "rolled_back",
    ("paused", "rollback"): "rolled_back",
    ("held", "rollback"): "rolled_back",
    ("promoted", "revert"): "reverted",
}


def next_state(state: str, action: str) -> str:
    """The state action leads to from state, or Conflict naming what is allowed instead."""
    try:
        return TRANSITIONS[(state, action)]
    except KeyError:
        allowed = sorted(a for (s, a) in TRANSITIONS if s == state)
        hint = f"; from {state} you can: {', '.join(allowed)}" if allowed else f"; {state} is final"
        if state == "promoted" and action != "revert":
            hint += " (to go back to the previous stable release: relevo rollout revert ID)"
        raise Conflict(f"cannot {action} a rollout that is {state}{hint}") from None
