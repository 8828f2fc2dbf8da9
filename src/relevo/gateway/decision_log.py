"""The decision log's writer: group commit, so nothing acknowledged is lost and throughput holds.

Each request hands its rows to one writer thread and waits. The writer takes everything queued
so far, inserts it in one transaction, commits, and then wakes every waiter of that batch. Under
load many decisions share one commit; alone, a decision waits only for its own. If the commit
fails, every waiter of the batch gets the error, so no answer is sent for a decision that was
not recorded.
"""

from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, Table

from relevo.errors import StoreUnavailable
from relevo.store.engine import describe_failure

log = logging.getLogger(__name__)
MAX_BATCH = 512


@dataclass
class _Item:
    rows: list[tuple[Table, dict[str, Any]]]
    done: Future | None = field(default=None)


class DecisionLog:
    """A single writer thread committing queued rows in batches."""

    def __init__(self, engine: Engine, max_batch: int = MAX_BATCH) -> None:
        self.engine = engine
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="relevo-decision-log", daemon=True)
        self.batches = 0
        self.rows_written = 0
        self._thread.start()

    def write(self, rows: list[tuple[Table, dict[str, Any]]], timeout: float = 30.0) -> None:
        """Record rows durably; returns once they are committed, raises if they could not be."""
        done: Future = Future()
        self._queue.put(_Item(rows, done))
        done.result(timeout=timeout)

    def write_later(self, rows: list[tuple[Table, dict[str, Any]]]) -> None:
        """Queue rows without waiting (shadow answers: nobody is waiting for them)."""
        self._queue.put(_Item(rows))

    def close(self) -> None:
        """Commit what is queued, then stop the writer."""
        self._queue.put(None)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        stopping = False
        while not stopping:
            item = self._queue.get()
            if item is None:
                break
            batch = [item]
            while len(batch) < self.max_batch:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stopping = True
                    break
                batch.append(nxt)
            self._commit(batch)

    def _commit(self, batch: list[_Item]) -> None:
        by_table: dict[Table, list[dict[str, Any]]] = {}
        for item in batch:
            for table, row in item.rows:
                by_table.setdefault(table, []).append(row)
        try:
            with self.engine.begin() as conn:
                for table in _insert_order(by_table):
                    conn.execute(table.insert(), by_table[table])
        except Exception as exc:
            error = StoreUnavailable(f"the decision log could not be written: {describe_failure(str(self.engine.url), exc)}")
            log.error("decision log commit of %d items failed: %s", len(batch), exc)
            for item in batch:
                if item.done is not None:
                    item.done.set_exception(error)
            return
        self.batches += 1
        self.rows_written += sum(len(rows) for rows in by_table.values())
        for item in batch:
            if item.done is not None:
                item.done.set_result(None)


def _insert_order(by_table: dict[Table, list]) -> list[Table]:
    # Parents before children, so foreign keys hold within one transaction.
    from relevo.store.tables import decisions

    return sorted(by_table, key=lambda t: 0 if t is decisions else 1)
