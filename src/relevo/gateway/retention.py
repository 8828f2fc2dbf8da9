"""Retention of the decision log: decisions older than their service's `logging.retention` are
deleted with what hangs off them (shadow answers, feedback, review-queue entries, idempotency
keys), in batches, so the gateway's commits never wait long behind one.

Two kinds of decision past retention stay until they are no longer needed:
- the evidence of a rollout in progress (running, paused or held): every decision of its service
  in its environment since the rollout started, which its judge reads;
- a case still in the manual-review queue (open or claimed): the citizen has no answer of record
  yet. It goes in the first purge after its case worker resolves it.
A purge is audited as one event (`decisions.purged`: the cut-off, the rows deleted by table, the
decisions held back), never with what the decisions held. The audit log is a log of its own,
append-only, and its leaves hold only salted hashes of details: a purge touches none of it, so
every checkpoint and proof stays valid.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import Connection, ColumnElement, and_, delete, exists, false, func, not_, or_, select

from relevo.audit import record_change
from relevo.context import Context
from relevo.services.catalogue import get_spec
from relevo.services.roles import require_role
from relevo.store import connect
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
class Purge:
    """What a purge deleted (or, on a dry run, would delete) and what it held back."""

    service: str
    retention: str  # the spec's logging.retention, e.g. "365d"
    cutoff: datetime  # decisions made before this are past retention
    dry_run: bool
    deleted: dict[str, int]  # rows by table: decisions and each table that refers to them
    held: dict[str, int]  # decisions past retention kept: rollout_evidence, awaiting_review
    event_id: int | None = None  # the audit event (None on a dry run, or when nothing went)

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


def purge_expired(ctx: Context, service: str, *, dry_run: bool = False, progress: Progress = _quiet,
                  batch: int = BATCH, leading: Callable[[], bool] = lambda: True) -> Purge:
    """Delete the service's decisions past its retention, but those still needed (see the module);
    dry_run: count them instead. leading() is asked before each batch after the first (the
    schedule stops when it lost its lease; the next leader purges the rest). No role is checked:
    the schedule in `relevo serve` calls this as itself; people call purge_decisions."""
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
        if dry_run or total == 0:  # nothing deleted, nothing to audit
            deleted = {"decisions": total} | (_dependents(conn, gone) if total else _none())
            return Purge(service, spec.logging.retention, cutoff, dry_run, deleted, held)
    deleted = {"decisions": 0} | _none()
    advance = progress(f"purging {service}'s decisions before {cutoff:%Y-%m-%d}", total)
    try:
        while True:
            with connect(ctx.engine) as conn:
                ids = conn.execute(select(decisions.c.id).where(gone).limit(batch)).scalars().all()
                for table in DEPENDENTS:
                    deleted[table.name] += conn.execute(delete(table).where(table.c.decision_id.in_(ids))).rowcount
                deleted["decisions"] += conn.execute(delete(decisions).where(decisions.c.id.in_(ids))).rowcount
            advance(len(ids))
            if len(ids) < batch:
                break
            if not leading():
                log.warning("purging %s: the lease moved to another replica, which purges the rest", service)
                break
    except Exception as exc:
        # The batches committed so far are gone: say so in the log, with why it stopped.
        if deleted["decisions"]:
            _record(ctx, service, spec.logging.retention, cutoff, deleted, held,
                    interrupted=f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:300]}")
        raise
    event_id = _record(ctx, service, spec.logging.retention, cutoff, deleted, held)
    return Purge(service, spec.logging.retention, cutoff, False, deleted, held, event_id)


def _record(ctx: Context, service: str, retention: str, cutoff: datetime, deleted: dict[str, int],
            held: dict[str, int], interrupted: str | None = None) -> int | None:
    """The purge's audit event, in a transaction of its own (after the batches it counts)."""
    details = {"retention": retention, "cutoff": cutoff.isoformat(), "deleted": deleted, "held": held}
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
