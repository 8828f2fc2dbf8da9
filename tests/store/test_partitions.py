"""The decision log by month on PostgreSQL (relevo.store.partitions, migration 0021): an existing
store's decisions moved into their months with everything that refers to them; months made ahead
when a store opens and by several replicas at once; a decision of a month not yet made caught by the
DEFAULT partition and moved into its month when the month is made; the gateway's writes landing in
their month."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
import yaml
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError

from relevo.clock import SimulatedClock
from relevo.context import Context
from relevo.demo import spec_resource
from relevo.demo.traffic import requests
from relevo.gateway import Gateway
from relevo.services import parse_spec
from relevo.services.catalogue import apply_spec
from relevo.store import partitions, upgrade
from relevo.store.engine import create
from relevo.store.migrate import _config
from relevo.store.tables import decisions, feedback, idempotency_keys, manual_reviews, shadow_decisions

POSTGRESQL = pytest.mark.parametrize("database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)],
                                     indirect=True)
UTC = timezone.utc
CHILDREN = (shadow_decisions, feedback, manual_reviews, idempotency_keys)


def _partition_of(conn, decision_id: str) -> str:
    """The table that holds a decision."""
    return conn.execute(text("SELECT tableoid::regclass::text FROM decisions WHERE id = :id"),
                        {"id": decision_id}).scalar_one()


def _migrate(engine, revision: str, down: bool = False) -> None:
    from alembic import command

    with engine.begin() as conn:
        config = _config()
        config.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(config, revision)


def _decision(name: str, at: datetime) -> dict:
    return dict(id=name, reference=f"REF-{name}", service="permits", environment="production", case_pseudonym="c" * 32,
                served_by="rules", decision="granted", latency_ms=1.0, inputs={"n": 1}, created_at=at)


@POSTGRESQL
def test_an_existing_store_moves_into_months_with_what_refers_to_its_decisions(database_url):
    engine = create(database_url)
    _migrate(engine, "0020")  # a store as the release before partitions left it
    made = {"march": datetime(2025, 3, 10, tzinfo=UTC), "march-end": datetime(2025, 3, 31, 23, 59, tzinfo=UTC),
            "april": datetime(2025, 4, 1, tzinfo=UTC), "next-year": datetime(2026, 7, 2, 12, tzinfo=UTC)}
    with engine.begin() as conn:
        for name, at in made.items():
            conn.execute(decisions.insert().values(_decision(name, at)))
        conn.execute(feedback.insert().values(decision_id="march", outcome="confirmed", decision="granted", reason="",
                                              reviewer="case-worker", at=made["april"]))
        conn.execute(shadow_decisions.insert().values(decision_id="april", version_id=1, created_at=made["april"]))
        conn.execute(manual_reviews.insert().values(decision_id="march-end", service="permits", status="open",
                                                    created_at=made["march-end"]))
        conn.execute(idempotency_keys.insert().values(service="permits", key="k", request_sha256="0" * 64,
                                                      decision_id="next-year", created_at=made["next-year"]))
        before = {table.name: sorted(map(tuple, conn.execute(select(table)).all())) for table in (decisions, *CHILDREN)}

    upgrade(database_url)
    with engine.connect() as conn:
        assert partitions.partitioned(conn)
        assert {name: _partition_of(conn, name) for name in made} == {
            "march": "decisions_2025_03", "march-end": "decisions_2025_03", "april": "decisions_2025_04",
            "next-year": "decisions_2026_07"}
        after = {table.name: sorted(map(tuple, conn.execute(select(table)).all())) for table in (decisions, *CHILDREN)}
        assert after == before  # every decision and every row referring to one, as they were
        now = datetime.now(UTC)
        assert {month.name for month in partitions.months_from(now, partitions.MONTHS_AHEAD + 1)} | {
            partitions.DEFAULT} <= set(partitions.attached(conn))
        assert inspect(conn).get_pk_constraint("decisions")["constrained_columns"] == ["id", "created_at"]
        assert inspect(conn).get_foreign_keys("feedback") == []  # a trigger stands in for it
    with pytest.raises(IntegrityError, match="no decision nowhere"), engine.begin() as conn:
        conn.execute(feedback.insert().values(decision_id="nowhere", outcome="confirmed", decision="granted",
                                              reason="", reviewer="case-worker", at=now))

    # Back to one table: every row kept, the foreign keys as they were.
    _migrate(engine, "0020", down=True)
    with engine.connect() as conn:
        assert not partitions.partitioned(conn)
        assert {table.name: sorted(map(tuple, conn.execute(select(table)).all()))
                for table in (decisions, *CHILDREN)} == before
        assert [fk["referred_table"] for fk in inspect(conn).get_foreign_keys("feedback")] == ["decisions"]
    engine.dispose()


@POSTGRESQL
def test_months_are_made_ahead_and_a_decision_that_came_early_moves_into_its_month(ctx, settings):
    # Two years on: no month made yet (the store made the current one and three more when it opened).
    later = partitions.month_of(datetime.now(UTC) + timedelta(days=730))
    apply_spec(ctx, parse_spec(yaml.safe_load(spec_resource().read_text()), "spec.yaml"))
    cases = iter(requests(6, 3))
    early = replace(ctx, clock=SimulatedClock(later.start + timedelta(days=9)))  # a replica's clock far off
    gateway = Gateway(early, "production", pseudonym_key=b"k" * 32)
    try:
        caught = gateway.decide("licence-prefilter", *next(cases), idempotency_key="early-1")
        with ctx.engine.connect() as conn:
            assert _partition_of(conn, caught.id) == partitions.DEFAULT  # the write did not fail

        # Replicas making the same months at once: each month made once, nobody fails.
        barrier, made, failures = threading.Barrier(4), [], []

        def replica() -> None:
            barrier.wait()
            try:
                made.extend(partitions.make_months(ctx.engine, later.start))
            except Exception as exc:  # noqa: BLE001 (the test reports any)
                failures.append(exc)

        threads = [threading.Thread(target=replica) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        months = partitions.months_from(later.start, partitions.MONTHS_AHEAD + 1)
        assert failures == [] and sorted(made) == [month.name for month in months]
        with ctx.engine.connect() as conn:
            assert _partition_of(conn, caught.id) == later.name  # moved out of DEFAULT, its key still with it
            assert conn.execute(text(f"SELECT count(*) FROM {partitions.DEFAULT}")).scalar() == 0
            assert conn.execute(select(idempotency_keys.c.decision_id)).scalars().all() == [caught.id]

        # The gateway's next decisions land in their month.
        written = [gateway.decide("licence-prefilter", *next(cases)) for _ in range(3)]
        with ctx.engine.connect() as conn:
            assert {_partition_of(conn, d.id) for d in written} == {later.name}
    finally:
        gateway.close()

    # Opening the store makes its clock's month and the next ones.
    opened = Context.open(settings, clock=SimulatedClock(months[-1].end + timedelta(days=40)))
    try:
        with opened.engine.connect() as conn:
            assert set(partitions.attached(conn)) >= {
                month.name for month in partitions.months_from(months[-1].end + timedelta(days=40), 4)}
    finally:
        opened.close()
