"""Retention of the decision log: decisions older than their service's `logging.retention` are
deleted with what hangs off them (shadow answers, feedback, review-queue entries, idempotency
keys), in batches, so the gateway's commits never wait long behind one.

Two kinds of decision past retention stay until they are no longer needed:
- the evidence of a rollout in progress (running, paused or held): every decision of its service
  in its environment since the rollout started, which its judge reads;
- a case still in the manual-review queue (open or claimed): the citizen has no answer of record
  yet. It goes in the first purge after its case worker resolves it.
On PostgreSQL the log is partitioned by month (relevo.store.partitions). A month wholly before the
cut-off goes whole, one DROP instead of a million deletes, when every service's decisions in it are
past their own retention and none is held back: it is detached, what refers to its decisions is
deleted, and the table dropped. The other services' decisions go with it (they were due); the
purge names them. The boundary month, held-back decisions and rows in the DEFAULT partition go
through the batched delete, as on SQLite.
A purge is audited as one event (`decisions.purged`: the cut-off, the rows deleted by table, the
decisions held back, the months dropped whole with their rows), never with what the decisions
held. The audit log is a log of its own, append-only, and its leaves hold only salted hashes of
details: a purge touches none of it, so every checkpoint and proof stays valid.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

from sqlalchemy import (Connection, ColumnElement, FromClause, and_, column, delete, exists, false, func, not_, or_,
                        select, table)

from relevo.audit import record_change
from relevo.context import Context
from relevo.errors import NotFound
from relevo.services.catalogue import get_spec
from relevo.services.roles import require_role
from relevo.store import connect, partitions
from relevo.store.partitions import Month
from relevo.store.tables import decisions, feedback, idempotency_keys, manual_reviews, rollouts, shadow_decisions

log = logging.getLogger(__name__)
BATCH = 1000  # decisions deleted in one transaction
PURGED = "decisions.purged"
# What hangs off a decision (each refers to it by decision_id), deleted before it.
DEPENDENTS = (shadow_decisions, feedback, manual_reviews, idempotency_keys)
Progress = Callable[[str, int], Callable[[int], None]]  # (phase, total) -> advance(n)


def _quiet(phase: str, total: int) -> Callable[[int], None]:
    return lambda n: None


@dataclass(frozen=True)
class DroppedMonth:
    """A month of the decision log a purge dropped whole (PostgreSQL), or that a dry run would."""

    partition: str  # its table, e.g. decisions_2025_11
    month: str  # 2025-11
    rows: dict[str, int]  # by table: its decisions and the rows that referred to them, every service's
    services: dict[str, int]  # its decisions by service

    def as_details(self) -> dict:
        """As the purge's audit event records it."""
        return {"partition": self.partition, "month": self.month, "rows": self.rows, "services": self.services}


@dataclass(frozen=True)
class Purge:
    """What a purge deleted (or, on a dry run, would delete) and what it held back."""

    service: str
    retention: str  # the spec's logging.retention, e.g. "365d"
    cutoff: datetime  # decisions made before this are past retention
    dry_run: bool
    deleted: dict[str, int]  # rows by table: decisions and each table that refers to them
    held: dict[str, int]  # decisions past retention kept: rollout_evidence, awaiting_review
    event_id: int | None = None  # the audit event (None on a dry run, or when nothing went)
    # Months dropped whole (PostgreSQL; on a dry run, those that would be): deleted counts their rows
    # of this service too; other services' rows in them are named here only.
    partitions: tuple[DroppedMonth, ...] = ()

    @property
    def decisions(self) -> int:
        """Decisions deleted (or that would be)."""
        return self.deleted.get("decisions", 0)


def _in_rollout(conn: Connection, service: str) -> ColumnElement[bool]:
    """Decisions a rollout in progress reads: its environment's, since it started."""
    started = conn.execute(select(rollouts.c.environment, func.min(rollouts.c.started_at))
                           .where(rollouts.c.service == service, rollouts.c.ended_at.is_(None))
                           .group_by(rollouts.c.environment)).all()
    return or_(false(), *(and_(decisions.c.environment == env, decisions.c.created_at >= at) for env, at in started))


def _awaiting_review() -> ColumnElement[bool]:
    """Decisions whose case is still in the review queue (open or claimed)."""
    return exists().where(manual_reviews.c.decision_id == decisions.c.id, manual_reviews.c.status != "resolved")


def _count(conn: Connection, where: ColumnElement[bool]) -> int:
    return conn.execute(select(func.count()).select_from(decisions).where(where)).scalar_one()


def _dependents(conn: Connection, where: ColumnElement[bool]) -> dict[str, int]:
    """Rows referring to the decisions matching where, by table."""
    chosen = select(decisions.c.id).where(where).scalar_subquery()
    return {table.name: conn.execute(select(func.count()).select_from(table)
                                     .where(table.c.decision_id.in_(chosen))).scalar_one() for table in DEPENDENTS}


def _none() -> dict[str, int]:
    return {table.name: 0 for table in DEPENDENTS}


def _may_go(conn: Connection, service: str, in_month: ColumnElement[bool], month: Month, now: datetime) -> bool:
    """True when the service's decisions in month are all past its retention and no rollout in progress reads them."""
    try:
        days = get_spec(conn, service).logging.retention_days
    except NotFound:  # a service no longer declared: no purge deletes its decisions, so its months stay
        return False
    if month.end > now - timedelta(days=days):
        return False
    return _count(conn, and_(in_month, decisions.c.service == service, _in_rollout(conn, service))) == 0


def _whole_months(conn: Connection, service: str, cutoff: datetime, now: datetime) -> list[Month]:
    """The months wholly before cutoff that can go whole: every service's decisions in them past its
    own retention and none held back. A month without this service's decisions is its services' to drop."""
    found = []
    for month in partitions.months(conn):
        if month.end > cutoff:
            break
        in_month = and_(decisions.c.created_at >= month.start, decisions.c.created_at < month.end)
        present = conn.execute(select(decisions.c.service).where(in_month).distinct()).scalars().all()
        if present and service not in present:
            continue
        if all(_may_go(conn, name, in_month, month, now) for name in present) and not _count(
                conn, and_(in_month, _awaiting_review())):
            found.append(month)
    return found


def _month_source(month: Month) -> FromClause:
    """The decisions of a month (id, service): its partition through the log, or its table once detached."""
    if month.name.endswith(partitions.EXPIRED):
        return table(month.name, column("id"), column("service"))
    return select(decisions.c.id, decisions.c.service).where(
        decisions.c.created_at >= month.start, decisions.c.created_at < month.end).subquery()


def _by_service(conn: Connection, source: FromClause) -> dict[str, int]:
    """A month's decisions counted by service."""
    return {name: n for name, n in conn.execute(select(source.c.service, func.count()).group_by(source.c.service))}


def _month_contents(conn: Connection, month: Month, service: str) -> tuple[DroppedMonth, dict[str, int]]:
    """What dropping month would delete: every service's rows by table, and this service's."""
    source = _month_source(month)
    services = _by_service(conn, source)
    rows, mine = {"decisions": sum(services.values())}, {"decisions": services.get(service, 0)}
    for dependent in DEPENDENTS:
        for counts, ids in ((rows, select(source.c.id)), (mine, select(source.c.id).where(source.c.service == service))):
            counts[dependent.name] = conn.execute(select(func.count()).select_from(dependent)
                                                  .where(dependent.c.decision_id.in_(ids))).scalar_one()
    return DroppedMonth(partitions.month_of(month.start).name, month.label, rows, services), mine


def _drop_month(ctx: Context, month: Month, service: str) -> tuple[DroppedMonth, dict[str, int]] | None:
    """Detach month (unless a purge already did), delete what refers to its decisions and drop it, in
    one transaction; None when the log stayed busy (its rows then go in batches) or another purge
    took the month first."""
    if not month.name.endswith(partitions.EXPIRED):
        detached = partitions.detach(ctx.engine, month)
        if detached is None:
            return None
        month = detached
    source = _month_source(month)
    with connect(ctx.engine) as conn:
        if not partitions.claim(conn, month):
            log.info("the decision log's month %s was dropped by another purge", month.label)
            return None
        services = _by_service(conn, source)
        rows, mine = {"decisions": sum(services.values())}, {"decisions": services.get(service, 0)}
        alone = set(services) <= {service}  # then one delete a table: the service's rows are all of them
        for dependent in DEPENDENTS:
            ids = select(source.c.id)
            mine[dependent.name] = conn.execute(delete(dependent).where(dependent.c.decision_id.in_(
                ids if alone else ids.where(source.c.service == service)))).rowcount
            rows[dependent.name] = mine[dependent.name] + (0 if alone else conn.execute(delete(dependent).where(
                dependent.c.decision_id.in_(ids))).rowcount)
        conn.exec_driver_sql(f"DROP TABLE {month.name}")
    log.info("dropped the decision log's month %s: %s", month.label, rows)
    return DroppedMonth(partitions.month_of(month.start).name, month.label, rows, services), mine


def purge_expired(ctx: Context, service: str, *, dry_run: bool = False, progress: Progress = _quiet,
                  batch: int = BATCH, leading: Callable[[], bool] = lambda: True) -> Purge:
    """Delete the service's decisions past its retention, but those still needed (see the module);
    dry_run: count them instead. leading() is asked before each month dropped and each batch after
    the first (the schedule stops when it lost its lease; the next leader purges the rest). No role
    is checked: the schedule in `relevo serve` calls this as itself; people call purge_decisions."""
    now = ctx.clock.now()
    with connect(ctx.engine) as conn:
        spec = get_spec(conn, service)
        cutoff = now - timedelta(days=spec.logging.retention_days)
        past = and_(decisions.c.service == service, decisions.c.created_at < cutoff)
        in_rollout, waiting = _in_rollout(conn, service), _awaiting_review()
        gone = and_(past, not_(in_rollout), not_(waiting))
        held = {"rollout_evidence": _count(conn, and_(past, in_rollout)),
                "awaiting_review": _count(conn, and_(past, not_(in_rollout), waiting))}
        total = _count(conn, gone)
        # Months a purge detached and stopped before dropping come first; then those that can go whole.
        months = partitions.expired(conn) + _whole_months(conn, service, cutoff, now)
        if dry_run or (total == 0 and not months):  # nothing deleted, nothing to audit
            deleted = {"decisions": total} | (_dependents(conn, gone) if total else _none())
            planned = [_month_contents(conn, month, service)[0] for month in months]
            return Purge(service, spec.logging.retention, cutoff, dry_run, deleted, held, partitions=tuple(planned))
    deleted = {"decisions": 0} | _none()
    dropped: list[DroppedMonth] = []
    advance = progress(f"purging {service}'s decisions before {cutoff:%Y-%m-%d}", total)
    first = True

    def carry_on() -> bool:
        nonlocal first
        if first:
            first = False
            return True
        if leading():
            return True
        log.warning("purging %s: the lease moved to another replica, which purges the rest", service)
        return False

    try:
        stopped = False
        for month in months:
            if not carry_on():
                stopped = True
                break
            done = _drop_month(ctx, month, service)
            if done is not None:
                dropped.append(done[0])
                for name, n in done[1].items():
                    deleted[name] += n
                advance(done[1]["decisions"])
        while not stopped and carry_on():
            with connect(ctx.engine) as conn:
                ids = conn.execute(select(decisions.c.id).where(gone).limit(batch)).scalars().all()
                for dependent in DEPENDENTS:
                    deleted[dependent.name] += conn.execute(
                        delete(dependent).where(dependent.c.decision_id.in_(ids))).rowcount
                deleted["decisions"] += conn.execute(delete(decisions).where(decisions.c.id.in_(ids))).rowcount
            advance(len(ids))
            if len(ids) < batch:
                break
    except Exception as exc:
        # The batches and months committed so far are gone: say so in the log, with why it stopped.
        if deleted["decisions"] or dropped:
            _record(ctx, service, spec.logging.retention, cutoff, deleted, held, dropped,
                    interrupted=f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:300]}")
        raise
    event_id = _record(ctx, service, spec.logging.retention, cutoff, deleted, held, dropped)
    return Purge(service, spec.logging.retention, cutoff, False, deleted, held, event_id, tuple(dropped))


def _record(ctx: Context, service: str, retention: str, cutoff: datetime, deleted: dict[str, int],
            held: dict[str, int], dropped: list[DroppedMonth], interrupted: str | None = None) -> int | None:
    """The purge's audit event, in a transaction of its own (after the batches it counts)."""
    details: dict[str, Any] = {"retention": retention, "cutoff": cutoff.isoformat(), "deleted": deleted, "held": held}
    if dropped:  # PostgreSQL's whole months (none on SQLite, whose events stay as they were)
        details["partitions"] = [month.as_details() for month in dropped]
    try:
        with connect(ctx.engine) as conn:
            return record_change(conn, ctx, PURGED, service,
                                 details | ({"interrupted": interrupted} if interrupted else {})).event_id
    except Exception:
        if interrupted is None:
            raise
        log.exception("the interrupted purge of %s could not be audited", service)  # the first failure is raised
        return None


def purge_decisions(ctx: Context, service: str, dry_run: bool = False, progress: Progress = _quiet) -> Purge:
    """Delete the service's decisions past its retention, with their shadow answers, feedback,
    reviews and idempotency keys, but a rollout in progress's evidence and cases awaiting review
    (operators); dry_run: count what would go, by table, and delete nothing."""
    with connect(ctx.engine) as conn:
        require_role(conn, ctx, service, "operators")
    return purge_expired(ctx, service, dry_run=dry_run, progress=progress)
