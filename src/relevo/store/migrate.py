"""Schema migrations with Alembic, run from inside the package (no alembic.ini needed)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from relevo.errors import StoreUnavailable
from relevo.store.engine import create, describe_failure, safe_url

MIGRATIONS = Path(__file__).parent / "migrations"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    """The newest schema revision this code knows."""
    return ScriptDirectory.from_config(_config()).get_current_head()


def current_revision(conn: Connection) -> str | None:
    """The schema revision the database carries, or None when it was never initialised."""
    return MigrationContext.configure(conn).get_current_revision()


def upgrade(url: str) -> tuple[str | None, str]:
    """Create or migrate the schema at url; returns (revision before, revision after)."""
    engine = create(url)
    try:
        with engine.begin() as conn:
            before = current_revision(conn)
            config = _config()
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
            after = current_revision(conn)
    except (OperationalError, DBAPIError) as exc:
        raise describe_failure(url, exc) from None
    finally:
        engine.dispose()
    return before, after


def open_store(url: str) -> Engine:
    """An engine for url after checking the database answers and carries the current schema."""
    engine = create(url)
    try:
        with engine.connect() as conn:
            revision = current_revision(conn)
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
    return engine
