"""The decision log by month on PostgreSQL: `decisions` is partitioned by RANGE (created_at), one
partition a month (decisions_2026_12) and a DEFAULT one (decisions_default) that takes a row no month
holds (a clock far off), so a write never fails for want of a partition. SQLite has no partitions:
everything here does nothing there.

Months are made ahead (the current one and MONTHS_AHEAD more) when a store is opened and daily by
`relevo serve`, so writes never depend on the DEFAULT partition. A month is made as a table of its
own and then attached: attaching locks the parent only against other schema changes (CREATE TABLE
... PARTITION OF would lock it against every read and write), and rows of that month already in the
DEFAULT partition move into it in the same transaction (PostgreSQL refuses the month otherwise).
Several replicas may make the same month at once: the one that comes second finds it made.

The retention purge drops whole months past every service's retention (relevo.gateway.retention):
a month is detached (renamed `..._expired`, so an interrupted drop is finished by the next purge),
then what refers to its decisions is deleted and the table dropped, in one transaction of its own.
Two purges may meet on one month (the schedule's and an operator's): the one that comes second to
detach it leaves it to the first, and a detached month is dropped by one purge at a time, the
other finding it gone. Every statement that needs the parent's lock waits at most LOCK_TIMEOUT:
a long read holding the table makes it give up for this time rather than queue the gateway's
writes behind it.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from datetime import date, datetime, timezone

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)
MONTHS_AHEAD = 3  # months made beyond the current one: a quarter without a running replica
DEFAULT = "decisions_default"
LOCK_TIMEOUT = "2s"  # below the decision log's 5 s commit deadline
EXPIRED = "_expired"  # suffix of a month detached by a purge and not yet dropped
_MONTH = re.compile(r"^decisions_(\d{4})_(\d{2})$")
_GONE = re.compile(r"^decisions_(\d{4})_(\d{2})" + EXPIRED + "$")
_DUPLICATE = {"42P07", "23505"}  # duplicate table; the catalog's unique index, when both created at once
_LOCK_NOT_AVAILABLE = "55P03"
_UNDEFINED_TABLE = "42P01"  # no such table, or no longer a partition
_DROPPING = 0x5245_4C56  # advisory lock class of a month being dropped ("RELV")


@dataclass(frozen=True)
class Month:
    """One month's partition of the decision log: its name and [start, end) in UTC."""

    name: str
    start: datetime
    end: datetime

    @property
    def label(self) -> str:
        """The month as people write it: 2026-12."""
        return f"{self.start:%Y-%m}"


def month_of(at: date | datetime) -> Month:
    """The partition that holds decisions made at `at`."""
    first = date(at.year, at.month, 1)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return Month(f"decisions_{first:%Y_%m}", datetime(first.year, first.month, 1, tzinfo=timezone.utc),
                 datetime(following.year, following.month, 1, tzinfo=timezone.utc))


def months_from(at: datetime, count: int) -> list[Month]:
    """at's month and the count - 1 after it."""
    months = [month_of(at)]
    while len(months) < count:
        months.append(month_of(months[-1].end))
    return months


def partitioned(conn: Connection) -> bool:
    """True when the store's decision log is partitioned (PostgreSQL after migration 0021)."""
    if conn.dialect.name != "postgresql":
        return False
    return conn.execute(text("SELECT relkind FROM pg_class WHERE oid = to_regclass('decisions')")).scalar() == "p"


def attached(conn: Connection) -> list[str]:
    """The names of the decision log's partitions, DEFAULT included."""
    return list(conn.execute(text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = to_regclass('decisions') ORDER BY c.relname")).scalars())


def months(conn: Connection) -> list[Month]:
    """The decision log's month partitions, oldest first (none on SQLite)."""
    if not partitioned(conn):
        return []
    return [month_of(date(int(m[1]), int(m[2]), 1)) for name in attached(conn) if (m := _MONTH.match(name))]


def expired(conn: Connection) -> list[Month]:
    """Months a purge detached and did not get to drop (it stopped between the two)."""
    if not partitioned(conn):
        return []
    names = conn.execute(text(
        "SELECT relname FROM pg_class WHERE relkind = 'r' AND relnamespace = "
        "(SELECT relnamespace FROM pg_class WHERE oid = to_regclass('decisions'))")).scalars()
    found = []
    for name in names:
        if m := _GONE.match(name):
            month = month_of(date(int(m[1]), int(m[2]), 1))
            found.append(Month(month.name + EXPIRED, month.start, month.end))
    return sorted(found, key=lambda month: month.start)


def missing(conn: Connection, now: datetime, ahead: int = MONTHS_AHEAD) -> list[Month]:
    """Of now's month and the `ahead` after it, those without a partition (none on SQLite)."""
    if not partitioned(conn):
        return []
    have = set(attached(conn))
    return [month for month in months_from(now, ahead + 1) if month.name not in have]


def bounds(month: Month) -> str:
    """The partition bound of a month, as ATTACH and CREATE TABLE ... PARTITION OF take it."""
    return f"FROM ('{month.start.isoformat()}') TO ('{month.end.isoformat()}')"


def _sqlstate(exc: DBAPIError) -> str | None:
    return getattr(exc.orig, "sqlstate", None)


def make_month(engine: Engine, month: Month) -> bool:
    """Attach month's partition, moving its rows out of DEFAULT; False when another replica made it
    first or the table was too busy (a later call tries again)."""
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
            # Taken first, so replicas making months queue here, and no write lands in DEFAULT
            # between the move and the attach (which checks DEFAULT holds none of the month).
            default = conn.execute(text("SELECT to_regclass(:name) IS NOT NULL"), {"name": DEFAULT}).scalar()
            if default:
                conn.exec_driver_sql(f"LOCK TABLE {DEFAULT} IN ACCESS EXCLUSIVE MODE")
            if month.name in attached(conn):
                return False
            conn.exec_driver_sql(f"CREATE TABLE {month.name} (LIKE decisions INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
            if default:
                moved = conn.execute(text(
                    f"WITH moved AS (DELETE FROM {DEFAULT} WHERE created_at >= :start AND created_at < :end "
                    f"RETURNING *) INSERT INTO {month.name} SELECT * FROM moved"),
                    {"start": month.start, "end": month.end}).rowcount
                if moved:
                    log.warning("%d decisions of %s had landed in %s; moved into %s", moved, month.label, DEFAULT,
                                month.name)
            conn.exec_driver_sql(f"ALTER TABLE decisions ATTACH PARTITION {month.name} FOR VALUES {bounds(month)}")
        log.info("made the decision log's partition %s", month.name)
        return True
    except DBAPIError as exc:
        state = _sqlstate(exc)
        if state in _DUPLICATE:  # made at the same moment by another replica
            return False
        if state == _LOCK_NOT_AVAILABLE:
            log.warning("the decision log's partition %s was not made: the table was busy; the next try makes it",
                        month.name)
            return False
        raise


def make_months(engine: Engine, now: datetime, ahead: int = MONTHS_AHEAD) -> list[str]:
    """Make now's month and the `ahead` after it where missing (PostgreSQL); the names made."""
    if engine.dialect.name != "postgresql":
        return []
    with engine.connect() as conn:
        wanted = missing(conn, now, ahead)
    return [month.name for month in wanted if make_month(engine, month)]


def claim(conn: Connection, month: Month) -> bool:
    """Hold a detached month for this transaction against other purges (another one waits here until
    this one commits); False when another purge dropped it meanwhile."""
    conn.execute(text("SELECT pg_advisory_xact_lock(CAST(:purges AS integer), hashtext(:name))"),
                 {"purges": _DROPPING, "name": month.name})
    return bool(conn.execute(text("SELECT to_regclass(:name) IS NOT NULL"), {"name": month.name}).scalar())


def detach(engine: Engine, month: Month, tries: int = 3, pause: float = 1.0) -> Month | None:
    """Take month out of the decision log and mark it expired (see the module); None when the table
    stayed busy past LOCK_TIMEOUT on each of `tries` (the caller then deletes its rows in batches),
    or another purge detached it first (and drops it)."""
    gone = Month(month.name + EXPIRED, month.start, month.end)
    for attempt in range(1, tries + 1):
        try:
            with engine.begin() as conn:
                conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
                conn.exec_driver_sql(f"ALTER TABLE decisions DETACH PARTITION {month.name}")
                conn.exec_driver_sql(f"ALTER TABLE {month.name} RENAME TO {gone.name}")
            return gone
        except DBAPIError as exc:
            if _sqlstate(exc) == _UNDEFINED_TABLE:  # another purge took it at the same moment
                log.info("the decision log's partition %s was detached by another purge", month.name)
                return None
            if _sqlstate(exc) != _LOCK_NOT_AVAILABLE:
                raise
            log.warning("the decision log's partition %s could not be detached (try %d of %d): the table was busy",
                        month.name, attempt, tries)
        if attempt < tries:
            time.sleep(pause)
    return None
