"""Starting a rollout and every transition people or the controller make, each audited.

Routing follows the state: each step's traffic is set through the routing table (which every
gateway applies within a second), tagged with the step's label so its decisions can be judged.
Every transition the judge causes records the verdicts that caused it. A person's promotion
needs the evidence to have passed (relevo.rollouts.judgement.promotion_gaps) or an approver's
override with a written reason; a version that cannot answer is never promoted. After a
promotion, `revert` goes back to the release that was stable before it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, select

from relevo.audit import record_change
from relevo.context import Context
from relevo.errors import Conflict, IntegrityFailure, InvalidInput, NotFound, Refused
from relevo.governance import checklist_json, require_clear
from relevo.loaders.errors import ModelFailure
from relevo.registry.load import check_answers
from relevo.registry.queries import resolve_version, version_by_id, version_name
from relevo.registry.tags import move_tag_in, remove_tag_in
from relevo.rollouts.incidents import blocking_incidents, open_incident
from relevo.rollouts.judgement import StepJudgement, promotion_gaps, shown_earlier
from relevo.rollouts.overrides import Reason, check_reason, record_override
from relevo.clock import parse_duration
from relevo.rollouts.release import ensure_release
from relevo.rollouts.rollout import Rollout, active_rollout, load_rollout
from relevo.rollouts.states import next_state
from relevo.routing.environments import known_environment
from relevo.routing.table import Route, read_route, write_route
from relevo.services.catalogue import get_spec, spec_digest, write_spec
from relevo.services.roles import require_role
from relevo.services.spec import ServiceSpec
from relevo.services.windows import waiting_reason
from relevo.store import connect
from relevo.store.tables import releases, rollouts
from relevo.suites import SuiteRun, smoke_test

def step_route(rollout: Rollout, current: Route) -> Route:
    """The route the rollout's current step (and phase) needs: a blue/green preview mirrors
    copies to the candidate as shadow does; once switched the candidate answers every case."""
    step = rollout.step
    base = Route(service=rollout.service, environment=rollout.environment,
                 stable_version_id=rollout.stable_version_id, candidate_version_id=rollout.candidate_version_id,
                 mode="stable", weight=0.0, fallback_forced=current.fallback_forced if current else False,
                 step=rollout.step_label, revision=current.revision if current else 0,
                 candidate_release_id=rollout.release_id)
    if rollout.phase in ("shadow", "preview"):
        return replace(base, mode="shadow")
    if step["kind"] == "canary":
        return replace(base, mode="canary", weight=float(step["weight"]))
    if rollout.phase == "switched":
        return replace(base, mode="bluegreen", weight=100.0)
    return base


def apply_step_route(conn: Connection, ctx: Context, rollout: Rollout) -> Route:
    """Set the routing table for the rollout's current step (idempotent)."""
    current = read_route(conn, rollout.service, rollout.environment)
    wanted = step_route(rollout, current)
    if current is not None and (current.mode, current.weight, current.step, current.candidate_version_id,
                                current.stable_version_id) == (wanted.mode, wanted.weight, wanted.step,
                                                               wanted.candidate_version_id, wanted.stable_version_id):
        return current
    return write_route(conn, ctx, wanted.check(), current, "route.changed")


def _set(conn: Connection, rollout: Rollout, **values) -> None:
    conn.execute(rollouts.update().where(rollouts.c.id == rollout.id).values(**values))


def _where(rollout: Rollout | None) -> dict[str, Any] | None:
    return None if rollout is None else {"state": rollout.state, "step_index": rollout.step_index,
                                         "phase": rollout.phase}


def _audit(conn: Connection, ctx: Context, before: Rollout | None, action: str, notice: str | None = None,
           *, rollout_id: int | None = None, **details) -> None:
    """The transition's event: where the rollout was (before, None at its start) and is now."""
    if before is not None:
        rollout_id = before.id
    assert rollout_id is not None, "a rollout's first event names the rollout it starts"
    after = load_rollout(conn, rollout_id)
    # A notice goes to the people the service's RACI says are informed.
    informed = get_spec(conn, after.service).roles.informed if notice else ()
    record_change(conn, ctx, f"rollout.{action}", f"{after.service}/rollout-{after.id}",
                  {"environment": after.environment} | details | {"before": _where(before), "after": _where(after)},
                  notice=notice, informed=informed)


def start_rollout(ctx: Context, service: str, version: str | None, environment: str = "production",
                  plan: str | None = None, spec: ServiceSpec | None = None,
                  outside_window: Reason | None = None) -> Rollout:
    """Start rolling out a release against the stable version: version (default: the stable one)
    under spec (default: the service's current spec), so a spec-only change rolls out like a model.

    The plan, criteria and roles come from the service's current spec: a release cannot loosen
    the rules it is judged by. Outside the spec's maintenance windows the start is refused, naming
    the next opening, unless an approver overrides with a reason (outside_window).
    """
    known_environment(ctx, environment)
    if version is None and spec is None:
        raise InvalidInput("name the version to roll out, or give the new spec to roll out (--spec FILE)")
    smoke = _smoke(ctx, service, version, environment, spec)
    with connect(ctx.engine) as conn:
        rules = get_spec(conn, service)  # the current spec judges the rollout, whatever the release
        if spec is not None and spec.name != service:
            raise InvalidInput(f"the spec describes service {spec.name!r}, not {service!r}")
        candidate_spec = spec or rules
        require_role(conn, ctx, service, "operators")
        plan_name = plan or rules.rollout.default_plan
        if plan_name not in rules.rollout.plans:
            raise NotFound(f"unknown plan {plan_name!r}; plans of {service}: {', '.join(rules.rollout.plans)}")
        if active_rollout(conn, service, environment) is not None:
            raise Conflict(f"{service} already has a rollout in progress in {environment}")
        route = read_route(conn, service, environment)
        if route is None or route.stable_version_id is None:
            raise Conflict(f"{service} has no stable version in {environment}; set one with "
                           f"`relevo route {service} --env {environment} --stable VERSION`")
        candidate = resolve_version(conn, service, version or version_name(conn, route.stable_version_id))
        _require_window(conn, ctx, service, environment, candidate.name, rules, outside_window)
        candidate_sha = spec_digest(candidate_spec)
        spec_changed = candidate_sha != spec_digest(rules)
        if candidate.id == route.stable_version_id and not spec_changed:
            raise Conflict(f"{service} {candidate.name} is already the stable version in {environment}, under the "
                           f"same spec: nothing to roll out")
        blocking = blocking_incidents(conn, service, candidate.id, candidate_spec)
        if blocking:
            raise Refused(f"{service} {candidate.name}{' with this spec' if spec_changed else ''} repeats a change "
                          f"that was rolled back ("
                          + "; ".join(f"incident {i}: {what}" for i, what in blocking)
                          + "); its incident must record a cause and a remediation first "
                          "(`relevo incident document ID --cause ... --remediation ...`)")
        checklist = require_clear(conn, ctx, service, candidate, environment, candidate_spec, plan_name)
        release_id = ensure_release(conn, ctx, candidate, candidate_spec)
        stable_release_id = ensure_release(conn, ctx, resolve_version(conn, service, version_name(
            conn, route.stable_version_id)), rules)
        now = ctx.clock.now()
        steps = [s.model_dump(mode="json") for s in rules.rollout.plans[plan_name]]
        rollout_id = conn.execute(rollouts.insert().values(
            service=service, environment=environment, release_id=release_id, stable_version_id=route.stable_version_id,
            stable_release_id=stable_release_id,
            candidate_version_id=candidate.id, plan_name=plan_name, plan=steps, state="running", step_index=0,
            step_started_at=now, step_extended_by_s=0.0, started_at=now, started_by=ctx.actor,
            checklist=checklist_json(checklist))).inserted_primary_key[0]
        rollout = load_rollout(conn, rollout_id)
        stable_name = version_name(conn, route.stable_version_id)
        _audit(conn, ctx, None, "started", rollout_id=rollout_id,
               notice=f"{candidate.name} rollout started against {stable_name} in {environment} ({plan_name} plan)",
               version=candidate.name, stable=stable_name, plan=plan_name, release_id=release_id,
               spec_sha256=candidate_sha, spec_changed=spec_changed, consulted=rules.roles.consulted,
               smoke_test_run=None if smoke is None else smoke.id,
               checklist={i.item: i.state for i in checklist.items})
        if checklist.significant:
            # The change notice the technical documentation keeps (AI Act Annex IV 6).
            record_change(conn, ctx, at=now, action="release.change_notice",
                          subject=f"{service}/rollout-{rollout_id}",
                          details={"version": candidate.name, "stable": stable_name,
                                   "differences": checklist.significant,
                                   "substantial_modification": bool(checklist.substantial),
                                   "outside_change_plan": checklist.substantial})
        apply_step_route(conn, ctx, rollout)
    return rollout


def _smoke(ctx: Context, service: str, version: str | None, environment: str, spec: ServiceSpec | None) -> SuiteRun | None:
    """Run the suite's smoke cases on the candidate, under the spec it would serve with, before
    any traffic reaches it; Refused naming the failing cases. None when there is nothing to run."""
    with connect(ctx.engine) as conn:
        rules = get_spec(conn, service)
        require_role(conn, ctx, service, "operators")
        route = read_route(conn, service, environment)
        ref = version or (None if route is None or route.stable_version_id is None
                          else version_name(conn, route.stable_version_id))
    if ref is None:
        return None  # start_rollout refuses it, saying why
    try:
        run = smoke_test(ctx, service, ref, environment, spec or rules)
    except (IntegrityFailure, InvalidInput, ModelFailure) as exc:
        raise Refused(f"{service} {ref} cannot be loaded for its smoke tests, so no traffic will reach it: {exc}") from None
    if run is not None and run.outcome != "passed":
        failing = "; ".join(f"{r.name}: {r.detail}" for r in run.failures[:5]) or "no smoke case passed"
        raise Refused(f"{service} {run.version} failed its smoke tests (test run {run.id}), so no traffic will reach "
                      f"it: {failing}")
    return run


def transition(ctx: Context, rollout_id: int, action: str, *, reason: str = "", extend_by: str | None = None) -> Rollout:
    """pause, resume, extend (a held step) or abort, as a person asks; illegal moves are refused."""
    with connect(ctx.engine) as conn:
        rollout = load_rollout(conn, rollout_id, lock=True)
        require_role(conn, ctx, rollout.service, "operators")
        state = next_state(rollout.state, action)
        values: dict[str, Any] = {"state": state}
        if action == "extend":
            seconds = parse_duration(extend_by or "24h").total_seconds()
            values |= {"step_extended_by_s": rollout.step_extended_by_s + seconds, "hold_reason": None}
        if action == "abort":
            values["ended_at"] = ctx.clock.now()
            _route_stable(conn, ctx, rollout, rollout.stable_version_id)
        _set(conn, rollout, **values)
        _audit(conn, ctx, rollout, action, reason=reason, extend_by=extend_by)
        return load_rollout(conn, rollout_id)


def _route_stable(conn: Connection, ctx: Context, rollout: Rollout, stable_version_id: int) -> Route:
    current = read_route(conn, rollout.service, rollout.environment)
    wanted = Route(rollout.service, rollout.environment, stable_version_id, None, "stable", 0.0,
                   current.fallback_forced if current else False, None, current.revision if current else 0)
    return write_route(conn, ctx, wanted.check(), current, "route.changed")


def rollback(ctx: Context, rollout_id: int, reason: str, evidence: dict[str, Any] | None = None,
             automatic: bool = False) -> Rollout:
    """Send all traffic back to stable at once, open an incident and tell people."""
    with connect(ctx.engine) as conn:
        rollout = load_rollout(conn, rollout_id, lock=True)
        if not automatic:
            require_role(conn, ctx, rollout.service, "operators")
        state = next_state(rollout.state, "rollback")
        _route_stable(conn, ctx, rollout, rollout.stable_version_id)
        candidate = version_name(conn, rollout.candidate_version_id)
        incident_id = open_incident(
            conn, ctx, service=rollout.service, environment=rollout.environment, rollout_id=rollout.id,
            release_id=rollout.release_id, title=f"rollback of {rollout.service} {candidate}: {reason}",
            evidence={"reason": reason, "automatic": automatic, "step": rollout.step, "step_index": rollout.step_index}
            | (evidence or {}))
        _set(conn, rollout, state=state, ended_at=ctx.clock.now(), incident_id=incident_id)
        _audit(conn, ctx, rollout, "rolled_back",
               notice=f"{candidate} rolled back in {rollout.environment}: {reason}; incident {incident_id} opened",
               reason=reason, automatic=automatic, incident_id=incident_id,
               **_verdicts((evidence or {}).get("judgement")))
        return load_rollout(conn, rollout_id)


def promote(ctx: Context, rollout_id: int, *, automatic: bool = False, override: Reason | None = None) -> Rollout:
    """Make the candidate stable everywhere.

    The plan's own promote step (automatic) comes only after every criterion was shown within
    its tolerance. A person promoting needs the approver role and must not be the one who started
    the rollout (four eyes); the evidence must have passed, or the approver overrides with a
    written reason (recorded). Either way the candidate must load intact and answer.
    """
    with connect(ctx.engine) as conn:
        rollout = load_rollout(conn, rollout_id)
        next_state(rollout.state, "promote")
        if automatic and rollout.state != "running":
            raise Conflict(f"rollout {rollout_id} is {rollout.state}: the controller promotes only a running one")
        if not automatic:
            require_role(conn, ctx, rollout.service, "approvers")
            if ctx.actor == rollout.started_by:
                raise Refused(f"{ctx.actor} started rollout {rollout_id} and cannot also approve its promotion")
            if ctx.actor == version_by_id(conn, rollout.candidate_version_id).registered_by:
                raise Refused(f"{ctx.actor} registered the candidate of rollout {rollout_id} and cannot also "
                              f"approve its promotion")
        candidate = version_name(conn, rollout.candidate_version_id)
    gaps = promotion_gaps(ctx, rollout)
    if gaps and not automatic and override is None:
        raise Refused(f"rollout {rollout_id}'s evidence does not allow a promotion: " + "; ".join(gaps)
                      + ". Wait for the evidence, extend the step, or, as an approver, promote with "
                        "--override REASON")
    if gaps and automatic:
        raise Conflict(f"rollout {rollout_id} cannot be promoted automatically: " + "; ".join(gaps))
    if override is not None:
        check_reason(override, "a promotion")
    check_answers(ctx, rollout.service, candidate)  # before any lock: loading writes on failure
    with connect(ctx.engine) as conn:
        rollout = load_rollout(conn, rollout_id, lock=True)
        if automatic and rollout.state != "running":
            raise Conflict(f"rollout {rollout_id} is {rollout.state}: the controller promotes only a running one")
        state = next_state(rollout.state, "promote")
        shown = shown_earlier(conn, rollout, get_spec(conn, rollout.service).rollout)  # by the rules judging it
        override_id = None
        if override is not None:
            override_id = record_override(
                conn, ctx, service=rollout.service, environment=rollout.environment, gate="rollout.promote",
                subject=f"{rollout.service}/rollout-{rollout.id}", reason=override,
                version_id=rollout.candidate_version_id, details={"gaps": gaps})
        _route_stable(conn, ctx, rollout, rollout.candidate_version_id)
        # The release's spec becomes the service's spec in the same transaction as the route, so
        # every gateway switches model and spec together.
        release_spec = conn.execute(select(releases.c.spec).where(releases.c.id == rollout.release_id)).scalar_one()
        write_spec(conn, ctx, ServiceSpec.model_validate(release_spec), rollout_id=rollout.id)
        move_tag_in(conn, ctx, rollout.service, "stable", rollout.candidate_version_id, at=ctx.clock.now())
        # The promoted version is no longer a candidate: its candidate tag goes (the move is kept).
        remove_tag_in(conn, ctx, rollout.service, "candidate", rollout.candidate_version_id, at=ctx.clock.now())
        _set(conn, rollout, state=state, ended_at=ctx.clock.now(), hold_reason=None)
        _audit(conn, ctx, rollout, "promoted", notice=f"{candidate} promoted to stable in {rollout.environment}"
                                                      + (" by the controller" if automatic else "")
                                                      + (f", overriding: {override.strip()}" if override else ""),
               automatic=automatic, version=candidate,
               override={"id": override_id, "reason": override.strip(), "gaps": gaps} if override else None,
               evidence="every criterion shown within its tolerance" if not gaps else "overridden",
               shown=shown)
        return load_rollout(conn, rollout_id)


def revert(ctx: Context, rollout_id: int, reason: Reason) -> Rollout:
    """After a promotion, go back to the release that was stable before it (its version and its
    spec) in one step: audited, with an incident, so the reverted change waits for its cause."""
    check_reason(reason, "a promotion (a revert)")
    with connect(ctx.engine) as conn:
        rollout = load_rollout(conn, rollout_id)
        require_role(conn, ctx, rollout.service, "operators")
        previous = version_name(conn, rollout.stable_version_id)
    check_answers(ctx, rollout.service, previous)  # going back to a version that cannot answer helps nobody
    with connect(ctx.engine) as conn:
        rollout = load_rollout(conn, rollout_id, lock=True)
        require_role(conn, ctx, rollout.service, "operators")
        state = next_state(rollout.state, "revert")
        if active_rollout(conn, rollout.service, rollout.environment) is not None:
            raise Conflict(f"{rollout.service} has a rollout in progress in {rollout.environment}; end it first")
        route = read_route(conn, rollout.service, rollout.environment)
        current_spec = conn.execute(select(releases.c.spec_sha256).where(releases.c.id == rollout.release_id)).scalar_one()
        if route is None or route.stable_version_id != rollout.candidate_version_id or \
                spec_digest(get_spec(conn, rollout.service)) != current_spec:
            raise Conflict(f"{rollout.service} has changed in {rollout.environment} since rollout {rollout_id} was "
                           f"promoted (its stable version or spec moved on); revert the later change first")
        if rollout.stable_release_id is not None:
            spec = ServiceSpec.model_validate(conn.execute(
                select(releases.c.spec).where(releases.c.id == rollout.stable_release_id)).scalar_one())
            write_spec(conn, ctx, spec, reverted_rollout_id=rollout.id)
        _route_stable(conn, ctx, rollout, rollout.stable_version_id)
        move_tag_in(conn, ctx, rollout.service, "stable", rollout.stable_version_id, at=ctx.clock.now())
        candidate, stable = version_name(conn, rollout.candidate_version_id), version_name(conn, rollout.stable_version_id)
        incident_id = open_incident(
            conn, ctx, service=rollout.service, environment=rollout.environment, rollout_id=rollout.id,
            release_id=rollout.release_id, title=f"revert of {rollout.service} {candidate} to {stable}: {reason}",
            evidence={"reason": reason, "reverted_after_promotion": True})
        _set(conn, rollout, state=state, incident_id=incident_id)
        _audit(conn, ctx, rollout, "reverted",
               notice=f"{candidate} reverted to {stable} in {rollout.environment}: {reason}; incident {incident_id} opened",
               reason=reason, to=stable, spec_restored=rollout.stable_release_id is not None, incident_id=incident_id)
        return load_rollout(conn, rollout_id)


def _verdicts(judgement: StepJudgement | dict[str, Any] | None) -> dict[str, Any]:
    """The verdicts behind a transition, for its audit event."""
    if judgement is None:
        return {}
    if not isinstance(judgement, dict):
        judgement = judgement.as_dict()
    keys = ("name", "verdict", "estimate", "lower", "upper", "harm_e", "noninferiority_e", "n_candidate", "shown_in")
    return {"verdict": judgement["verdict"], "guard": judgement.get("guard"),
            "verdicts": [{k: m.get(k) for k in keys} for m in judgement.get("metrics", [])]}


def _require_window(conn: Connection, ctx: Context, service: str, environment: str, version: str,
                    rules: ServiceSpec, outside_window: Reason | None) -> None:
    """Refused outside the service's maintenance windows, unless an approver overrides with a reason."""
    waiting = waiting_reason(rules.windows, ctx.clock.now())
    if waiting is None:
        return
    if outside_window is None:
        raise Refused(f"{service} is outside its maintenance windows: {waiting.replace('waiting for', 'start at')}; "
                      "an approver may start it now with an override and a reason")
    record_override(conn, ctx, service=service, environment=environment, gate="window", subject=f"{service}/{version}",
                    reason=outside_window, details={"closed": waiting})


def wait_for_window(conn: Connection, rollout: Rollout, reason: str) -> Rollout:
    """Keep a running rollout in its step until a maintenance window opens, saying why (the controller)."""
    if rollout.hold_reason != reason:
        _set(conn, rollout, hold_reason=reason)
    return load_rollout(conn, rollout.id)


def advance(conn: Connection, ctx: Context, rollout: Rollout, judgement: StepJudgement | None = None) -> Rollout:
    """Move a running rollout to its next step (the controller, after a step passed)."""
    next_state(rollout.state, "advance")
    _set(conn, rollout, step_index=rollout.step_index + 1, step_started_at=ctx.clock.now(), step_extended_by_s=0.0,
         hold_reason=None)  # no longer waiting for a window
    moved = load_rollout(conn, rollout.id)
    _audit(conn, ctx, rollout, "advanced", step_index=moved.step_index, step=moved.step, **_verdicts(judgement))
    if moved.step["kind"] != "promote":
        apply_step_route(conn, ctx, moved)
    return moved


def switch(conn: Connection, ctx: Context, rollout: Rollout, judgement: StepJudgement | None = None) -> Rollout:
    """A blue/green preview passed: the candidate answers every case from now on (the controller).

    The moment is recorded on the step in the rollout's copy of its plan, which starts the watch
    after the switch; the stable version stays loaded, so a rollback is as quick as ever.
    """
    next_state(rollout.state, "advance")
    if rollout.phase != "preview":
        raise Conflict(f"rollout {rollout.id} is not previewing a blue/green step")
    plan = [dict(step) for step in rollout.plan]
    plan[rollout.step_index]["switched_at"] = ctx.clock.now().isoformat()
    _set(conn, rollout, plan=plan, step_extended_by_s=0.0, hold_reason=None)
    switched = load_rollout(conn, rollout.id)
    _audit(conn, ctx, rollout, "switched", step_index=switched.step_index,
           watch_until=switched.step_ends_at().isoformat(), **_verdicts(judgement))
    apply_step_route(conn, ctx, switched)
    return switched


def hold(conn: Connection, ctx: Context, rollout: Rollout, reason: str,
         judgement: StepJudgement | None = None) -> Rollout:
    """Hold a step that ended without conclusive evidence, for a person to decide (inside the
    caller's transaction; people are told once it committed)."""
    _set(conn, rollout, state=next_state(rollout.state, "hold"), hold_reason=reason)
    _audit(conn, ctx, rollout, "held", notice=f"step {rollout.step_index + 1} held: {reason}",
           reason=reason, **_verdicts(judgement))
    return load_rollout(conn, rollout.id)
