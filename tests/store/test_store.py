"""The store on both engines: migrations, clear errors for missing or unreachable databases."""

from __future__ import annotations

import socket

import pytest
from sqlalchemy import inspect

from relevo.errors import StoreUnavailable
from relevo.store import open_store, partitions, upgrade
from relevo.store.migrate import head_revision
from relevo.store.tables import metadata


def test_upgrade_creates_every_table_and_is_idempotent(database_url):
    before, after = upgrade(database_url)
    assert before is None and after == head_revision()
    assert upgrade(database_url) == (after, after)
    engine = open_store(database_url)
    assert set(metadata.tables) <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_the_revisions_read_without_alembic_are_alembics(database_url):
    """Opening a store reads the revision table and the files' names; Alembic's own reading agrees."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from relevo.store.migrate import MIGRATIONS, current_revision

    assert head_revision() == ScriptDirectory(str(MIGRATIONS)).get_current_head()
    upgrade(database_url)
    engine = open_store(database_url)
    with engine.connect() as conn:
        assert current_revision(conn) == MigrationContext.configure(conn).get_current_revision() == head_revision()
    engine.dispose()


# On PostgreSQL the decision log is partitioned by month (migration 0021): its reference is unique
# with its created_at, and the four foreign keys to it are triggers; its months are tables of their own.
POSTGRESQL_ONLY = sorted([("remove_constraint", "uq_decisions_reference"), ("add_constraint", "uq_decisions_reference"),
                          *(("add_fk", f"fk_{child}_decision_id_decisions") for child in
                            ("feedback", "idempotency_keys", "manual_reviews", "shadow_decisions"))])


def test_migrated_schema_matches_the_table_definitions(database_url):
    """The hand-checked migration must build exactly what tables.py declares (on PostgreSQL, but
    for the partitioned decision log's differences, each named)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    upgrade(database_url)
    engine = open_store(database_url)
    with engine.connect() as conn:
        months = set(partitions.attached(conn)) if partitions.partitioned(conn) else set()
        context = MigrationContext.configure(conn, opts={
            "include_name": lambda name, kind, parents: not (kind == "table" and name in months)})
        diff = compare_metadata(context, metadata)
    engine.dispose()
    named = sorted((change[0], getattr(change[1], "name", "")) if isinstance(change, tuple) else ("modify", str(change))
                   for change in diff)
    assert named == (POSTGRESQL_ONLY if engine.dialect.name == "postgresql" else []), diff
    if engine.dialect.name == "postgresql":
        unique = next(change[1] for change in diff if change[0] == "remove_constraint")
        assert [column.name for column in unique.columns] == ["reference", "created_at"]


def test_uninitialised_store_says_to_run_init(database_url):
    with pytest.raises(StoreUnavailable, match="relevo init"):
        open_store(database_url)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_postgres_names_the_database_without_password():
    url = f"postgresql+psycopg://relevo:s3cret@127.0.0.1:{_closed_port()}/relevo"
    with pytest.raises(StoreUnavailable) as err:
        open_store(url)
    message = str(err.value)
    assert "cannot reach the database" in message and "127.0.0.1" in message
    assert "s3cret" not in message


def test_invalid_url_is_named():
    with pytest.raises(StoreUnavailable, match="invalid database URL"):
        open_store("not a url")


@pytest.mark.parametrize("zone", ["UTC", "America/St_Johns"])
def test_moments_read_as_microseconds_are_exact_on_both_engines(database_url, zone):
    """The judge reads decision times as microseconds since 1970: exact to the microsecond, the
    last microsecond of a second not rounded up, whatever the session's time zone."""
    from datetime import datetime, timedelta, timezone

    from sqlalchemy import Column, Integer, MetaData, Table, create_engine, select

    from relevo.store.types import UTCDateTime, epoch_microseconds

    moments = [datetime(2026, 5, 30, 8, 0, 0, 123456, tzinfo=timezone.utc),
               datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc),
               datetime(2026, 3, 29, 1, 30, 0, 1, tzinfo=timezone(timedelta(hours=2))),
               datetime(2026, 1, 1, tzinfo=timezone.utc)]
    table = Table("moments", MetaData(), Column("id", Integer, primary_key=True), Column("at", UTCDateTime))
    engine = create_engine(database_url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SET TIME ZONE '{zone}'")
        table.create(conn)
        conn.execute(table.insert(), [{"at": at} for at in moments])
        read = conn.execute(select(epoch_microseconds(table.c.at)).order_by(table.c.id)).scalars().all()
    engine.dispose()
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    assert read == [(at - epoch) // timedelta(microseconds=1) for at in moments]
