"""What reading a rollout back returns: typed results the CLI, the API and a dashboard render alike."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from relevo.rollouts.judgement import KeptVerdict
from relevo.rollouts.review_report import ReviewReport
from relevo.rollouts.shadow_report import ShadowReport


@dataclass(frozen=True, kw_only=True)
class ReleaseRef:
    """The release a rollout carries: its id, its digest and the spec's."""

    id: int
    digest: str
    spec_sha256: str


@dataclass(frozen=True, kw_only=True)
class IncidentRef:
    """The incident a rollout opened, as a list shows it."""

    id: int
    status: str
    title: str


@dataclass(frozen=True, kw_only=True)
class RolloutSummary:
    """One rollout: what it rolls out against what, where it stands, who started it."""

    id: int
    service: str
    environment: str
    state: str
    stable: str
    candidate: str
    release: ReleaseRef
    plan: str
    steps: list[dict[str, Any]]
    step_index: int
    step: dict[str, Any]
    step_started_at: datetime
    step_ends_at: datetime
    hold_reason: str | None
    started_at: datetime
    started_by: str
    ended_at: datetime | None
    incident_id: int | None
    incident: IncidentRef | None = None


@dataclass(frozen=True, kw_only=True)
class RolloutStatus(RolloutSummary):
    """A rollout with its evidence: every step's last kept verdict, the current step's judgement
    (live while the step is judged, else the last kept), in a paired step the comparison, and the
    answers the review policy held for case workers."""

    phase: str
    history: list[KeptVerdict]
    judgement: KeptVerdict | None = None
    shadow: ShadowReport | None = None
    review: ReviewReport | None = None
