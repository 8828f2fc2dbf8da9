"""A rollout as stored: its plan, where it is, and the labels its decisions carry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select

from relevo.errors import NotFound
from relevo.services.rollout_policy import WATCH_AFTER_SWITCH, parse_duration
from relevo.rollouts.states import ACTIVE
from relevo.store.tables import rollouts


@dataclass(frozen=True)
class Rollout:
    """A rollout as stored."""

    id: int
    service: str
    environment: str
    release_id: int
    stable_version_id: int
    candidate_version_id: int
    stable_release_id: int | None
    plan_name: str
    plan: list[dict[str, Any]]
    state: str
    step_index: int
    step_started_at: datetime
    step_extended_by_s: float
    hold_reason: str | None
    started_at: datetime
    started_by: str
    ended_at: datetime | None
    incident_id: int | None
    checklist: dict[str, Any] | None = None  # the checklist it started with (None before checklists were kept)

    @property
    def step(self) -> dict[str, Any]:
        """The current step of the plan."""
        return self.plan[self.step_index]

    @property
    def phase(self) -> str:
        """The step's kind, except that a blue/green step is in `preview`, then `switched`."""
        if self.step["kind"] != "bluegreen":
            return self.step["kind"]
        return "switched" if self.switched_at is not None else "preview"

    @property
    def switched_at(self) -> datetime | None:
        """When a blue/green step switched the candidate to every case (the rollout's copy of the
        plan records it on the step), or None."""
        value = self.step.get("switched_at")
        return None if value is None else datetime.fromisoformat(value)

    @property
    def step_label(self) -> str:
        """The label decisions under this step (and phase) carry."""
        label = f"rollout-{self.id}/step-{self.step_index}-{self.step['kind']}"
        return f"{label}-{self.phase}" if self.step["kind"] == "bluegreen" else label

    def step_ends_at(self) -> datetime:
        """When the current step's (or phase's) minimum duration, plus extensions, is over."""
        if self.phase == "switched":
            watch = parse_duration(self.step.get("watch_after_switch", WATCH_AFTER_SWITCH))
            return self.switched_at + watch + timedelta(seconds=self.step_extended_by_s)
        length = parse_duration(self.step.get("duration", "0s")) if "duration" in self.step else timedelta(0)
        return self.step_started_at + length + timedelta(seconds=self.step_extended_by_s)


def load_rollout(conn: Connection, rollout_id: int, lock: bool = False) -> Rollout:
    """A rollout by id, or NotFound."""
    query = select(rollouts).where(rollouts.c.id == rollout_id)
    row = conn.execute(query.with_for_update() if lock else query).mappings().first()
    if row is None:
        raise NotFound(f"no rollout {rollout_id}")
    return Rollout(**row)


def active_rollout(conn: Connection, service: str, environment: str) -> Rollout | None:
    """The service's rollout in progress in this environment, if any."""
    row = conn.execute(select(rollouts).where(rollouts.c.service == service, rollouts.c.environment == environment,
                                              rollouts.c.state.in_(ACTIVE))).mappings().first()
    return None if row is None else Rollout(**row)
