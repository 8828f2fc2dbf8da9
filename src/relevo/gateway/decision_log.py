"""The decision log's writer: group commit, so nothing acknowledged is lost and throughput holds.

A request queues its rows and, if no commit is running, commits everything queued so far itself
(it leads) in one transaction; requests that arrive meanwhile wait. When a commit ends, its
leader wakes the requests of that batch and hands the lead to the oldest request still
waiting, which commits the next batch. Under load many decisions share one commit; alone, a
decision is committed in its own thread, with no hand-off to a writer thread and back. If a
commit fails, every request of that batch gets the error, so no answer is sent for a decision
that was not recorded (unless the failure came from one row's values: see _commit_batch).

Every commit has a deadline (commit_deadline): the leader's connection gives up on a lock or a
statement that takes longer (SQLite's busy timeout, PostgreSQL's statement_timeout), so a locked
table fails the batch with 503s instead of holding every request forever; the requests waiting
behind it give up after two deadlines. `commit_probe` tells readiness whether a decision could
be committed now, within a deadline.
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Sequence

from sqlalchemy import Dialect, Engine, Table
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, SQLAlchemyError, StatementError
from sqlalchemy.pool import PoolProxiedConnection

from relevo.errors import StoreUnavailable
from relevo.store.engine import SQLITE_BEGIN, SQLITE_BUSY_TIMEOUT_MS, describe_failure

log = logging.getLogger(__name__)
MAX_BATCH = 512
COMMIT_DEADLINE_S = 5.0
# SQLite: rows committed between two checkpoints of the write-ahead log. A one-row commit of a
# decision adds about 7 pages to it (the row's and its five indexes'), so 250 make some 1,750
# pages (7 MB; SQLite's own default is to checkpoint past 1,000); rows committed together share
# pages, so under load there are fewer.
CHECKPOINT_ROWS = 250


@dataclass(eq=False)
class _Item:
    rows: list[tuple[Table, dict[str, Any]]]
    woken: Any = field(default_factory=threading.Lock)  # held until its request is woken
    done: bool = False
    lead: bool = False  # its request is to commit the next batch
    error: Exception | None = None


class DecisionLog:
    """Durable writes of decision rows, committed in batches by the writers themselves."""

    def __init__(self, engine: Engine, max_batch: int = MAX_BATCH, commit_deadline: float = COMMIT_DEADLINE_S) -> None:
        if not commit_deadline > 0:
            raise ValueError(f"commit_deadline must be positive, got {commit_deadline}")
        self.engine = engine
        self.max_batch = max_batch
        self.commit_deadline = commit_deadline
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)  # notified when no commit is running
        self._queued: list[_Item] = []
        self._committing = False
        self._conn: PoolProxiedConnection | None = None  # the driver's connection, used by the leader only
        self._inserts: dict[Table, _Insert] = {}
        self._checkpoints = engine.dialect.name == "sqlite"  # see _checkpoint
        self._rows_at_checkpoint = 0
        self.batches = 0
        self.rows_written = 0

    def write(self, rows: list[tuple[Table, dict[str, Any]]], timeout: float | None = None) -> None:
        """Record rows durably; returns once they are committed, raises if they could not be.

        A request waiting behind other commits gives up after timeout seconds (default: two
        commit deadlines and a second, the longest the commits ahead of it can take).
        """
        if timeout is None:
            timeout = 2 * self.commit_deadline + 1
        item = _Item(rows)
        item.woken.acquire()
        with self._lock:
            self._queued.append(item)
            if not self._committing:
                self._committing = item.lead = True
        # Each waiter sleeps on its own lock, so a commit wakes its own batch, not every waiter.
        if not item.lead and not item.woken.acquire(timeout=timeout):
            with self._lock:
                if not (item.done or item.lead):
                    if item in self._queued:  # not in a commit yet: withdraw it, it will not be recorded
                        self._queued.remove(item)
                    raise StoreUnavailable(f"the decision log did not confirm the commit within {timeout:g} s")
        while item.lead:
            self._lead(item)
        if item.error is not None:
            raise item.error

    def close(self) -> None:
        """Wait for a running commit to end (every write commits before it returns); release the connection."""
        with self._idle:
            while self._committing:
                self._idle.wait()
            self._release_connection()

    def _lead(self, item: _Item) -> None:
        """Commit the oldest queued items, wake their requests and pass the lead on."""
        item.lead = False
        with self._lock:
            batch = self._queued[: self.max_batch]
            del self._queued[: self.max_batch]
        errors = None
        try:
            errors = self._commit_batch(batch)
        finally:
            if errors is None:  # interrupted: nothing is known to be committed
                errors = [StoreUnavailable("the decision log commit was interrupted") for _ in batch]
            checkpoint = False
            with self._lock:
                for other, error in zip(batch, errors):
                    other.error, other.done = error, True
                    if other is not item:
                        other.woken.release()
                if not item.done:  # its own rows were not in this batch: lead again
                    item.lead = True
                elif self._checkpoints and self.rows_written - self._rows_at_checkpoint >= CHECKPOINT_ROWS:
                    checkpoint = True  # the lead passes to the checkpoint
                else:
                    self._pass_lead()
            if checkpoint:
                try:
                    threading.Thread(target=self._checkpoint, name="relevo-log-checkpoint", daemon=True).start()
                except RuntimeError as exc:  # no thread to be had: skip this one
                    log.warning("decision log checkpoint skipped: %s", exc)
                    self._end_checkpoint()

    def _pass_lead(self) -> None:
        """To the oldest queued request, or to none (called with the lock held)."""
        if self._queued:
            successor = self._queued[0]
            successor.lead = True
            successor.woken.release()
        else:
            self._committing = False
            self._idle.notify_all()

    def _checkpoint(self) -> None:
        """SQLite: copy the write-ahead log back into the database, away from any request.

        SQLite checkpoints by itself in the commit that takes the log past 1,000 pages, which
        then took a few milliseconds (the copy, two fsyncs) instead of 0.2 ms: that request, and
        every one queued behind its commit, waited for it (p99 of one commit 2.5 ms against 0.2
        ms without). The log's connection does not checkpoint (see _connect); this thread does,
        after the commit's requests are answered. It holds the lead meanwhile, so no commit adds
        to the log while it is copied: the copy completes and the next commit starts the log
        file over, where checkpoints running beside commits could leave it growing for good.
        """
        try:
            if self._conn is not None:
                cursor = self._conn.cursor()
                try:
                    cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
                finally:
                    cursor.close()
        except Exception as exc:  # the next commit finds out whether the connection is still good
            log.warning("decision log checkpoint failed: %s", exc)
        finally:
            self._end_checkpoint()

    def _end_checkpoint(self) -> None:
        with self._lock:
            self._rows_at_checkpoint = self.rows_written
            self._pass_lead()

    def _commit_batch(self, batch: list[_Item]) -> list[Exception | None]:
        """Commit the items together; the error each item's request gets, or None."""
        error = self._commit(batch)
        if error is None:
            return [None] * len(batch)
        if len(batch) > 1 and _caused_by_rows(error):
            # One bad row (a duplicate key, a value too long for its column) must not cost the
            # other requests of its batch their answers: commit each on its own.
            return [self._failure(e) if (e := self._commit([item])) else None for item in batch]
        return [self._failure(error) for _ in batch]  # one each: threads raise them at once

    def _commit(self, batch: list[_Item]) -> Exception | None:
        by_table: dict[Table, list[dict[str, Any]]] = {}
        for item in batch:
            for table, row in item.rows:
                by_table.setdefault(table, []).append(row)
        try:
            try:
                self._insert(by_table)
            except DBAPIError as exc:
                if not exc.connection_invalidated:
                    raise
                # The server dropped the held connection while it sat idle (a restart, an idle
                # timeout), which the pool's pre-ping would have caught at checkout: once more.
                self._insert(by_table)
        except Exception as exc:
            log.error("decision log commit of %d items failed: %s", len(batch), exc)
            return exc
        self.batches += 1
        self.rows_written += sum(len(rows) for rows in by_table.values())
        return None

    def _failure(self, exc: Exception) -> StoreUnavailable:
        if _caused_by_rows(exc):
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            return StoreUnavailable(f"the decision log refused the decision: {reason}")
        return StoreUnavailable(
            f"the decision log could not be written: {describe_failure(str(self.engine.url), exc)}")

    def _insert(self, by_table: dict[Table, list[dict[str, Any]]]) -> None:
        # Straight through the driver: one prepared INSERT per table, executemany, commit.
        # SQLAlchemy's execution of a Core insert (its caches, events, result objects and
        # transaction) cost 0.04 ms per commit on SQLite, a third of the commit itself. Values
        # are converted first, so a value that cannot be stored fails before the transaction.
        work = [(insert.sql, insert.parameters(by_table[table]))
                for table, insert in ((t, self._insert_of(t)) for t in _insert_order(by_table))]
        dialect = self.engine.dialect
        cursor = None
        try:
            if self._conn is None:
                # One connection, held between commits: checking one out of the pool for each
                # commit (and pinging it, on PostgreSQL) cost about as much as the insert itself.
                self._conn = self._connect()
            cursor = self._conn.cursor()
            if dialect.name == "sqlite":
                cursor.execute(SQLITE_BEGIN)  # as the store's engine begins (PostgreSQL's driver begins by itself)
            for sql, parameters in work:
                cursor.executemany(sql, parameters)
            self._conn.commit()
        except Exception as exc:
            if isinstance(exc, SQLAlchemyError):  # checking out a connection failed: already described
                self._release_connection()
                raise
            # Raised as SQLAlchemy raises a driver's error, so that _commit and _failure tell
            # a dropped connection, a refused row and an unreachable store apart as before.
            dbapi_error = dialect.loaded_dbapi.Error
            invalidated = isinstance(exc, dbapi_error) and dialect.is_disconnect(exc, self._conn, cursor)
            self._release_connection()
            raise DBAPIError.instance(work[0][0] if work else None, None, exc, dbapi_error,
                                      connection_invalidated=invalidated, dialect=dialect) from exc
        finally:
            if cursor is not None:
                try:
                    cursor.close()
                except Exception as exc:  # the connection it belonged to may be gone
                    log.debug("closing the decision log's cursor failed: %s", exc)

    def _connect(self) -> PoolProxiedConnection:
        conn = self.engine.raw_connection()
        # Taken out of the pool for good, so that its settings (no automatic checkpoints on
        # SQLite, see _checkpoint; the commit deadline) stay with this connection; closing it closes it.
        conn.detach()
        deadline_ms = int(self.commit_deadline * 1000)
        try:
            cursor = conn.cursor()
            if self._checkpoints:
                cursor.execute("PRAGMA wal_autocheckpoint=0")
                cursor.execute(f"PRAGMA busy_timeout={deadline_ms}")
            else:
                cursor.execute(f"SET statement_timeout = {deadline_ms}")
                conn.commit()
            cursor.close()
        except Exception:
            conn.close()
            raise
        return conn

    def _insert_of(self, table: Table) -> "_Insert":
        insert = self._inserts.get(table)
        if insert is None:
            insert = self._inserts[table] = _Insert(table, self.engine.dialect)
        return insert

    def _release_connection(self) -> None:
        if self._conn is not None:
            try:
                # Detached from the pool, so closing closes it for good (what is left open is
                # rolled back by the driver), a broken one too: an invalidate() of a detached
                # connection would drop it without closing it, for the garbage collector to find.
                self._conn.close()
            except Exception as exc:  # a broken connection may fail to close; the pool drops it
                log.debug("closing the decision log's connection failed: %s", exc)
            self._conn = None


class _Insert:
    """A table's INSERT as its driver takes it, and rows converted as SQLAlchemy's column types would.

    The conversions are the column types' own bind processors for this dialect: JSON columns
    become JSON text (SQLite) or psycopg Jsonb values (PostgreSQL), UTC datetimes lose their zone
    on SQLite, where they are stored as text, and keep it on PostgreSQL. A row lacking a column
    stores NULL there, as a Core insert does when every row of it lacks that column.
    """

    def __init__(self, table: Table, dialect: Dialect) -> None:
        if any(column.default is not None or column.server_default is not None for column in table.columns):
            # Every column is written, NULL where a row has no value, so a default would never apply.
            raise ValueError(f"the decision log cannot write {table.name}: it has column defaults")
        compiled = table.insert().compile(dialect=dialect)
        self.sql = str(compiled)
        self.positional = compiled.positional
        keys = list(compiled.positiontup) if compiled.positional else [column.key for column in table.columns]
        processors = {column.key: column.type.dialect_impl(dialect).bind_processor(dialect) for column in table.columns}
        self.columns = [(key, processors[key]) for key in keys]

    def parameters(self, rows: Sequence[dict[str, Any]]) -> list:
        """The rows as the driver's executemany takes them; StatementError if a value cannot be converted."""
        columns = self.columns
        try:
            if self.positional:
                return [tuple(row.get(key) if convert is None else convert(row.get(key)) for key, convert in columns)
                        for row in rows]
            return [{key: row.get(key) if convert is None else convert(row.get(key)) for key, convert in columns}
                    for row in rows]
        except Exception as exc:  # e.g. a value JSON cannot hold, a naive datetime
            raise StatementError(f"({type(exc).__module__}.{type(exc).__name__}) {exc}", self.sql, None, exc) from exc


PROBE_SERVICE = "__readiness_probe__"


def commit_probe(engine: Engine, deadline: float) -> str | None:
    """None when a decision row can be committed within deadline seconds (the probe's own row is
    rolled back, so nothing is recorded); otherwise why not, for the server log."""
    from relevo.store.tables import decisions

    probe_id = uuid.uuid4().hex
    row = {"id": probe_id, "reference": f"PROBE-{probe_id[:16].upper()}", "service": PROBE_SERVICE,
           "environment": "production", "case_pseudonym": probe_id, "served_by": "rules", "latency_ms": 0.0,
           "inputs": {}, "created_at": datetime.now(timezone.utc)}
    insert = _Insert(decisions, engine.dialect)
    deadline_ms = max(1, int(deadline * 1000))
    sqlite = engine.dialect.name == "sqlite"
    try:
        conn = engine.raw_connection()
    except Exception as exc:  # the store is away
        return f"cannot connect: {exc}"
    try:
        cursor = conn.cursor()
        try:
            if sqlite:
                cursor.execute(f"PRAGMA busy_timeout={deadline_ms}")
                cursor.execute(SQLITE_BEGIN)
            else:
                cursor.execute(f"SET LOCAL statement_timeout = {deadline_ms}")
            cursor.executemany(insert.sql, insert.parameters([row]))
            return None
        except Exception as exc:  # locked, read-only, full, away: not ready
            return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        finally:
            try:
                conn.rollback()
                if sqlite:
                    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
                cursor.close()
            except Exception as exc:  # a broken connection: the pool drops it
                log.debug("closing the readiness probe's connection failed: %s", exc)
    finally:
        conn.close()


def _caused_by_rows(exc: Exception) -> bool:
    """True for errors about the rows' values rather than the store (which would fail any row)."""
    if isinstance(exc, (IntegrityError, DataError)):
        return True
    return isinstance(exc, StatementError) and not isinstance(exc, DBAPIError)  # e.g. a value JSON cannot hold


def _insert_order(by_table: dict[Table, list]) -> list[Table]:
    # Parents before children, so foreign keys hold within one transaction.
    from relevo.store.tables import decisions

    return sorted(by_table, key=lambda t: 0 if t is decisions else 1)
