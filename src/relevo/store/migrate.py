"""Schema migrations with Alembic, run from inside the package (no alembic.ini needed).

Opening a store only checks its revision against the newest this code knows, which every command
and process does: that check reads the revision table and the migration files' names directly
(Alembic's import and its reading of every migration script cost a third of a second per command);
Alembic itself is imported only to migrate. tests/store checks both readings agree.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import DBAPIError, OperationalError

from relevo.errors import StoreUnavailable
from relevo.store import partitions
from relevo.store.engine import create, describe_failure, safe_url

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"


def _config():
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    """The newest schema revision this code knows: revisions are numbered as their files (0020_drills.py)."""
    return max(path.name.split("_", 1)[0] for path in (MIGRATIONS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))


def current_revision(conn: Connection) -> str | None:
    """The schema revision the database carries, or None when it was never initialised."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(url: str) -> tuple[str | None, str]:
    """Create or migrate the schema at url; returns (revision before, revision after)."""
    engine = create(url)
    try:
        with engine.begin() as conn:
            before = current_revision(conn)
            from alembic import command

            config = _config()
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
            after = current_revision(conn)
    except (OperationalError, DBAPIError) as exc:
        raise describe_failure(url, exc) from None
    finally:
        engine.dispose()
    return before, after


def open_store(url: str, now: datetime | None = None) -> Engine:
    """An engine for url after checking the database answers and carries the current schema; on
    PostgreSQL, the decision log's months from now's on are made where missing (relevo.store.partitions)."""
    engine = create(url)
    try:
        with engine.connect() as conn:
            revision = current_revision(conn)
            wanted = partitions.missing(conn, now or datetime.now(timezone.utc)) if revision == head_revision() else []
    except (OperationalError, DBAPIError) as exc:
        engine.dispose()
        raise describe_failure(url, exc) from None
    if revision is None:
        engine.dispose()
        raise StoreUnavailable(
            f"no Relevo store at {safe_url(url)}; run `relevo init` first"
        )
    if revision != head_revision():
        engine.dispose()
        raise StoreUnavailable(
            f"the store at {safe_url(url)} is at schema {revision}, this Relevo needs "
            f"{head_revision()}; run `relevo init` to migrate"
        )
    for month in wanted:
        try:
            partitions.make_month(engine, month)
        except (OperationalError, DBAPIError) as exc:  # e.g. a role that may not create tables: DEFAULT takes the rows
            log.warning("the decision log's partition %s could not be made: %s", month.name, exc.orig or exc)
    return engine
