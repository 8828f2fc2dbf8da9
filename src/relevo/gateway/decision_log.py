"""The decision log's writer: group commit, so nothing acknowledged is lost and throughput holds.

A request queues its rows and, if no commit is running, commits everything queued so far itself
(it leads) in one transaction; requests that arrive meanwhile wait. When a commit ends, its
leader wakes the requests of that batch and hands the lead to the oldest request still
waiting, which commits the next batch. Under load many decisions share one commit; alone, a
decision is committed in its own thread, with no hand-off to a writer thread and back. If a
commit fails, every request of that batch gets the error, so no answer is sent for a decision
that was not recorded (unless the failure came from one row's values: see _commit_batch).
"""

from __future__ import annotations

import functools
import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, Insert, Table
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, StatementError

from relevo.errors import StoreUnavailable
from relevo.store.engine import describe_failure

log = logging.getLogger(__name__)
MAX_BATCH = 512


@dataclass(eq=False)
class _Item:
    rows: list[tuple[Table, dict[str, Any]]]
    woken: Any = field(default_factory=threading.Lock)  # held until its request is woken
    done: bool = False
    lead: bool = False  # its request is to commit the next batch
    error: Exception | None = None


class DecisionLog:
    """Durable writes of decision rows, committed in batches by the writers themselves."""

    def __init__(self, engine: Engine, max_batch: int = MAX_BATCH) -> None:
        self.engine = engine
        self.max_batch = max_batch
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)  # notified when no commit is running
        self._queued: list[_Item] = []
        self._committing = False
        self._conn: Connection | None = None  # used by the leader only
        self.batches = 0
        self.rows_written = 0

    def write(self, rows: list[tuple[Table, dict[str, Any]]], timeout: float = 30.0) -> None:
        """Record rows durably; returns once they are committed, raises if they could not be."""
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
            with self._lock:
                for other, error in zip(batch, errors):
                    other.error, other.done = error, True
                    if other is not item:
                        other.woken.release()
                if not self._queued:
                    self._committing = False
                    self._idle.notify_all()
                elif not item.done:  # its own rows were not in this batch: lead again
                    item.lead = True
                else:
                    successor = self._queued[0]
                    successor.lead = True
                    successor.woken.release()

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
        # One connection, held between commits: checking one out of the pool for each commit
        # (and pinging it, on PostgreSQL) cost about as much as the insert itself.
        try:
            if self._conn is None:
                self._conn = self.engine.connect()
            with self._conn.begin():
                for table in _insert_order(by_table):
                    self._conn.execute(_insert_statement(table), by_table[table])
        except Exception:
            self._release_connection()
            raise

    def _release_connection(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception as exc:  # a broken connection may fail to close; the pool drops it
                log.debug("closing the decision log's connection failed: %s", exc)
            self._conn = None


def _caused_by_rows(exc: Exception) -> bool:
    """True for errors about the rows' values rather than the store (which would fail any row)."""
    if isinstance(exc, (IntegrityError, DataError)):
        return True
    return isinstance(exc, StatementError) and not isinstance(exc, DBAPIError)  # e.g. a value JSON cannot hold


@functools.cache
def _insert_statement(table: Table) -> Insert:
    return table.insert()


def _insert_order(by_table: dict[Table, list]) -> list[Table]:
    # Parents before children, so foreign keys hold within one transaction.
    from relevo.store.tables import decisions

    return sorted(by_table, key=lambda t: 0 if t is decisions else 1)
