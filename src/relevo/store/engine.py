"""Opening the database: SQLite in WAL mode by default, PostgreSQL through psycopg 3."""

from __future__ import annotations

import logging
import weakref
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError

from relevo.errors import StoreUnavailable

log = logging.getLogger(__name__)


def safe_url(url: str) -> str:
    """The URL with any password hidden, fit for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


SQLITE_BUSY_TIMEOUT_MS = 10_000  # how long a writer waits for SQLite's write lock


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL lets readers proceed while one writer commits; NORMAL sync is durable in WAL mode
    # against process crashes, and busy_timeout makes writers queue instead of failing.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


# IMMEDIATE takes the write lock at the start, so two writers queue (busy_timeout) instead of
# both reading and then one failing to upgrade its lock half-way through.
SQLITE_BEGIN = "BEGIN IMMEDIATE"


def _sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql(SQLITE_BEGIN)


def create(url: str) -> Engine:
    """An engine for url, configured for Relevo (not yet connected)."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreUnavailable(f"invalid database URL {url!r}: {exc}") from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # hide_parameters: a failing statement's values (a citizen's inputs, a report) never reach a log.
        engine = create_engine(url, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    try:
        return create_engine(url, pool_pre_ping=True, hide_parameters=True, connect_args={"connect_timeout": 5})
    except Exception as exc:  # unknown dialect, missing driver
        raise StoreUnavailable(f"cannot use database URL {safe_url(url)}: {exc}") from None


def describe_failure(url: str, exc: BaseException) -> StoreUnavailable:
    """A StoreUnavailable naming the database and the driver's reason, without secrets."""
    reason = str(getattr(exc, "orig", exc) or exc).strip().splitlines()
    first = reason[0] if reason else type(exc).__name__
    return StoreUnavailable(f"cannot reach the database at {safe_url(url)}: {first}")


# Work a transaction hands on for after its commit (telling people, counting), per open
# transaction: a rolled-back transaction's work is dropped, so nobody is told of a change that
# did not happen.
_AFTER_COMMIT: "weakref.WeakKeyDictionary[Connection, list[Callable[[], object]]]" = weakref.WeakKeyDictionary()


@contextmanager
def connect(engine: Engine) -> Iterator[Connection]:
    """A transaction: everything inside commits together or not at all; then after_commit work runs."""
    pending: list[Callable[[], object]] = []
    try:
        with engine.begin() as conn:
            _AFTER_COMMIT[conn] = pending
            try:
                yield conn
            finally:
                _AFTER_COMMIT.pop(conn, None)
    except (OperationalError, DBAPIError) as exc:
        if isinstance(exc, OperationalError) or getattr(exc, "connection_invalidated", False):
            raise describe_failure(str(engine.url), exc) from exc
        raise
    for work in pending:
        try:
            work()
        except Exception:  # the change is committed: a failing listener must not undo or hide it
            log.exception("work after a commit failed")


def after_commit(conn: Connection, work: Callable[[], object]) -> None:
    """Run work once conn's transaction (opened by connect) has committed; never if it rolls back."""
    pending = _AFTER_COMMIT.get(conn)
    if pending is None:
        raise RuntimeError("after_commit needs a transaction opened by relevo.store.connect")
    pending.append(work)
