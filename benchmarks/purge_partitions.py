"""A retention purge on PostgreSQL: whole months dropped vs the batched delete of the same rows.

    python benchmarks/purge_partitions.py [--decisions 2400000] [--months 3] [--postgres-url URL]

Two stores in throwaway schemas of --postgres-url (default the local test server), each holding
--decisions decisions of one service spread evenly over the twelve months of 2025, with a shadow
answer for one decision in 16 and a case worker's verdict for one in 256, built in the database
itself (INSERT ... SELECT over generate_series) and analysed:
- "months dropped": the store as Relevo makes it now, its decision log partitioned by month;
- "batched delete" (the baseline): the store as it was before (schema 0020), one table.
The service keeps its decisions 365 days; on a clock set so that the cut-off falls at the end of
the --months oldest months, `purge_expired` (the schedule's purge in `relevo serve`) runs once on
each: on the first it detaches and drops those months, on the second it deletes the same rows in
batches of 1,000 with what refers to them. Both must report the same counts; the times and their
ratio are printed. Then the one-table store (what the purge left of it) is migrated to the newest
schema, into months, as `relevo init` migrates a store, and that is timed too. The schemas are
dropped afterwards.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import create_engine, text

from relevo.blobs import LocalBlobStore
from relevo.clock import SimulatedClock
from relevo.context import Context
from relevo.gateway import purge_expired
from relevo.services import parse_spec
from relevo.services.catalogue import apply_spec
from relevo.store import partitions, upgrade
from relevo.store.engine import create
from relevo.store.migrate import _config

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SERVICE = "licence-prefilter"
YEAR = datetime(2025, 1, 1, tzinfo=timezone.utc)
CHECKED = ("shadow_decisions", "feedback")  # the children whose inserts a trigger checks (migration 0021)


def _store(admin, base: str, home: Path, partitioned: bool, schemas: list[str]) -> Context:
    """A store in a schema of its own (added to schemas): at the newest schema, or at 0020 (before partitions)."""
    schema = f"bench_{'months' if partitioned else 'table'}_{uuid.uuid4().hex[:8]}"
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    schemas.append(schema)
    url = f"{base}?options=-csearch_path%3D{schema}"
    if partitioned:
        upgrade(url)
    else:
        from alembic import command

        engine = create(url)
        with engine.begin() as conn:
            config = _config()
            config.attributes["connection"] = conn
            command.upgrade(config, "0020")
        engine.dispose()
    # Built directly, not by Context.open: the baseline's schema is not the one this code opens.
    return Context(engine=create(url), blobs=LocalBlobStore(home / schema), clock=SimulatedClock(YEAR),
                   actor="benchmark", audit_key=home / f"{schema}.key")


def _fill(ctx: Context, n: int) -> None:
    """n decisions over 2025, a shadow answer for 1 in 16 and a verdict for 1 in 256."""
    apply_spec(ctx, parse_spec({"name": SERVICE, "logging": {"retention": "365d"}}, "spec.yaml"))
    partitions.make_months(ctx.engine, YEAR, ahead=11)
    with ctx.engine.begin() as conn:
        checked = partitions.partitioned(conn)
        for table in CHECKED if checked else ():  # the fill is the benchmark's, not the gateway's
            conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {table}_decision_exists"))
        conn.execute(text("""
            INSERT INTO decisions (id, reference, service, environment, case_pseudonym, served_by, decision,
                                   latency_ms, inputs, created_at)
            SELECT md5(g::text), 'LIC-' || g, :service, 'production', md5('case' || g), 'version', 'admissible',
                   12.5, '{"age_band": "30-44", "district": "north", "documents_complete": 0.8}',
                   timestamp with time zone '2025-01-01 00:00+00' + make_interval(secs => (g - 1) * 31536000.0 / :n)
            FROM generate_series(1, :n) AS g"""), {"service": SERVICE, "n": n})
        conn.execute(text("""
            INSERT INTO shadow_decisions (decision_id, version_id, decision, latency_ms, created_at)
            SELECT id, 1, 'rejected', 3.0, created_at FROM decisions WHERE right(id, 1) = '0'"""))
        conn.execute(text("""
            INSERT INTO feedback (decision_id, outcome, decision, reason, reviewer, at)
            SELECT id, 'corrected', 'rejected', 'checked', 'case-worker', created_at + interval '2 days'
            FROM decisions WHERE right(id, 2) = '00'"""))
        for table in CHECKED if checked else ():
            conn.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER {table}_decision_exists"))
    with ctx.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(
            text("VACUUM ANALYZE decisions, shadow_decisions, feedback"))


def _purge(ctx: Context, months: int):
    """purge_expired on a clock whose cut-off (365 days back) falls where the oldest `months` end; timed."""
    cutoff = partitions.months_from(YEAR, months + 1)[-1].start
    clock = SimulatedClock(cutoff + timedelta(days=365))
    started = time.perf_counter()
    done = purge_expired(replace(ctx, clock=clock), SERVICE)
    return done, time.perf_counter() - started


def main() -> None:
    """Build both stores, purge each once, print the times and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--decisions", type=int, default=2_400_000)
    parser.add_argument("--months", type=int, default=3)
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    args = parser.parse_args()
    admin = create_engine(args.postgres_url)
    home = Path(tempfile.mkdtemp(prefix="relevo-purge-"))
    stores: list[Context] = []
    schemas: list[str] = []
    try:
        for partitioned in (True, False):
            ctx = _store(admin, args.postgres_url, home, partitioned, schemas)
            stores.append(ctx)
            started = time.perf_counter()
            _fill(ctx, args.decisions)
            print(f"{'months' if partitioned else 'one table'}: {args.decisions:,} decisions over 2025 "
                  f"(built in {time.perf_counter() - started:.0f} s)")
        (ours, ours_s), (baseline, baseline_s) = (_purge(ctx, args.months) for ctx in stores)
        assert ours.deleted == baseline.deleted, (ours.deleted, baseline.deleted)
        rows = ", ".join(f"{table} {n:,}" for table, n in ours.deleted.items())
        print(f"purged: {rows}")
        print(f"months dropped (Relevo): {', '.join(m.partition for m in ours.partitions)}")
        print(f"months dropped (Relevo)        {ours_s:8.2f} s")
        print(f"batched delete (before)        {baseline_s:8.2f} s")
        print(f"ratio, before / now            {baseline_s / ours_s:8.1f}x")
        left = args.decisions - baseline.decisions
        stores[1].engine.dispose()
        started = time.perf_counter()
        upgrade(str(stores[1].engine.url.render_as_string(hide_password=False)))
        print(f"migrating the one-table store ({left:,} decisions) into months: {time.perf_counter() - started:.0f} s")
    finally:
        for ctx in stores:
            ctx.engine.dispose()
        with admin.begin() as conn:
            for schema in schemas:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    main()
