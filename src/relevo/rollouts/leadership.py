"""Leadership among controllers: a lease row in the store, renewed by the one that holds it.

Every `relevo serve` replica runs a controller. Judging a rollout in each of them would repeat
the work (and the verdict rows) and race on every transition, so only the holder of an
unexpired lease reconciles; the others try again on each tick and take over once the holder
has been silent for the lease's length (it stopped, or lost the store). Changes of leader are
audited; renewals are not.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from relevo.audit import record_change
from relevo.context import Context
from relevo.store import connect
from relevo.store.tables import controller_leases

ROLLOUTS = "rollouts"


def holder_name() -> str:
    """A name for this process that no other process shares: host, pid and a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Lease:
    """The right to act as the rollout controller, held for ttl at a time."""

    def __init__(self, ctx: Context, ttl: timedelta, holder: str | None = None, name: str = ROLLOUTS) -> None:
        self.ctx = ctx
        self.ttl = ttl
        self.holder = holder or holder_name()
        self.name = name

    def acquire(self) -> bool:
        """Take or renew the lease; False while another holder's lease is unexpired."""
        now = self.ctx.clock.now()
        try:
            with connect(self.ctx.engine) as conn:
                row = conn.execute(select(controller_leases).where(controller_leases.c.name == self.name)
                                   .with_for_update()).first()
                if row is None:
                    conn.execute(controller_leases.insert().values(
                        name=self.name, holder=self.holder, acquired_at=now, expires_at=now + self.ttl))
                elif row.holder == self.holder:
                    conn.execute(controller_leases.update().where(controller_leases.c.name == self.name)
                                 .values(expires_at=now + self.ttl))
                    return True
                elif row.expires_at > now:
                    return False
                else:
                    conn.execute(controller_leases.update().where(controller_leases.c.name == self.name)
                                 .values(holder=self.holder, acquired_at=now, expires_at=now + self.ttl))
                record_change(conn, self.ctx, at=now, action="controller.leader", subject=self.name,
                             details={"holder": self.holder, "previous": row.holder if row else None,
                                      "expires_at": (now + self.ttl).isoformat()})
                return True
        except IntegrityError:  # another controller created the lease at the same moment
            return False

    def release(self) -> None:
        """Give the lease up (on a clean stop), so another controller takes over at once."""
        with connect(self.ctx.engine) as conn:
            conn.execute(controller_leases.delete().where(controller_leases.c.name == self.name,
                                                          controller_leases.c.holder == self.holder))

    def current(self) -> tuple[str, str] | None:
        """(holder, expiry) of the lease as stored, or None."""
        with connect(self.ctx.engine) as conn:
            row = conn.execute(select(controller_leases).where(controller_leases.c.name == self.name)).first()
        return None if row is None else (row.holder, row.expires_at.isoformat())
