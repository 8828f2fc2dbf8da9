"""Reading rollouts back: status with the judge's live numbers, and history."""

from __future__ import annotations

from sqlalchemy import Connection, select

from relevo.context import Context
from relevo.errors import NotFound
from relevo.registry.queries import version_names
from relevo.rollouts.judgement import KeptVerdict, read_step, step_history
from relevo.rollouts.report import IncidentRef, ReleaseRef, RolloutStatus, RolloutSummary
from relevo.rollouts.review_report import ReviewReport
from relevo.rollouts.rollout import Rollout, active_rollout, load_rollout
from relevo.services.catalogue import get_spec
from relevo.store import connect
from relevo.store.tables import incidents, releases, rollouts


def _summary_fields(conn: Connection, rollout: Rollout) -> dict:
    names = version_names(conn, {rollout.stable_version_id, rollout.candidate_version_id})
    release = conn.execute(select(releases.c.digest, releases.c.spec_sha256)
                           .where(releases.c.id == rollout.release_id)).one()
    incident = None
    if rollout.incident_id:
        row = conn.execute(select(incidents.c.status, incidents.c.title)
                           .where(incidents.c.id == rollout.incident_id)).one()
        incident = IncidentRef(id=rollout.incident_id, status=row.status, title=row.title)
    return dict(
        id=rollout.id, service=rollout.service, environment=rollout.environment, state=rollout.state,
        stable=names[rollout.stable_version_id], candidate=names[rollout.candidate_version_id],
        release=ReleaseRef(id=rollout.release_id, digest=release.digest, spec_sha256=release.spec_sha256),
        plan=rollout.plan_name, steps=rollout.plan, step_index=rollout.step_index, step=rollout.step,
        step_started_at=rollout.step_started_at, step_ends_at=rollout.step_ends_at(),
        hold_reason=rollout.hold_reason, started_at=rollout.started_at, started_by=rollout.started_by,
        ended_at=rollout.ended_at, incident_id=rollout.incident_id, incident=incident)


def _pick(conn: Connection, service: str, environment: str, rollout_id: int | None) -> Rollout:
    if rollout_id is not None:
        return load_rollout(conn, rollout_id)
    rollout = active_rollout(conn, service, environment)
    if rollout is not None:
        return rollout
    latest = conn.execute(select(rollouts.c.id).where(
        rollouts.c.service == service, rollouts.c.environment == environment)
        .order_by(rollouts.c.id.desc()).limit(1)).scalar()
    if latest is None:
        raise NotFound(f"{service} has no rollout in {environment}")
    return load_rollout(conn, latest)


def rollout_status(ctx: Context, service: str, environment: str, rollout_id: int | None = None) -> RolloutStatus:
    """The rollout (given, active, or the latest) with its current step's verdicts and numbers."""
    with connect(ctx.engine) as conn:
        rollout = _pick(conn, service, environment, rollout_id)
        summary = _summary_fields(conn, rollout)
        # Every step's last recorded verdicts: finished steps stay readable.
        history = step_history(conn, rollout.id)
    judged_now = rollout.state in ("running", "paused", "held") and rollout.step["kind"] != "promote"
    paired = rollout.phase in ("shadow", "preview")
    judgement = history[-1] if history else None
    shadow = None
    review: ReviewReport | None = None
    if judged_now or paired:
        # The kept evidence, advanced in memory with what arrived since the controller last kept it.
        reading = read_step(ctx, rollout, keep=False, compare=True)
        if judged_now:
            judgement = KeptVerdict.of(reading.judgement, rollout, ctx.clock.now())
        shadow, review = reading.shadow, reading.review
    return RolloutStatus(**summary, phase=rollout.phase, history=history, judgement=judgement, shadow=shadow,
                         review=review)


def rollout_history(ctx: Context, service: str, environment: str | None = None) -> list[RolloutSummary]:
    """Every rollout of a service, newest first, with its incident."""
    query = select(rollouts).where(rollouts.c.service == service).order_by(rollouts.c.id.desc())
    if environment:
        query = query.where(rollouts.c.environment == environment)
    with connect(ctx.engine) as conn:
        get_spec(conn, service)  # a misspelt name is an error, not an empty history
        return [RolloutSummary(**_summary_fields(conn, Rollout(**row)))
                for row in conn.execute(query).mappings().all()]
