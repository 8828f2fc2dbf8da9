"""Incidents' regulatory clocks: the reports the law asks for, by when, and whether they were filed.

An incident owner classifies an incident under each regime that applies, which starts its clock
from when the organisation became aware:
- the EU AI Act's serious-incident report (Art. 73): 15 days (`serious`); 2 days for a widespread
  infringement (`widespread`) or a serious and irreversible disruption of critical infrastructure
  (`critical_disruption`); 10 days after a death (`death`);
- the GDPR's notification of a personal-data breach to the supervisory authority (Art. 33): 72 hours.
Recording the filed report (its time and the authority's reference) stops the clock. A clock not
yet reported may be classified again (a death learnt of later shortens it); its reminders then
start over against the new due time.

The time of awareness defaults to now; it is never in the future, nor more than AWARE_BEFORE_OPENING
before the incident was opened: harm may be known before the rollback that opened the incident (a
complaint, a case worker's report), but a month earlier is another event, or a mistyped date.

Reminders (remind_incident_clocks, run by `relevo serve`'s schedule) go out once per stage: when
half the period has passed, 24 hours before the due time, and once overdue; stages that fall due
together (a 2-day clock's half is its last day) are told once, as the latest of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, Iterable, Literal

from pydantic import AwareDatetime, WithJsonSchema
from sqlalchemy import Connection, select

from relevo.audit import record_change
from relevo.context import Context
from relevo.errors import Conflict, InvalidInput, NotFound
from relevo.services.catalogue import get_spec
from relevo.services.roles import require_role
from relevo.store import connect, storable_text
from relevo.store.tables import incident_clocks, incidents

Regime = Literal["ai_act", "gdpr_breach"]
AiActKind = Literal["serious", "widespread", "critical_disruption", "death"]
BREACH = "personal_data_breach"  # the GDPR regime's one kind
PERIODS: dict[str, timedelta] = {
    "serious": timedelta(days=15), "widespread": timedelta(days=2), "critical_disruption": timedelta(days=2),
    "death": timedelta(days=10), BREACH: timedelta(hours=72)}
REPORTS = {"ai_act": "AI Act serious-incident report (Art. 73)",
           "gdpr_breach": "GDPR breach notification to the supervisory authority (Art. 33)"}
KINDS = {"serious": "serious incident", "widespread": "widespread infringement",
         "critical_disruption": "serious and irreversible disruption of critical infrastructure",
         "death": "death of a person"}
AWARE_BEFORE_OPENING = timedelta(days=30)
LAST_DAY = timedelta(hours=24)
STAGES = ("half", "day", "overdue")  # in the order they fall due
MAX_REFERENCE = 200
ReportReference = Annotated[str, WithJsonSchema({
    "type": "string", "minLength": 1, "maxLength": MAX_REFERENCE, "pattern": "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$",
    "description": "the authority's reference for the filed report"})]
ClockState = Literal["running", "overdue", "reported", "reported_late"]
# A kind only for the AI Act (the GDPR regime has one): the published body states it.
KIND_ONLY_FOR_AI_ACT = {"if": {"properties": {"regime": {"const": "gdpr_breach"}}, "required": ["regime"]},
                        "then": {"properties": {"kind": {"type": "null"}}}}


@dataclass(frozen=True)
class IncidentClock:
    """One regime's clock on an incident: when its report is due, and whether it was filed."""

    regime: str  # ai_act | gdpr_breach
    kind: str  # serious | widespread | critical_disruption | death | personal_data_breach
    report: str  # what is due, under which article, for what
    aware_at: datetime
    due_at: datetime
    state: ClockState
    seconds_left: int | None  # until due_at, negative once overdue; None once reported
    reminded: str | None  # the last reminder stage sent: half | day | overdue
    classified_by: str
    classified_at: datetime
    reported_at: datetime | None
    reported_by: str | None
    report_reference: str | None


@dataclass(frozen=True)
class ClockReminder:
    """A reminder sent: which incident's clock, at which stage."""

    incident_id: int
    service: str
    regime: str
    stage: str
    due_at: datetime


def clock_of(row: Any, now: datetime) -> IncidentClock:
    """A stored clock as read at now."""
    state: ClockState
    left: int | None = None
    if row.reported_at is not None:
        state = "reported" if row.reported_at <= row.due_at else "reported_late"
    else:
        left = int((row.due_at - now).total_seconds())
        state = "running" if left > 0 else "overdue"
    return IncidentClock(row.regime, row.kind, _report(row.regime, row.kind), row.aware_at, row.due_at, state, left,
                         row.reminded, row.classified_by, row.classified_at, row.reported_at, row.reported_by,
                         row.report_reference)


def clocks_of(conn: Connection, incident_ids: Iterable[int], now: datetime) -> dict[int, list[IncidentClock]]:
    """The clocks of each incident, by incident id (AI Act first)."""
    ids = list(incident_ids)
    found: dict[int, list[IncidentClock]] = {i: [] for i in ids}
    if ids:
        query = select(incident_clocks).where(incident_clocks.c.incident_id.in_(ids)).order_by(incident_clocks.c.regime)
        for row in conn.execute(query):
            found[row.incident_id].append(clock_of(row, now))
    return found


def _moment(name: str, value: datetime, now: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(f"{name} must give its UTC offset (e.g. 2026-05-04T08:00:00+02:00)")
    if value > now:
        raise InvalidInput(f"{name} {value.isoformat()} is in the future (now is {now.isoformat(timespec='seconds')})")
    return value


def _incident(conn: Connection, ctx: Context, incident_id: int) -> Any:
    row = conn.execute(select(incidents.c.id, incidents.c.service, incidents.c.opened_at)
                       .where(incidents.c.id == incident_id).with_for_update()).first()
    if row is None:
        raise NotFound(f"no incident {incident_id}")
    require_role(conn, ctx, row.service, "incident_owners")
    return row


def _clock_row(conn: Connection, incident_id: int, regime: str) -> Any:
    return conn.execute(select(incident_clocks).where(incident_clocks.c.incident_id == incident_id,
                                                      incident_clocks.c.regime == regime).with_for_update()).first()


def _report(regime: str, kind: str) -> str:
    """What is due, as people read it: the report, its article, and the AI Act's kind of incident."""
    return REPORTS[regime] + (f", {KINDS[kind]}" if kind in KINDS else "")


def _due_text(at: datetime) -> str:
    return f"{at:%Y-%m-%d %H:%M} UTC"


def classify_incident(ctx: Context, incident_id: int, regime: Regime, kind: AiActKind | None = None,
                      aware_at: AwareDatetime | None = None) -> IncidentClock:
    """Classify an incident under a regime (incident owners only): its report's clock starts from aware_at."""
    now = ctx.clock.now()
    with connect(ctx.engine) as conn:
        incident = _incident(conn, ctx, incident_id)
        if regime == "gdpr_breach" and kind is not None:
            raise InvalidInput(f"kind {kind!r} is the AI Act's: a GDPR breach has no kind (leave it out)")
        kind_ = BREACH if regime == "gdpr_breach" else (kind or "serious")
        aware = _moment("aware_at", aware_at or now, now)
        if aware < incident.opened_at - AWARE_BEFORE_OPENING:
            raise InvalidInput(f"aware_at {aware.isoformat()} is more than {AWARE_BEFORE_OPENING.days} days before "
                               f"incident {incident_id} was opened ({incident.opened_at.isoformat()}): "
                               "is it another event?")
        due = aware + PERIODS[kind_]
        row = _clock_row(conn, incident_id, regime)
        subject = f"{incident.service}/incident-{incident_id}"
        details: dict[str, Any] = {"regime": regime, "kind": kind_, "aware_at": aware.isoformat(),
                                   "due_at": due.isoformat()}
        if row is not None:
            if row.reported_at is not None:
                raise Conflict(f"incident {incident_id}'s {REPORTS[regime]} was filed already "
                               f"({row.report_reference}, recorded by {row.reported_by})")
            if row.kind == kind_ and row.aware_at == aware:
                return clock_of(row, now)  # classified so already: nothing changes
            details["was"] = {"kind": row.kind, "aware_at": row.aware_at.isoformat(), "due_at": row.due_at.isoformat()}
            conn.execute(incident_clocks.update().where(incident_clocks.c.id == row.id).values(
                kind=kind_, aware_at=aware, due_at=due, classified_by=ctx.actor, classified_at=now, reminded=None))
        else:
            conn.execute(incident_clocks.insert().values(
                incident_id=incident_id, regime=regime, kind=kind_, aware_at=aware, due_at=due, classified_by=ctx.actor,
                classified_at=now))
        spec = get_spec(conn, incident.service)
        record_change(conn, ctx, "incident.classified", subject, details, at=now,
                      notice=f"{incident.service} incident {incident_id}: {_report(regime, kind_)} due "
                             f"{_due_text(due)}", informed=_told(spec))
        return clock_of(_clock_row(conn, incident_id, regime), now)


def record_incident_report(ctx: Context, incident_id: int, regime: Regime, reference: ReportReference,
                           reported_at: AwareDatetime | None = None) -> IncidentClock:
    """Record that an incident's report under a regime was filed (incident owners only): its clock stops."""
    now = ctx.clock.now()
    with connect(ctx.engine) as conn:
        incident = _incident(conn, ctx, incident_id)
        row = _clock_row(conn, incident_id, regime)
        if row is None:
            raise Conflict(f"incident {incident_id} was never classified under {regime}: classify it first")
        if row.reported_at is not None:
            raise Conflict(f"incident {incident_id}'s {REPORTS[regime]} was recorded as filed already "
                           f"({row.report_reference}, by {row.reported_by})")
        reference = storable_text("reference", reference, required=True).strip()
        if len(reference) > MAX_REFERENCE:
            raise InvalidInput(f"reference is at most {MAX_REFERENCE} characters")
        filed = _moment("reported_at", reported_at or now, now)
        if filed < row.aware_at:
            raise InvalidInput(f"reported_at {filed.isoformat()} is before the organisation became aware "
                               f"({row.aware_at.isoformat()})")
        conn.execute(incident_clocks.update().where(incident_clocks.c.id == row.id).values(
            reported_at=filed, reported_by=ctx.actor, report_reference=reference))
        late = "" if filed <= row.due_at else f", {_span(filed - row.due_at)} after it was due"
        record_change(conn, ctx, "incident.reported", f"{incident.service}/incident-{incident_id}",
                      {"regime": regime, "kind": row.kind, "reference": reference, "reported_at": filed.isoformat(),
                       "due_at": row.due_at.isoformat()}, at=now,
                      notice=f"{incident.service} incident {incident_id}: {REPORTS[regime]} filed ({reference}){late}",
                      informed=_told(get_spec(conn, incident.service)))
        return clock_of(_clock_row(conn, incident_id, regime), now)


def _told(spec: Any) -> list[str]:
    """Whom a clock's notices name: the incident owners, who file the report, then the informed."""
    return list(dict.fromkeys([*spec.roles.incident_owners, *spec.roles.informed]))


def _span(delta: timedelta) -> str:
    """A duration as people read it: 3d 4h, 5h 20m, 12m."""
    minutes = int(abs(delta).total_seconds() // 60)
    days, hours, mins = minutes // 1440, minutes // 60 % 24, minutes % 60
    if days:
        return f"{days}d {hours}h"
    return f"{hours}h {mins}m" if hours else f"{mins}m"


def stage_reached(aware_at: datetime, due_at: datetime, now: datetime) -> str | None:
    """The latest reminder stage due by now: half the period gone, the last 24 hours, overdue."""
    times = {"half": aware_at + (due_at - aware_at) / 2, "day": due_at - LAST_DAY, "overdue": due_at}
    reached = [stage for stage in STAGES if times[stage] <= now]
    return reached[-1] if reached else None


def remind_incident_clocks(ctx: Context) -> list[ClockReminder]:
    """Tell the channels of every unreported clock that reached a reminder stage not yet told (each stage once)."""
    now = ctx.clock.now()
    with connect(ctx.engine) as conn:
        running = conn.execute(select(incident_clocks.c.id, incident_clocks.c.aware_at, incident_clocks.c.due_at,
                                      incident_clocks.c.reminded)
                               .where(incident_clocks.c.reported_at.is_(None))).all()
    due = [row.id for row in running if _later(stage_reached(row.aware_at, row.due_at, now), row.reminded)]
    sent = []
    for clock_id in due:  # each in its own transaction, re-read under lock: another runner may have told it
        with connect(ctx.engine) as conn:
            row = conn.execute(select(incident_clocks, incidents.c.service)
                               .join(incidents, incidents.c.id == incident_clocks.c.incident_id)
                               .where(incident_clocks.c.id == clock_id).with_for_update()).first()
            stage = stage_reached(row.aware_at, row.due_at, now) if row is not None else None
            if row is None or stage is None or row.reported_at is not None or not _later(stage, row.reminded):
                continue
            conn.execute(incident_clocks.update().where(incident_clocks.c.id == clock_id).values(reminded=stage))
            report = _report(row.regime, row.kind)
            message = (f"{row.service} incident {row.incident_id}: {report} OVERDUE by {_span(now - row.due_at)} "
                       f"(due {_due_text(row.due_at)})" if stage == "overdue" else
                       f"{row.service} incident {row.incident_id}: {report} due {_due_text(row.due_at)}, "
                       f"in {_span(row.due_at - now)}")
            record_change(conn, ctx, "incident.clock_reminder", f"{row.service}/incident-{row.incident_id}",
                          {"regime": row.regime, "kind": row.kind, "stage": stage, "due_at": row.due_at.isoformat(),
                           "severity": "warning" if stage == "half" else "critical"},
                          at=now, notice=message, informed=_told(get_spec(conn, row.service)))
            sent.append(ClockReminder(row.incident_id, row.service, row.regime, stage, row.due_at))
    return sent


def _later(stage: str | None, told: str | None) -> bool:
    """True when stage comes after the stage already told."""
    return stage is not None and STAGES.index(stage) > (STAGES.index(told) if told in STAGES else -1)
