"""Durable decisions per second: group commit (the DecisionLog) vs one commit per decision.

    python benchmarks/decision_log_commit.py [--seconds 3] [--threads 16 64] [--postgres-url URL | --no-postgres]

N writer threads record gateway-shaped decision rows for --seconds, on each engine:
- "per decision": each row in its own transaction (`engine.begin()` per row), over a pool of N
  connections so that no thread waits for one, and without pre-ping (the baseline at its best);
- "group commit": each row through one `DecisionLog.write`, which returns once the row is
  committed; whoever finds no commit running commits every row queued so far.
Both write the same rows; a row counts once its commit returned, and the rows in the table are
counted again afterwards. A one-thread "per decision" line shows the engine's plain commit rate.

SQLite: a file in a temporary folder, WAL with synchronous=NORMAL (a commit is not fsynced;
checkpoints are), BEGIN IMMEDIATE, as Relevo configures it. PostgreSQL: --postgres-url (default
the local test server) with fsync and synchronous_commit as the server has them, in a throwaway
schema that is dropped afterwards.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from sqlalchemy import create_engine, event, func, select

from relevo.gateway.decision_log import DecisionLog
from relevo.store import upgrade
from relevo.store.engine import _sqlite_begin, _sqlite_pragmas, create
from relevo.store.tables import decisions
from scratch_schema import scratch_schema

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
INPUTS = {"licence_type": "activity", "district": "north", "documents_complete": 0.8, "zoning_compatible": True,
          "prior_infractions": 0, "applicant_kind": "company", "submission_channel": "online",
          "applicant_id": "hmac:" + "b" * 32, "age_band": "30-44", "nationality_group": "eu"}


def decision_row() -> dict:
    """A row as the gateway writes it for a decision served by a version."""
    id_ = uuid.uuid4().hex
    return {"id": id_, "reference": f"LIC-{id_[:16].upper()}", "service": "licence-prefilter",
            "environment": "production", "case_pseudonym": uuid.uuid4().hex, "arm": "stable",
            "routed_version_id": 1, "served_by": "version", "decision": "admissible",
            "probabilities": {"admissible": 0.81, "rejected": 0.19}, "fallback_cause": None, "latency_ms": 1.9,
            "model_latency_ms": 1.4, "inputs": INPUTS, "route_revision": 1, "step": None,
            "created_at": datetime.now(timezone.utc)}


def per_decision_engine(url: str, connections: int):
    """An engine set up like Relevo's, with a pool of `connections` and no pre-ping: the baseline at its best."""
    engine = create_engine(url, pool_size=connections, max_overflow=0)
    if url.startswith("sqlite"):
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def run(threads: int, seconds: float, write: Callable[[dict], None]) -> tuple[int, float]:
    """(rows committed, elapsed seconds) with `threads` threads calling write(row) until time is up."""
    stop = threading.Event()
    counts = [0] * threads
    errors: list[BaseException] = []

    def writer(slot: int) -> None:
        try:
            while not stop.is_set():
                write(decision_row())
                counts[slot] += 1
        except BaseException as exc:  # reported below; a benchmark that lost rows must say so
            errors.append(exc)

    workers = [threading.Thread(target=writer, args=(i,)) for i in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    time.sleep(seconds)
    stop.set()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{len(errors)} writers failed; first: {errors[0]!r}")
    return sum(counts), elapsed


def rows_in_table(engine) -> int:
    """Rows in the decisions table."""
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(decisions)).scalar_one()


def bench_engine(name: str, url: str, threads_list: list[int], seconds: float) -> None:
    """Print the per-decision and group-commit rates on one engine."""
    upgrade(url)
    engine = create(url)  # the engine a gateway gets from its Context

    def measure(label: str, threads: int, write: Callable[[dict], None], probe) -> float:
        before = rows_in_table(probe)
        rows, elapsed = run(threads, seconds, write)
        stored = rows_in_table(probe) - before
        if stored != rows:
            raise RuntimeError(f"{label}: {rows} writes returned but {stored} rows are in the table")
        rate = rows / elapsed
        print(f"{name:10} {threads:3d} threads  {label:14} {rate:9.0f} decisions/s", end="")
        return rate

    def per_decision(threads: int) -> float:
        baseline = per_decision_engine(url, threads)

        def write(row: dict) -> None:
            with baseline.begin() as conn:
                conn.execute(decisions.insert(), [row])

        try:
            return measure("per decision", threads, write, baseline)
        finally:
            baseline.dispose()

    per_decision(1)
    print()
    for threads in threads_list:
        single = per_decision(threads)
        print()
        log = DecisionLog(engine)
        grouped = measure("group commit", threads, lambda row: log.write([(decisions, row)]), engine)  # noqa: B023 (used in this iteration)
        log.close()
        print(f"  ({log.rows_written / max(log.batches, 1):.1f} decisions per commit)")
        print(f"{name:10} {threads:3d} threads  ratio group commit / per decision: {grouped / single:.1f}")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="duration of each measurement")
    parser.add_argument("--threads", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="relevo-bench-") as folder:
        bench_engine("SQLite", f"sqlite:///{Path(folder) / 'relevo.db'}", args.threads, args.seconds)
    if args.no_postgres:
        return
    with scratch_schema(args.postgres_url) as url:
        bench_engine("PostgreSQL", url, args.threads, args.seconds)

if __name__ == "__main__":
    sys.exit(main())
