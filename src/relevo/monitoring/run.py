"""Monitoring passes: each rule's window read from the decision log once, compared with the serving
version's reference profile and the window before, the rules held against the report, alerts
opened, escalated and resolved; the run stored and audited. And reports on request, which record
nothing.

A completed period (yesterday, last week) is monitored once: a pass finds it already done and
skips it, so any number of replicas, or a person and the schedule, never repeat one.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Annotated, Any, Callable

from pydantic import Field, TypeAdapter
from sqlalchemy import Connection, func, select
from sqlalchemy.exc import IntegrityError

from relevo.audit import record_change
from relevo.context import Context
from relevo.errors import Conflict, InvalidInput, NotFound
from relevo.monitoring.alerts import AlertChange, apply_findings, escalate_due
from relevo.monitoring.collect import count_decisions, read_window
from relevo.monitoring.report import MonitorReport, build_report, window_profile
from relevo.monitoring.rules import Finding, evaluate
from relevo.monitoring.windows import Window, last_decisions, trailing, window_for
from relevo.registry.queries import version_name
from relevo.routing.environments import check_environment
from relevo.services.catalogue import get_spec
from relevo.services.monitoring_policy import AlertRule
from relevo.services.roles import require_role
from relevo.services.spec import ServiceSpec
from relevo.store import connect
from relevo.store.tables import monitor_runs, profiles

log = logging.getLogger(__name__)
Progress = Callable[[str, int], Callable[[int], None]]  # (phase, total) -> advance(n)
MONITOR = "relevo-monitor"
CATCH_UP = 31  # missed periods a pass monitors at most (a month of days)  # the actor of the schedule's passes in the audit log


@cache
def _adapters() -> tuple[TypeAdapter, TypeAdapter]:
    """The report's and the findings' JSON forms (built on first use: a tenth of a second at import)."""
    return TypeAdapter(MonitorReport), TypeAdapter(list[Finding])


def _quiet(phase: str, total: int) -> Callable[[int], None]:
    return lambda n: None


@dataclass(frozen=True)
class Monitored:
    """One window monitored: the report, what each rule found, and what changed in the alerts."""

    run_id: int | None  # None for a report on request (nothing recorded)
    report: MonitorReport
    findings: list[Finding]
    alerts: list[AlertChange] = field(default_factory=list)
    ran_at: datetime | None = None
    ran_by: str | None = None


@dataclass(frozen=True)
class RunSummary:
    """A stored run, in a list."""

    id: int
    environment: str
    window: str
    decisions: int
    version: str | None
    breached: list[str]
    ran_at: datetime
    ran_by: str


def _groups(spec: ServiceSpec) -> dict[tuple[str | None, int | None, str | None], list[AlertRule]]:
    """The rules by the window they are evaluated over; the section's own window always monitored."""
    policy = spec.monitoring
    groups: dict[tuple[str | None, int | None, str | None], list[AlertRule]] = {
        (None, policy.last, None) if policy.last is not None else (policy.window, None, None): []}
    for rule in policy.alerts:
        groups.setdefault(policy.window_of(rule), []).append(rule)
    return groups


def _reference(conn: Connection, version_id: int | None) -> tuple[dict[str, Any] | None, str | None]:
    if version_id is None:
        return None, None
    row = conn.execute(select(profiles.c.profile, profiles.c.source_name)
                       .where(profiles.c.version_id == version_id)).first()
    return (None, None) if row is None else (row.profile, row.source_name)


def _stored(conn: Connection, spec: ServiceSpec, environment: str, window: Window) -> Any:
    """The stored run of exactly this window, if any."""
    return conn.execute(select(monitor_runs.c.id, monitor_runs.c.profile, monitor_runs.c.window_start).where(
        monitor_runs.c.service == spec.name, monitor_runs.c.environment == environment,
        monitor_runs.c.window == window.key, monitor_runs.c.window_end == window.end)
        .order_by(monitor_runs.c.id.desc()).limit(1)).first()


def _previous(conn: Connection, spec: ServiceSpec, environment: str, window: Window, start: datetime | None,
              reference: dict[str, Any] | None, advance: Callable[[int], None]) -> tuple[dict[str, Any] | None, str | None]:
    """The window before's profile: a period's stored by its run, else read from the log now; the
    last N decisions before this window's first (a window of the last N decisions)."""
    if window.last is not None:
        if start is None:
            return None, None
        before = Window(window.key, start, None, window.last)
    else:
        before = window.previous()
        stored = _stored(conn, spec, environment, before)
        if stored is not None:
            return stored.profile, before.label
    data = read_window(conn, spec, environment, before, advance)
    if data.decisions == 0:
        return None, None
    return window_profile(spec, data, reference), before.label


def _monitor(conn: Connection, spec: ServiceSpec, environment: str, window: Window, rules: list[AlertRule],
             progress: Progress) -> tuple[MonitorReport, dict[str, Any], list[Finding], int | None]:
    # This window and the one before (read too, unless a run of it is stored): the bar's total.
    total = count_decisions(conn, spec.name, environment, [window, window.previous() if window.start else window])
    advance = progress(f"reading {window.label}", total)
    data = read_window(conn, spec, environment, window, advance)
    reference, source = _reference(conn, data.version_id)
    previous, previous_label = _previous(conn, spec, environment, window, data.start, reference, advance)
    version = version_name(conn, data.version_id) if data.version_id is not None else None
    report, profile = build_report(spec, environment, data, version=version, reference=reference,
                                   reference_name=source, previous=previous, previous_label=previous_label,
                                   min_sample=spec.monitoring.min_sample)
    findings = [evaluate(rule, report, spec.monitoring.min_sample) for rule in rules]
    return report, profile, findings, data.version_id


def _due(conn: Connection, spec: ServiceSpec, environment: str, period: str | None, last: int | None,
         delay: str | None, now: datetime) -> list[Window]:
    """The windows a pass monitors: the last N decisions; or every period completed since the newest
    monitored one (a pass that was not running for a while catches up, at most CATCH_UP periods),
    and only the latest completed one where none was monitored yet."""
    latest = window_for(period, last, now, delay)
    if latest.start is None:
        return [latest]
    newest = conn.execute(select(func.max(monitor_runs.c.window_end)).where(
        monitor_runs.c.service == spec.name, monitor_runs.c.environment == environment,
        monitor_runs.c.window == latest.key)).scalar()
    if newest is None or newest >= latest.end:
        return [latest]
    length = latest.end - latest.start
    missed = min(int((latest.end - newest) / length), CATCH_UP)
    return [Window(latest.key, latest.end - k * length, latest.end - (k + 1) * length) for k in reversed(range(missed))]


def _json_safe(value: Any) -> Any:
    """value with every non-finite number as None: what JSON (and PostgreSQL's JSONB) can keep."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def _record(ctx: Context, spec: ServiceSpec, environment: str, window: Window, now: datetime,
            report: MonitorReport, profile: dict[str, Any], findings: list[Finding],
            version_id: int | None) -> Monitored | None:
    """Store one window's run, apply its findings to the alerts, audit it; None when another replica
    stored the same period first."""
    with connect(ctx.engine) as conn:
        if window.last is None and _stored(conn, spec, environment, window) is not None:
            return None
        run_id = conn.execute(monitor_runs.insert().values(
            service=spec.name, environment=environment, window=window.key, window_start=report.start,
            window_end=window.end, version_id=version_id, decisions=report.decisions,
            report=_json_safe({"report": _adapters()[0].dump_python(report, mode="json"),
                               "findings": _adapters()[1].dump_python(findings, mode="json")}),
            profile=_json_safe(profile), ran_at=now, ran_by=ctx.actor).returning(monitor_runs.c.id)).scalar_one()
        changes = apply_findings(conn, ctx, spec, environment, run_id, window.label, findings)
        record_change(conn, ctx, "monitor.ran", f"{spec.name}/{environment}/monitor-run-{run_id}", {
            "window": window.label, "decisions": report.decisions, "version": report.version,
            "breached": [f.rule for f in findings if f.is_breached],
            "alerts": [f"{c.change} {c.alert_id}" for c in changes]})
    return Monitored(run_id, report, findings, changes, now, ctx.actor)


def _failed(ctx: Context, spec: ServiceSpec, environment: str, window: Window, exc: Exception) -> None:
    """A window that could not be monitored: logged, and audited so the gap is on record."""
    log.error("monitoring %s in %s over %s failed", spec.name, environment, window.label, exc_info=exc)
    reason = f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:300]}"
    try:
        with connect(ctx.engine) as conn:
            record_change(conn, ctx, "monitor.failed", f"{spec.name}/{environment}",
                          {"window": window.label, "error": reason})
    except Exception as again:  # the store itself is away: the log has it
        log.error("could not record that failure: %s", again)


def monitor_pass(ctx: Context, service: str, environment: str = "production", progress: Progress = _quiet,
                 leading: Callable[[], bool] = lambda: True) -> list[Monitored]:
    """Monitor every window that is due (each rule's periods completed since the last pass; the last
    N decisions always), apply the rules, escalate what waited too long. A window that fails is
    audited (`monitor.failed`) and the others go on; leading() is asked before each window (the
    schedule stops when it lost its lease). No role is checked: the schedule calls this as
    itself; people call run_monitors."""
    now = ctx.clock.now()
    out: list[Monitored] = []
    with connect(ctx.engine) as conn:
        check_environment(conn, environment)
        spec = get_spec(conn, service)
    if not spec.decides:
        raise Conflict(f"{service} declares no inputs or no decisions: there is nothing to monitor")
    due = []
    for (period, last, delay), rules in _groups(spec).items():
        with connect(ctx.engine) as conn:
            due += [(window, rules) for window in _due(conn, spec, environment, period, last, delay, now)]
    for window, rules in sorted(due, key=lambda item: item[0].end):
        if not leading():
            log.warning("monitoring %s: the lease moved to another replica; it carries on", service)
            break
        try:
            with connect(ctx.engine) as conn:
                if window.last is None and _stored(conn, spec, environment, window) is not None:
                    continue  # this period was monitored already
                report, profile, findings, version_id = _monitor(conn, spec, environment, window, rules, progress)
            done = _record(ctx, spec, environment, window, now, report, profile, findings, version_id)
        except IntegrityError:
            continue  # another replica stored this period (or opened this alert) first
        except Exception as exc:  # one window's failure must not stop the others, nor escalation
            _failed(ctx, spec, environment, window, exc)
            continue
        if done is not None:
            out.append(done)
    with connect(ctx.engine) as conn:
        escalated = escalate_due(conn, ctx, spec, environment)
    if escalated and out:
        last_run = out[-1]
        out[-1] = Monitored(last_run.run_id, last_run.report, last_run.findings, last_run.alerts + escalated,
                            last_run.ran_at, last_run.ran_by)
    return out


def run_monitors(ctx: Context, service: str, environment: str = "production",
                 progress: Progress = _quiet) -> list[Monitored]:
    """One monitoring pass now, as the schedule would run it (operators): the windows that are due."""
    with connect(ctx.engine) as conn:
        require_role(conn, ctx, service, "operators")
    return monitor_pass(ctx, service, environment, progress)


# A report's period: at most 999 days (or 9,999 hours), so a request cannot ask for the whole history.
PERIOD = r"^\s*(?:[0-9]{1,3}(?:\.[0-9]+)?\s*d|[0-9]{1,4}(?:\.[0-9]+)?\s*h|[0-9]{1,5}(?:\.[0-9]+)?\s*[sm])\s*$"
Period = Annotated[str, Field(pattern=PERIOD, description="a period ending now: 1d, 7d, 30d (at most 999d)")]
LastDecisions = Annotated[int, Field(ge=10, le=1_000_000)]


def monitoring_report(ctx: Context, service: str, environment: str = "production", window: Period | None = "7d",
                      last: LastDecisions | None = None, progress: Progress = _quiet) -> Monitored:
    """A report on request over the period ending now (or the last N decisions), against the
    reference and the period before; the rules are shown as they would find, nothing is recorded."""
    now = ctx.clock.now()
    if last is not None and not 10 <= last <= 1_000_000:
        raise InvalidInput(f"last must lie between 10 and 1,000,000 decisions, got {last}")
    if last is None and not re.match(PERIOD, window or "7d"):
        raise InvalidInput(f"window is a period ending now, such as 1d, 7d or 30d, at most 999d; got {window!r}")
    chosen = last_decisions(last, now) if last is not None else trailing(window or "7d", now)
    with connect(ctx.engine) as conn:
        check_environment(conn, environment)
        spec = get_spec(conn, service)
        if not spec.decides:
            raise Conflict(f"{service} declares no inputs or no decisions: there is nothing to monitor")
        report, _, findings, _ = _monitor(conn, spec, environment, chosen, list(spec.monitoring.alerts), progress)
    return Monitored(None, report, findings)


def monitor_runs_of(ctx: Context, service: str, environment: str | None = None, limit: int = 20) -> list[RunSummary]:
    """The newest stored runs of a service's monitors."""
    with connect(ctx.engine) as conn:
        get_spec(conn, service)
        query = select(monitor_runs.c.id, monitor_runs.c.environment, monitor_runs.c.decisions,
                       monitor_runs.c.version_id, monitor_runs.c.report, monitor_runs.c.ran_at,
                       monitor_runs.c.ran_by).where(monitor_runs.c.service == service)
        if environment is not None:
            check_environment(conn, environment)
            query = query.where(monitor_runs.c.environment == environment)
        rows = conn.execute(query.order_by(monitor_runs.c.id.desc()).limit(limit)).all()
        names = {row.version_id: version_name(conn, row.version_id) for row in rows if row.version_id is not None}
    return [RunSummary(row.id, row.environment, row.report["report"]["window"], row.decisions,
                       names.get(row.version_id), [f["rule"] for f in row.report["findings"] if f["state"] == "breached"],
                       row.ran_at, row.ran_by) for row in rows]


def monitor_run(ctx: Context, run_id: int) -> Monitored:
    """One stored run: its report and findings as they were."""
    with connect(ctx.engine) as conn:
        row = conn.execute(select(monitor_runs).where(monitor_runs.c.id == run_id)).first()
    if row is None:
        raise NotFound(f"no monitor run {run_id}")
    report, findings = _adapters()
    return Monitored(row.id, report.validate_python(row.report["report"]),
                     findings.validate_python(row.report["findings"]), [], row.ran_at, row.ran_by)
