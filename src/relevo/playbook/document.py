"""A service's deployment playbook as data, read from the records: the registry, the routes, the test runs,
the runbook (relevo.continuity), the drills (relevo.drills), the spec's roles and windows. Markdown and HTML
are both drawn from it; its version is the spec's hash, and it says when it was generated."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from relevo.continuity import Runbook, Section, runbook_of
from relevo.context import Context
from relevo.drills import Drill, DrillStatus, drill_history, drill_schedule
from relevo.errors import NotFound
from relevo.governance import ITEMS
from relevo.registry import versions_of
from relevo.routing import describe_route, list_environments
from relevo.services import ServiceSpec, get_spec, service_windows, spec_digest
from relevo.store import connect
from relevo.suites import suite_runs

SHADOWING = ("Deployment steps", "Acceptance criteria")  # the runbook's sections the shadowing procedure is made of
RACI = "Owners"


@dataclass(frozen=True)
class Chapter:
    """One part of the playbook: a paragraph, then its sections (the runbook's own, where it has them)."""

    title: str
    text: str = ""
    sections: list[Section] = field(default_factory=list)


@dataclass(frozen=True)
class Playbook:
    """A service's deployment playbook as data."""

    service: str
    spec_sha256: str
    generated_at: datetime
    description: str
    owner: str
    chapters: list[Chapter]


def _versioning(ctx: Context, service: str) -> Chapter:
    versions = versions_of(ctx, service)
    listed = [f"{v.name}: sha256 {v.sha256}, {v.format}, registered {v.registered_at:%Y-%m-%d %H:%M} UTC by "
              f"{v.registered_by}" + (f"; tags {', '.join(v.tags)}" if v.tags else "") for v in versions]
    routed = []
    for env in list_environments(ctx):
        try:
            route = describe_route(ctx, service, env.name)
        except NotFound:
            routed.append(f"{env.name}: no route")
            continue
        routed.append(f"{env.name}: stable {route.stable or 'none'}" + (
            f", candidate {route.candidate} ({route.mode}, {route.weight:g}%)" if route.candidate else "")
            + (", fallback forced on" if route.fallback_forced else ""))
    runs = [f"{r.version}: {r.kind} run in {r.environment} {r.outcome}, {r.finished_at:%Y-%m-%d %H:%M} UTC, by "
            f"{r.ran_by}" for r in suite_runs(ctx, service, limit=5)]
    return Chapter("Versioning process", "Every model the service answers with is a registered version: never "
                   "changed once registered, identified by its number and the SHA-256 of its files, with its metadata.",
                   [Section("How a version is registered", "", [
                       f"`relevo register {service} PATH --metadata FILE` stores the files content-addressed and "
                       "read-only, after validating the metadata (intended purpose, training data and its hash, "
                       "metrics) and having the version load and answer probe rows",
                       f"`relevo verify {service}` re-hashes the stored files and names any that changed",
                       "tags (`candidate`, `stable`) name versions; production's stable version moves only through "
                       "a rollout that passed there, or an approver's override"]),
                    Section("Versions", "", listed or ["no version registered yet"]),
                    Section("Stable in each environment", "", routed),
                    Section("Test suite and staging validation", f"`relevo test {service} VERSION --env staging` "
                            "runs the service's suite; a version is validated for production by a passed run in "
                            "staging on production's runtime. The newest runs:", runs or ["no run yet"]),
                    Section("The checklist that gates each start", "No rollout starts while an item is open "
                            f"(`relevo checklist {service}`):",
                            [f"`{k.id}`: {k.title}" + (f" (attested by the {k.attested_by})" if k.attested_by else "")
                             + ("" if k.waivable else "; never waived") for k in ITEMS], ordered=True)])


def _drill_words(d: Drill) -> str:
    times = ", ".join(f"{what} {'never' if value is None else f'{value:.0f}s'} (target {target:.0f}s)"
                      for what, value, target in (("detected", d.detect_seconds, d.target_detect_seconds),
                                                  ("recovered", d.recover_seconds, d.target_recover_seconds)))
    return (f"{d.started_at:%Y-%m-%d %H:%M} UTC, {d.scenario} in {d.environment} ({d.clock} clock): {d.outcome}; "
            f"{times}; {d.lost} lost, {d.unanswered} unanswered of {d.requests}; by {d.run_by}")


def _drills(status: DrillStatus, recent: list[Drill]) -> Chapter:
    zone = ZoneInfo(status.timezone)
    local = lambda at: f"{at.astimezone(zone):%Y-%m-%d %H:%M} {status.timezone}"  # noqa: E731
    state = ("OVERDUE: " if status.overdue else "not overdue: ") + status.reason
    last = [f"{s.scenario}: last passed " + (_drill_words(s.last_passed) if s.last_passed else "never")
            + ("; last failed " + _drill_words(s.last_failed) if s.last_failed else "") for s in status.scenarios]
    return Chapter("Drill schedule and last results", f"Drills rehearse a rollback or an incident on a copy of the "
                   f"service (`relevo drill run`). They are due `{status.schedule}` (cron, {status.timezone}), with "
                   f"{status.grace} of grace. Each due date needs a passed drill of every scenario between the end "
                   "of the previous due date's grace and the end of its own; a failed drill does not count. The "
                   "channels are told once when one is overdue.", [
                       Section("Due dates", state + ".", [local(at) for at in status.next_due], ordered=True),
                       Section("Last results per scenario", "", last),
                       Section("Recent drills", "", [_drill_words(d) for d in recent] or ["no drill on record"])])


def _windows(ctx: Context, spec: ServiceSpec) -> Chapter:
    policy = spec.windows
    if policy is None:
        return Chapter("Maintenance windows", "The service has no maintenance windows: rollouts may start and "
                       "advance at any time.")
    found = service_windows(ctx, spec.name, 5)
    rules = [f"{', '.join(s.days)} {s.start}-{s.end}" for s in policy.slots]
    if policy.holidays is not None:
        rules.append(f"closed on the public holidays of {policy.holidays.country}"
                     + (f"-{policy.holidays.subdivision}" if policy.holidays.subdivision else ""))
    rules += [f"closed on {day.isoformat()} (local holiday)" for day in policy.local_holidays]
    rules += [f"closed from {b.start:%Y-%m-%d %H:%M} to {b.end:%Y-%m-%d %H:%M}" + (f": {b.reason}" if b.reason else "")
              for b in policy.blackouts]
    openings = [f"{o.local_start:%a %Y-%m-%d %H:%M} - {o.local_end:%H:%M} {o.timezone}" for o in found.openings]
    return Chapter("Maintenance windows", f"Rollouts start and advance only inside a window ({policy.timezone}); "
                   "rollback, hold, pause and abort never wait.", [
                       Section("Windows", "", rules), Section("Next openings", "open now" if found.open_now else "",
                                                              openings or ["none in the time looked at"])])


def _communication(spec: ServiceSpec) -> list[Chapter]:
    policy = getattr(spec, "communication", None)  # a spec section not every release of Relevo has
    if policy is None or not hasattr(policy, "model_dump"):
        return []
    points = [f"{name}: {', '.join(map(str, value)) if isinstance(value, list) else value}"
              for name, value in policy.model_dump(mode="json").items() if value not in (None, [], {})]
    return [Chapter("Communication policy", "How the service's planned deployments are announced:",
                    [Section("Policy", "", points or ["the spec's defaults"])])]


def playbook_of(ctx: Context, service: str) -> Playbook:
    """The service's deployment playbook, generated now from its records (NotFound for an unknown service)."""
    with connect(ctx.engine) as conn:
        spec = get_spec(conn, service)
    runbook: Runbook = runbook_of(ctx, service)
    shadowing = [s for s in runbook.sections if s.title.startswith(SHADOWING)]
    raci = [s for s in runbook.sections if s.title == RACI]
    rollback = [s for s in runbook.sections if s not in shadowing and s not in raci]
    confirmed = ("confirmed by " + "; ".join(f"{c.by} ({c.role}, {c.at:%Y-%m-%d %H:%M} UTC)"
                                             for c in runbook.confirmations)
                 if runbook.confirmed else f"not confirmed yet (`relevo runbook confirm {service}`)")
    chapters = [
        _versioning(ctx, service),
        Chapter("Shadowing procedure", "A candidate first answers copies of citizens' cases, never the citizens, "
                "and is judged against the stable version before any citizen gets its answers (`relevo replay "
                f"{service}` shows the same before a rollout). Each plan's steps, and what must be shown:", shadowing),
        Chapter("Rollback runbook", f"The service's runbook, version spec sha256 {runbook.version}, {confirmed}. "
                f"Roll back a running rollout with `relevo rollout rollback ID`; after a promotion, `relevo rollout "
                f"revert ID --reason R` puts back the release that was stable before it.", rollback),
        _drills(drill_schedule(ctx, service), drill_history(ctx, service, 10)),
        Chapter("RACI", "Who is responsible, accountable, consulted and informed, from the spec's roles.", raci),
        _windows(ctx, spec),
        *_communication(spec)]
    return Playbook(service, spec_digest(spec), ctx.clock.now(), spec.description, spec.owner, chapters)
