"""When a service's drills are due, whether they are overdue, and the channels told once per due date.

The spec's `runbook.drills.schedule` is a cron expression read in the service's maintenance-window
time zone (`windows.timezone`), or in UTC for a service without windows. Its due dates come from
croniter; across daylight saving a time the spring change skips is due at the first minute after it,
and a time the autumn change repeats is due once, at its first occurrence. Due dates count from the
service's declaration: the first is the first one after it.

Each due date D has a period: from the end of the previous due date's grace (D' + grace, exclusive;
the service's declaration for the first due date) to D + grace. D is met when every scenario in
`runbook.drills.scenarios` has a drill that passed, in any environment, started in its period: a
drill may run early, before D, or late, within the grace. A failed drill never counts.

A due date is overdue once its grace has ended (now > D + grace) while a scenario was not met. It
stays overdue until each missing scenario has passed since (made up late: such a drill also counts
for the next due date, whose period it is in). Only the latest due date whose grace has ended is
looked at: one missed long ago and followed by a met one is history (its alert is in the audit
log), not a current state.

`relevo serve`'s monitors' schedule calls remind_overdue_drills on each tick: the channels hear of
an overdue due date once (`drill.overdue`), by whichever replica inserts its row in
`drill_reminders` first; the unique key refuses the others, whose notice is then never sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Annotated, Iterator
from zoneinfo import ZoneInfo

from pydantic import Field
from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from relevo.audit import record_change
from relevo.clock import parse_duration
from relevo.context import Context
from relevo.drills.records import Drill, drills_of
from relevo.services import ServiceSpec, get_spec
from relevo.services.catalogue import spec_digests
from relevo.store import connect
from relevo.store.continuity_tables import drill_reminders
from relevo.store.tables import services

UTC = timezone.utc


@dataclass(frozen=True)
class ScenarioState:
    """One scenario of a service's drills: its last passed and failed drills, and where it stands."""

    scenario: str
    last_passed: Drill | None
    last_failed: Drill | None
    done: bool  # passed in the period of the next due date still open
    overdue: bool  # missing for the latest due date whose grace ended, and not made up since


@dataclass(frozen=True)
class DrillStatus:
    """A service's drill schedule now: due dates, each scenario's state, and whether a drill is overdue."""

    service: str
    schedule: str
    timezone: str
    grace: str
    now: datetime
    next_due: list[datetime]  # the next due dates after now (UTC)
    last_due: datetime | None  # the latest due date not after now (None: none since the service was declared)
    checked_due: datetime | None  # the latest due date whose grace has ended: what `overdue` is about
    open_due: datetime  # the next due date whose grace has not ended: what drills run now count for
    open_since: datetime | None  # its period's start (None: since the service was declared)
    scenarios: list[ScenarioState]
    overdue: bool
    reason: str  # why overdue, or why not, in words


@dataclass(frozen=True)
class DrillReminder:
    """An overdue drill the channels were told of."""

    service: str
    due_at: datetime
    missing: list[str]


def zone_of(spec: ServiceSpec) -> ZoneInfo:
    """The time zone the service's drill schedule is read in: its maintenance windows', or UTC."""
    return ZoneInfo(spec.windows.timezone if spec.windows is not None else "UTC")


def _repeated(at: datetime) -> bool:
    """True for the second occurrence of a local time the autumn change repeats."""
    return at.fold == 1 and at.replace(fold=0).utcoffset() != at.utcoffset()


def due_dates(schedule: str, zone: ZoneInfo, start: datetime, *, backwards: bool = False) -> Iterator[datetime]:
    """The schedule's due dates (UTC) after start, or before it backwards, each local time once."""
    from croniter import croniter  # only the schedule's readers need it

    dates = croniter(schedule, start.astimezone(zone))
    while True:
        at = dates.get_prev(datetime) if backwards else dates.get_next(datetime)
        if not _repeated(at):
            yield at.astimezone(UTC)


def _declared_at(conn: Connection, service: str) -> datetime:
    return conn.execute(select(services.c.created_at).where(services.c.name == service)).scalar_one()


def _passed_since(drills: list[Drill], scenario: str, since: datetime | None) -> bool:
    return any(d.scenario == scenario and d.outcome == "passed" and (since is None or d.started_at > since)
               for d in drills)


def status_in(conn: Connection, service: str, now: datetime, n: int = 5) -> DrillStatus:
    """The service's drill status at now, read inside the caller's transaction."""
    spec = get_spec(conn, service)
    policy, zone = spec.runbook.drills, zone_of(spec)
    grace = parse_duration(policy.grace)
    declared = _declared_at(conn, service)
    before = due_dates(policy.schedule, zone, now - grace, backwards=True)
    checked: datetime | None = next(before)
    if checked is not None and checked <= declared:
        checked = None
    earlier = next(before) if checked is not None else None
    checked_since = earlier + grace if earlier is not None and earlier > declared else None
    open_due = next(due_dates(policy.schedule, zone, checked or max(declared, now - grace)))
    open_since = checked + grace if checked is not None else None
    last = next(due_dates(policy.schedule, zone, now + timedelta(microseconds=1), backwards=True))
    upcoming = due_dates(policy.schedule, zone, now)
    drills = drills_of(conn, service)
    states = []
    for scenario in policy.scenarios:
        mine = [d for d in drills if d.scenario == scenario]
        states.append(ScenarioState(
            scenario, next((d for d in mine if d.outcome == "passed"), None),
            next((d for d in mine if d.outcome == "failed"), None), done=_passed_since(mine, scenario, open_since),
            overdue=checked is not None and not _passed_since(mine, scenario, checked_since)))
    missing = [s.scenario for s in states if s.overdue]
    local = _local(zone)
    if missing and checked is not None:
        reason = (f"due {local(checked)}, grace of {policy.grace} ended {local(checked + grace)}: "
                  f"no passed drill of {', '.join(missing)} since "
                  + (local(checked_since) if checked_since else "the service was declared"))
    elif checked is None:
        reason = f"no due date has passed its grace since the service was declared; the first is {local(open_due)}"
    else:
        reason = f"every scenario passed for the due date {local(checked)}; next due {local(open_due)}"
    return DrillStatus(service, policy.schedule, zone.key, policy.grace, now, [next(upcoming) for _ in range(n)],
                       last if last > declared else None, checked, open_due, open_since, states, bool(missing),
                       reason)


def _local(zone: ZoneInfo):
    """How a due date is written in messages: local time and its zone."""
    return lambda at: f"{at.astimezone(zone):%Y-%m-%d %H:%M} {zone.key}"


def drill_schedule(ctx: Context, service: str, n: Annotated[int, Field(ge=1, le=100)] = 5) -> DrillStatus:
    """The service's drill schedule now: its next n due dates, each scenario's last drills, whether one is overdue."""
    with connect(ctx.engine) as conn:
        return status_in(conn, service, ctx.clock.now(), n)


def remind_overdue_drills(ctx: Context) -> list[DrillReminder]:
    """Tell the channels of every service whose drill is overdue, once per due date; the reminders sent."""
    now = ctx.clock.now()
    with connect(ctx.engine) as conn:
        names = sorted(spec_digests(conn))
        told = {tuple(row) for row in conn.execute(select(drill_reminders.c.service, drill_reminders.c.due_at))}
    sent = []
    for name in names:
        try:  # each in its own transaction, the state read again inside it: a drill may just have passed
            with connect(ctx.engine) as conn:
                found = status_in(conn, name, now, n=1)
                due = found.checked_due
                if due is None or not found.overdue or (name, due) in told:
                    continue
                conn.execute(drill_reminders.insert().values(service=name, due_at=due, told_at=now))
                missing = [s.scenario for s in found.scenarios if s.overdue]
                roles = get_spec(conn, name).roles
                record_change(conn, ctx, "drill.overdue", f"{name}/drills",
                              {"due_at": due.isoformat(), "grace": found.grace, "schedule": found.schedule,
                               "missing": missing, "severity": "warning"}, at=now,
                              notice=f"{name}: drills OVERDUE: {found.reason}",
                              informed=list(dict.fromkeys([*roles.operators, *roles.approvers, *roles.informed])))
        except IntegrityError:  # another replica told this due date first
            continue
        sent.append(DrillReminder(name, due, missing))
    return sent
