"""The decision log writes through the driver: what it stores, and how it recovers, on each engine."""

from __future__ import annotations

import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text

from relevo.demo import SERVICE_NAME
from relevo.errors import StoreUnavailable
from relevo.gateway.decision_log import CHECKPOINT_ROWS, DecisionLog
from relevo.store.tables import decisions, manual_reviews


def _row(**values) -> dict:
    id_ = uuid.uuid4().hex
    row = {"id": id_, "reference": f"LIC-{id_[:16].upper()}", "service": SERVICE_NAME, "environment": "production",
           "case_pseudonym": "p" * 64, "arm": "stable", "routed_version_id": 7, "served_by": "version",
           "decision": "admissible", "probabilities": {"admissible": 0.75, "rejected": 0.25}, "fallback_cause": None,
           "latency_ms": 1.25, "model_latency_ms": 0.5,
           "inputs": {"district": "centre", "documents_complete": 0.8, "zoning_compatible": True, "note": "ä\n\"x\""},
           "route_revision": 3, "step": "canary-10",
           "created_at": datetime(2026, 3, 1, 12, 30, 15, 123456, timezone.utc)}
    row.update(values)
    return row


def _stored(ctx, id_: str) -> dict:
    with ctx.engine.connect() as conn:
        return dict(conn.execute(select(decisions).where(decisions.c.id == id_)).one()._mapping)


def test_rows_read_back_as_a_core_insert_stores_them(ctx):
    """Same row through the log and through SQLAlchemy Core: the same values come back."""
    # A zone other than UTC is converted as Core converts it; None where a column is nullable.
    written = _row(created_at=datetime(2026, 3, 1, 14, 30, 15, 123456, timezone(timedelta(hours=2))),
                   arm=None, fallback_cause=None, probabilities=None)
    log = DecisionLog(ctx.engine)
    log.write([(decisions, written)])
    log.close()
    reference = _row(**{k: v for k, v in written.items() if k not in ("id", "reference")})
    with ctx.engine.begin() as conn:
        conn.execute(decisions.insert(), [reference])

    by_log, by_core = _stored(ctx, written["id"]), _stored(ctx, reference["id"])
    for key in written:
        if key not in ("id", "reference"):
            assert by_log[key] == by_core[key], key
    assert by_log["created_at"] == datetime(2026, 3, 1, 12, 30, 15, 123456, timezone.utc)
    assert by_log["inputs"] == written["inputs"] and by_log["probabilities"] is None
    with ctx.engine.connect() as conn:  # as stored, before the column types read them back
        stored = conn.execute(text("SELECT inputs, created_at, probabilities FROM decisions")).all()
    assert stored[0] == stored[1]


def test_a_decision_and_its_review_commit_together(ctx):
    log = DecisionLog(ctx.engine)
    row = _row(served_by="manual", decision=None)
    log.write([(decisions, row), (manual_reviews, {"decision_id": row["id"], "service": SERVICE_NAME, "status": "open",
                                                   "claimed_by": None, "claimed_at": None, "resolved_at": None,
                                                   "created_at": row["created_at"]})])
    log.close()
    with ctx.engine.connect() as conn:
        status = conn.execute(select(manual_reviews.c.status).where(manual_reviews.c.decision_id == row["id"])).scalar()
    assert status == "open"


@pytest.mark.parametrize("bad", [{"inputs": {"tags": {"a", "b"}}}, {"created_at": datetime(2026, 3, 1, 12, 0)}],
                         ids=["not-json", "naive-datetime"])
def test_a_value_that_cannot_be_stored_fails_its_own_write(ctx, bad):
    log = DecisionLog(ctx.engine)
    with pytest.raises(StoreUnavailable, match="refused the decision"):
        log.write([(decisions, _row(**bad))])
    good = _row()
    log.write([(decisions, good)])
    log.close()
    with ctx.engine.connect() as conn:
        assert list(conn.execute(select(decisions.c.id)).scalars()) == [good["id"]]


def test_a_dropped_connection_is_replaced_and_the_write_goes_through(ctx):
    """The store drops the log's idle connection (a restart, an idle timeout): the next write still commits."""
    log = DecisionLog(ctx.engine)
    first = _row()
    log.write([(decisions, first)])
    held = log._conn.dbapi_connection
    if ctx.engine.dialect.name == "postgresql":
        with ctx.engine.begin() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": held.info.backend_pid})
    else:
        held.close()
    second = _row()
    log.write([(decisions, second)])
    assert log._conn.dbapi_connection is not held
    log.close()
    with ctx.engine.connect() as conn:
        assert set(conn.execute(select(decisions.c.id)).scalars()) == {first["id"], second["id"]}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # PostgreSQL checkpoints by itself
def test_sqlite_write_ahead_log_is_checkpointed_and_starts_over(ctx):
    """SQLite: checkpoints run beside the writes, and the log file stops growing (it starts over)."""
    wal = ctx.engine.url.database + "-wal"
    log = DecisionLog(ctx.engine)

    def write(_: int) -> None:
        log.write([(decisions, _row())])

    # Without checkpoints every one-row commit adds about 30 kB (the row's page and its indexes'):
    # 4 * CHECKPOINT_ROWS of them would leave 28 MB, 14 * CHECKPOINT_ROWS (some in batches) more.
    bound = 2 * CHECKPOINT_ROWS * 30_000
    for i in range(4 * CHECKPOINT_ROWS):  # one at a time
        write(i)
    assert os.path.getsize(wal) < bound
    with ThreadPoolExecutor(max_workers=32) as pool:  # many at once
        list(pool.map(write, range(10 * CHECKPOINT_ROWS)))
    assert os.path.getsize(wal) < bound
    log.close()
    with ctx.engine.connect() as conn:
        assert len(conn.execute(select(decisions.c.id)).all()) == 14 * CHECKPOINT_ROWS


def test_the_commit_that_leads_has_a_deadline(ctx):
    """A locked table fails the commit at its deadline (and every request in it, not forever);
    nothing is recorded, and the log commits again once the lock is gone."""
    import time

    log = DecisionLog(ctx.engine, commit_deadline=1.0)
    log.write([(decisions, _row())])  # the log's connection is open and its deadline set
    locker = ctx.engine.connect()
    try:
        if ctx.engine.dialect.name == "sqlite":
            locker.exec_driver_sql("SELECT 1")  # the store's engine begins with BEGIN IMMEDIATE: the write lock
        else:
            locker.execute(text("LOCK TABLE decisions IN EXCLUSIVE MODE"))
        started = time.monotonic()
        with pytest.raises(StoreUnavailable):
            log.write([(decisions, _row())])
        waited = time.monotonic() - started
    finally:
        locker.rollback()
        locker.close()
    assert waited < 20, f"the leader waited {waited:.1f} s for a 1 s deadline"  # gave up, did not hang
    later = _row()
    log.write([(decisions, later)])
    log.close()
    with ctx.engine.connect() as conn:
        assert len(conn.execute(select(decisions.c.id)).all()) == 2
