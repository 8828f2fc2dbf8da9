"""Telling gateways that a route or a spec changed, so they apply it before their next poll.

Gateways poll the route revisions every fraction of a second (every engine). On PostgreSQL a
change also sends a NOTIFY on one channel inside its transaction (delivered at commit, never
for a rolled-back change), and each gateway LISTENs on its own connection: it refreshes at once
and the poll stays as the safety net for a lost connection, less often while it listens. SQLite
has no such channel; there the wait is the poll interval.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy import Connection, Engine, text

log = logging.getLogger(__name__)
CHANNEL = "relevo_routes"


def announce(conn: Connection, subject: str) -> None:
    """Tell listening gateways, at commit, that subject (service/environment) changed."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_notify(:channel, :subject)"), {"channel": CHANNEL, "subject": subject})


class ChangeWaiter:
    """Waits up to a timeout, returning early when a change is announced (PostgreSQL only)."""

    def __init__(self, engine: Engine) -> None:
        self._url = None
        if engine.dialect.name == "postgresql":
            # libpq takes the URL without SQLAlchemy's driver suffix.
            self._url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._conn = None

    @property
    def listening(self) -> bool:
        """Whether announcements are being received (a LISTEN connection is up)."""
        return self._conn is not None

    def wait(self, timeout: float) -> bool:
        """True if a change was announced within timeout seconds; False when the time ran out."""
        if self._url is None:
            time.sleep(timeout)
            return False
        try:
            conn = self._listening()
            for _ in conn.notifies(timeout=timeout, stop_after=1):
                return True
            return False
        except Exception as exc:  # the store may be away: fall back to polling, reconnect later
            log.warning("route change notifications unavailable (%s); polling", exc)
            self.close()
            time.sleep(timeout)
            return False

    def _listening(self):
        if self._conn is None:
            import psycopg

            self._conn = psycopg.connect(self._url, autocommit=True, connect_timeout=5)
            self._conn.execute(f"LISTEN {CHANNEL}")
        return self._conn

    def close(self) -> None:
        """Drop the listening connection."""
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # already broken
                pass
            self._conn = None
