"""Alerts: one open alert per rule until what it watches is back to normal (no floods), escalation of
an alert nobody acknowledged, resolution; every change audited and told on the team's channels.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, select

from relevo.audit import record_change
from relevo.audit.reasons import MIN_REASON, Reason
from relevo.clock import parse_duration
from relevo.context import Context
from relevo.errors import Conflict, InvalidInput, NotFound
from relevo.monitoring.rules import Finding
from relevo.services.catalogue import get_spec
from relevo.services.roles import require_role
from relevo.services.spec import ServiceSpec
from relevo.store import connect
from relevo.store.tables import alerts

Status = Literal["open", "resolved", "all"]


@dataclass(frozen=True)
class Alert:
    """One alert as recorded."""

    id: int
    service: str
    environment: str
    rule: str
    severity: str
    status: str
    summary: str
    opened_at: datetime
    escalated_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    acknowledgement: str | None
    resolved_at: datetime | None
    details: dict[str, Any]


@dataclass(frozen=True)
class AlertChange:
    """What a monitoring pass did to an alert."""

    alert_id: int
    rule: str
    change: Literal["opened", "resolved", "escalated"]
    severity: str
    summary: str


def _alert(row: Any) -> Alert:
    return Alert(row.id, row.service, row.environment, row.rule, row.severity, row.status, row.summary, row.opened_at,
                 row.escalated_at, row.acknowledged_at, row.acknowledged_by, row.acknowledgement, row.resolved_at,
                 row.details)


def _open(conn: Connection, service: str, environment: str) -> dict[str, Any]:
    rows = conn.execute(select(alerts).where(alerts.c.service == service, alerts.c.environment == environment,
                                             alerts.c.status == "open").with_for_update()).all()
    return {row.rule: row for row in rows}


def _tell(conn: Connection, ctx: Context, spec: ServiceSpec, environment: str, alert_id: int, change: str,
          severity: str, message: str, details: dict[str, Any]) -> None:
    record_change(conn, ctx, f"alert.{change}", f"{spec.name}/{environment}/alert-{alert_id}",
                  {"alert_id": alert_id, "service": spec.name, "environment": environment, "severity": severity}
                  | details, notice=message, informed=spec.roles.informed)


def apply_findings(conn: Connection, ctx: Context, spec: ServiceSpec, environment: str, run_id: int, window: str,
                   findings: list[Finding]) -> list[AlertChange]:
    """Open an alert for each breached rule that has none, resolve the open ones whose rule is back
    to normal (or gone from the spec), inside the caller's transaction."""
    now = ctx.clock.now()
    current = _open(conn, spec.name, environment)
    changes = []
    for found in findings:
        row = current.pop(found.rule, None)
        details = {"rule": found.rule, "window": window, "values": found.values, "items": found.breached}
        if found.is_breached and row is None:
            alert_id = conn.execute(alerts.insert().values(
                service=spec.name, environment=environment, rule=found.rule, severity=found.severity, status="open",
                summary=found.summary, details=details, opened_at=now, opened_run_id=run_id, last_run_id=run_id,
            ).returning(alerts.c.id)).scalar_one()
            _tell(conn, ctx, spec, environment, alert_id, "opened", found.severity,
                  f"{spec.name} ({environment}): {found.summary} [{window}]", details)
            changes.append(AlertChange(alert_id, found.rule, "opened", found.severity, found.summary))
        elif found.is_breached:
            conn.execute(alerts.update().where(alerts.c.id == row.id).values(
                summary=found.summary, details=details, last_run_id=run_id))
        elif row is not None and found.state == "normal" and set(row.details.get("items") or []) <= set(found.normal):
            # Back to normal only when every item that breached was measured again, within the threshold.
            changes.append(_resolve(conn, ctx, spec, environment, row, run_id, f"back to normal: {found.summary}",
                                    details))
        elif row is not None:  # not evaluated, or not yet shown either way: the alert stays open
            conn.execute(alerts.update().where(alerts.c.id == row.id).values(last_run_id=run_id))
    rules = {rule.name for rule in spec.monitoring.alerts}
    for rule, row in current.items():
        if rule not in rules:
            changes.append(_resolve(conn, ctx, spec, environment, row, run_id, "its rule is no longer in the spec",
                                    {"rule": rule}))
    return changes


def _resolve(conn: Connection, ctx: Context, spec: ServiceSpec, environment: str, row: Any, run_id: int, why: str,
             details: dict[str, Any]) -> AlertChange:
    conn.execute(alerts.update().where(alerts.c.id == row.id).values(
        status="resolved", resolved_at=ctx.clock.now(), resolved_run_id=run_id, last_run_id=run_id))
    _tell(conn, ctx, spec, environment, row.id, "resolved", row.severity,
          f"{spec.name} ({environment}): resolved, {row.rule} {why}",
          details | {"opened_at": row.opened_at.isoformat(), "escalated": row.escalated_at is not None})
    return AlertChange(row.id, row.rule, "resolved", row.severity, why)


def escalate_due(conn: Connection, ctx: Context, spec: ServiceSpec, environment: str) -> list[AlertChange]:
    """Escalate every open alert nobody acknowledged within the spec's escalate_after: it becomes
    critical and is told again, to the escalation channels too."""
    after = parse_duration(spec.monitoring.escalate_after)
    now = ctx.clock.now()
    changes = []
    for row in _open(conn, spec.name, environment).values():
        if row.escalated_at is None and row.acknowledged_at is None and row.opened_at + after <= now:
            conn.execute(alerts.update().where(alerts.c.id == row.id).values(severity="critical", escalated_at=now))
            _tell(conn, ctx, spec, environment, row.id, "escalated", "critical",
                  f"{spec.name} ({environment}): ESCALATED, open for {spec.monitoring.escalate_after} without "
                  f"acknowledgement: {row.summary}", {"rule": row.rule, "opened_at": row.opened_at.isoformat(),
                                                      "was": row.severity})
            changes.append(AlertChange(row.id, row.rule, "escalated", "critical", row.summary))
    return changes


def list_alerts(ctx: Context, service: str | None = None, status: Status = "open", limit: int = 100) -> list[Alert]:
    """The newest alerts (open ones by default), of one service or all."""
    query = select(alerts)
    if service is not None:
        with connect(ctx.engine) as conn:
            get_spec(conn, service)
        query = query.where(alerts.c.service == service)
    if status != "all":
        query = query.where(alerts.c.status == status)
    with connect(ctx.engine) as conn:
        rows = conn.execute(query.order_by(alerts.c.id.desc()).limit(limit)).all()
    return [_alert(row) for row in rows]


def acknowledge_alert(ctx: Context, alert_id: int, note: Reason) -> Alert:
    """An operator takes an open alert in hand: it is no longer escalated (audited, told)."""
    if note is None or len(note.strip()) < MIN_REASON:
        raise InvalidInput(f"an acknowledgement says what is being done about the alert (at least {MIN_REASON} "
                           "characters)")
    note = note.strip()
    with connect(ctx.engine) as conn:
        row = conn.execute(select(alerts).where(alerts.c.id == alert_id).with_for_update()).first()
        if row is None:
            raise NotFound(f"no alert {alert_id}")
        spec = get_spec(conn, row.service)
        require_role(conn, ctx, row.service, "operators")
        if row.status != "open":
            raise Conflict(f"alert {alert_id} is {row.status}: only an open alert is acknowledged")
        if row.acknowledged_at is not None:
            raise Conflict(f"alert {alert_id} was acknowledged by {row.acknowledged_by} already")
        now = ctx.clock.now()
        conn.execute(alerts.update().where(alerts.c.id == alert_id).values(
            acknowledged_at=now, acknowledged_by=ctx.actor, acknowledgement=note))
        _tell(conn, ctx, spec, row.environment, alert_id, "acknowledged", row.severity,
              f"{row.service} ({row.environment}): {ctx.actor} took alert {alert_id} in hand: {note}",
              {"rule": row.rule, "note": note})
        row = conn.execute(select(alerts).where(alerts.c.id == alert_id)).one()
    return _alert(row)
