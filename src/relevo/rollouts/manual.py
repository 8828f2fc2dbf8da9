"""Changes a person makes by hand outside a rollout, each checked like a rollout transition.

`relevo route`, `relevo tag`, `relevo fallback` and `relevo service apply` come here:

- every one needs the operator role of the service (the roles its current spec names);
- no hand-made route change while a rollout owns the route (pause, abort or roll it back first);
- production's stable version (route or `stable` tag) moves only to a version that passed a
  rollout there, or by an approver's override with a written reason (recorded); never to a
  version whose rollback incident is still open, and never to one that cannot answer;
- sending citizens to a candidate by hand (a canary or blue/green route in production) skips the
  judge, so it needs an approver's override too; a shadow route sends citizens nothing and does not;
- on a service answering citizens, a spec that changes the decision rules or loosens a role,
  criterion, guard or plan is refused: it is a spec release, rolled out and judged like a model.
"""

from __future__ import annotations

from sqlalchemy import Connection

from relevo.context import Context
from relevo.errors import Conflict, NotFound, Refused
from relevo.registry.load import check_answers
from relevo.registry.queries import VersionRecord, resolve_version, version_name
from relevo.registry.tags import check_tag_name, move_tag_in
from relevo.rollouts.incidents import blocking_incidents
from relevo.rollouts.overrides import Reason, established, record_override
from relevo.rollouts.rollout import active_rollout
from relevo.routing.environments import known_environment
from relevo.routing.table import Route, read_route, set_fallback, set_route
from relevo.services.catalogue import get_spec, write_spec
from relevo.services.changes import spec_changes
from relevo.services.roles import require_role
from relevo.services.spec import ServiceSpec
from relevo.store import connect

PRODUCTION = "production"


def _gate_stable(conn: Connection, ctx: Context, service: str, version_id: int, override: str | None,
                 gate: str) -> None:
    """Refused unless the version may become production's stable one (see the module's rules)."""
    name = version_name(conn, version_id)
    blocking = blocking_incidents(conn, service, version_id, get_spec(conn, service))
    if blocking:
        raise Refused(f"{service} {name} repeats a change that was rolled back ("
                      + "; ".join(f"incident {i}: {what}" for i, what in blocking)
                      + "); its incident must record a cause and a remediation first, and then it rolls out "
                        "through the judge like any other")
    if established(conn, service, PRODUCTION, version_id):
        return
    if override is None:
        raise Refused(f"{service} {name} has not passed a rollout in production; roll it out "
                      f"(relevo rollout start {service} {name}), or, as an approver, move it with --override REASON")
    record_override(conn, ctx, service=service, environment=PRODUCTION, gate=gate, subject=f"{service}/{name}",
                    reason=override, version_id=version_id)


def _answering(ctx: Context, service: str, ref: str) -> VersionRecord:
    """The version ref names, once the person is an operator and it has loaded intact and answered
    probe rows (outside any transaction: loading records what fails)."""
    with connect(ctx.engine) as conn:
        require_role(conn, ctx, service, "operators")
        record = resolve_version(conn, service, ref)
    check_answers(ctx, service, record.name)
    return record


def _same_version(version_id: int, probed: VersionRecord | None, service: str, ref: str | None) -> None:
    """Conflict when the version about to become stable is not the one that was just checked (a
    tag moved in between)."""
    if probed is None or probed.id != version_id:
        raise Conflict(f"{service} {ref} named another version while it was being checked; try again")


def _no_rollout(conn: Connection, service: str, environment: str) -> None:
    rollout = active_rollout(conn, service, environment)
    if rollout is not None:
        raise Conflict(f"rollout {rollout.id} of {service} owns its route in {environment}; pause, abort or roll it "
                       f"back first (relevo rollout ... {rollout.id})")


def route_by_hand(ctx: Context, service: str, environment: str, *, stable: str | None = None,
                  candidate: str | None = None, clear_candidate: bool = False, mode: str | None = None,
                  weight: float | None = None, override: Reason | None = None) -> Route:
    """`relevo route`: change how a service is answered, gated as above."""
    known_environment(ctx, environment)
    probed = _answering(ctx, service, stable) if stable is not None and environment == PRODUCTION else None

    def gate(conn: Connection, old: Route | None, new: Route) -> None:
        require_role(conn, ctx, service, "operators")
        _no_rollout(conn, service, environment)
        if environment != PRODUCTION:
            return
        if new.stable_version_id is not None and new.stable_version_id != (old.stable_version_id if old else None):
            _same_version(new.stable_version_id, probed, service, stable)
            _gate_stable(conn, ctx, service, new.stable_version_id, override, "route.stable")
            move_tag_in(conn, ctx, service, "stable", new.stable_version_id, at=ctx.clock.now())
        # A blue/green route sends every case to the candidate whatever its weight says.
        exposes = new.mode == "bluegreen" or (new.mode == "canary" and new.weight > 0)
        before = (old.mode, old.candidate_version_id, old.weight) if old else None
        if exposes and before != (new.mode, new.candidate_version_id, new.weight):
            name = version_name(conn, new.candidate_version_id)
            if override is None:
                raise Refused(f"a {new.mode} route by hand sends citizens to {service} {name} without the judge; "
                              f"start a rollout (relevo rollout start {service} {name}), or, as an approver, give "
                              f"--override REASON")
            record_override(conn, ctx, service=service, environment=environment, gate="route.candidate",
                            subject=f"{service}/{name}", reason=override, version_id=new.candidate_version_id,
                            details={"mode": new.mode, "weight": new.weight})

    return set_route(ctx, service, environment, stable=stable, candidate=candidate, clear_candidate=clear_candidate,
                     mode=mode, weight=weight, gate=gate)


def fallback_by_hand(ctx: Context, service: str, environment: str, forced: bool) -> Route:
    """`relevo fallback`: the kill switch, by an operator (always allowed to them, rollout or not)."""
    return set_fallback(ctx, service, environment, forced,
                        gate=lambda conn: require_role(conn, ctx, service, "operators"))


def tag_by_hand(ctx: Context, service: str, tag: str, ref: str, override: Reason | None = None) -> bool:
    """`relevo tag`: point a tag at a version; `stable` is gated like production's stable route."""
    check_tag_name(tag)
    probed = _answering(ctx, service, ref) if tag == "stable" else None
    with connect(ctx.engine) as conn:
        require_role(conn, ctx, service, "operators")
        record = resolve_version(conn, service, ref)
        if tag == "stable":
            _same_version(record.id, probed, service, ref)
            _gate_stable(conn, ctx, service, record.id, override, "tag.stable")
        return move_tag_in(conn, ctx, service, tag, record.id, at=ctx.clock.now())


def apply_by_hand(ctx: Context, spec: ServiceSpec) -> str:
    """`relevo service apply`: declare a service or change its spec ('created', 'updated', 'unchanged')."""
    with connect(ctx.engine) as conn:
        try:
            current = get_spec(conn, spec.name)
        except NotFound:
            return write_spec(conn, ctx, spec)  # a new service: nothing to protect yet
        require_role(conn, ctx, spec.name, "operators")
        route = read_route(conn, spec.name, PRODUCTION)
        changes = spec_changes(current, spec)
        if route is not None and route.stable_version_id is not None and changes.needs_release:
            what = [f"it changes the decision rules ({', '.join(changes.decision_rules)})"] if changes.decision_rules else []
            what += changes.loosened
            raise Refused(f"{spec.name} answers citizens in production, and this spec is a release to roll out, not "
                          f"to apply: " + "; ".join(what) + f". Roll it out: relevo rollout start {spec.name} --spec "
                          f"FILE (judged by the current spec's criteria, approved by its approvers)")
        return write_spec(conn, ctx, spec)
