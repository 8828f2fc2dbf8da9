"""Reading rollouts back: status with the judge's live numbers, and history."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from relevo.context import Context
from relevo.errors import NotFound
from relevo.rollouts.observations import observe_step
from relevo.rollouts.judgement import judge_step, judged_attributes, shown_earlier, step_history
from relevo.rollouts.rollout import Rollout, active_rollout, load_rollout
from relevo.rollouts.shadow_report import shadow_report
from relevo.services.catalogue import get_spec
from relevo.store import connect
from relevo.registry.queries import version_names
from relevo.store.tables import incidents, releases, rollouts


def _names(conn, rollout: Rollout) -> dict[int | None, str]:
    return version_names(conn, {rollout.stable_version_id, rollout.candidate_version_id})


def describe(conn, rollout: Rollout) -> dict[str, Any]:
    """A rollout as JSON-ready data."""
    names = _names(conn, rollout)
    release = conn.execute(select(releases.c.digest, releases.c.spec_sha256)
                           .where(releases.c.id == rollout.release_id)).one()
    return {
        "id": rollout.id, "service": rollout.service, "environment": rollout.environment, "state": rollout.state,
        "stable": names[rollout.stable_version_id], "candidate": names[rollout.candidate_version_id],
        "release": {"id": rollout.release_id, "digest": release.digest, "spec_sha256": release.spec_sha256},
        "plan": rollout.plan_name, "steps": rollout.plan, "step_index": rollout.step_index, "step": rollout.step,
        "step_started_at": rollout.step_started_at.isoformat(), "step_ends_at": rollout.step_ends_at().isoformat(),
        "hold_reason": rollout.hold_reason, "started_at": rollout.started_at.isoformat(),
        "started_by": rollout.started_by, "ended_at": rollout.ended_at.isoformat() if rollout.ended_at else None,
        "incident_id": rollout.incident_id,
    }


def rollout_status(ctx: Context, service: str, environment: str, rollout_id: int | None = None) -> dict[str, Any]:
    """The rollout (given, active, or the latest) with its current step's verdicts and numbers."""
    with connect(ctx.engine) as conn:
        if rollout_id is not None:
            rollout = load_rollout(conn, rollout_id)
        else:
            rollout = active_rollout(conn, service, environment)
            if rollout is None:
                latest = conn.execute(select(rollouts.c.id).where(
                    rollouts.c.service == service, rollouts.c.environment == environment)
                    .order_by(rollouts.c.id.desc()).limit(1)).scalar()
                if latest is None:
                    raise NotFound(f"{service} has no rollout in {environment}")
                rollout = load_rollout(conn, latest)
        data = describe(conn, rollout)
        # Every step's last recorded verdicts: finished steps stay readable.
        data["history"] = step_history(conn, rollout.id)
        shown = shown_earlier(conn, rollout, get_spec(conn, rollout.service).rollout)
    judged_now = rollout.state in ("running", "paused", "held") and rollout.step["kind"] != "promote"
    data["phase"] = rollout.phase
    paired = rollout.phase in ("shadow", "preview")
    if judged_now or paired:
        # One read of the step's decisions serves the verdicts and the paired comparison.
        with connect(ctx.engine) as conn:
            spec = get_spec(conn, rollout.service)
            protected = [name for name, field in spec.inputs.items() if field.protected]
            obs = observe_step(conn, rollout.service, rollout.environment, rollout.step_label,
                               attributes=sorted(set(protected) | set(judged_attributes(spec.rollout))))
    if judged_now:
        data["judgement"] = judge_step(spec.rollout, rollout, obs, ctx.clock.now(), shown).as_dict()
    elif data["history"]:
        data["judgement"] = data["history"][-1]
    if paired:
        # The paired comparison of a shadow step or blue/green preview, per protected group too.
        protected = [name for name, field in spec.inputs.items() if field.protected]
        data["shadow"] = shadow_report(obs, protected, spec.decisions, spec.rollout.alpha).as_dict()
    return data


def rollout_history(ctx: Context, service: str, environment: str | None = None) -> list[dict[str, Any]]:
    """Every rollout of a service, newest first, with its incident."""
    query = select(rollouts).where(rollouts.c.service == service).order_by(rollouts.c.id.desc())
    if environment:
        query = query.where(rollouts.c.environment == environment)
    with connect(ctx.engine) as conn:
        out = []
        for row in conn.execute(query).mappings().all():
            rollout = Rollout(**row)
            item = describe(conn, rollout)
            if rollout.incident_id:
                incident = conn.execute(select(incidents.c.status, incidents.c.title).where(
                    incidents.c.id == rollout.incident_id)).first()
                item["incident"] = {"id": rollout.incident_id, "status": incident.status, "title": incident.title}
            out.append(item)
    return out
