"""The monitors' schedule inside `relevo serve`: every service routed in the gateway's environment gets
a pass each `monitoring.every`, by one replica at a time (the holder of the monitors' lease in the
store, as the rollout controller's); the others stand by and take over when it falls silent.

A pass is cheap when nothing is due: a completed period is monitored once (its run is stored), so a
new leader, a restart or a person's `relevo monitor run` never repeats one. Each tick also sends the
reminders of incidents' regulatory clocks that fell due (relevo.rollouts.incident_clocks), of
vendors' contracts due for renewal (relevo.governance.vendors), and of overdue drills (relevo.drills.schedule).

Once a day the leading replica also makes the decision log's partitions for this month and the next
ones where missing (PostgreSQL: relevo.store.partitions), and purges every declared service's
decisions past their retention (relevo.gateway.retention).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from relevo.clock import parse_duration
from relevo.context import Context
from relevo.drills import remind_overdue_drills
from relevo.gateway.retention import Purge, purge_expired
from relevo.governance import remind_notices, remind_renewals
from relevo.monitoring.run import MONITOR, Monitored, monitor_pass
from relevo.rollouts import remind_incident_clocks
from relevo.rollouts.leadership import Lease
from relevo.routing.table import route_revisions
from relevo.services.catalogue import get_spec, spec_digests
from relevo.store import connect, partitions

log = logging.getLogger(__name__)
LEASE = "monitoring"  # one lease per environment: monitoring/production, monitoring/staging
SHORTEST = timedelta(seconds=10)  # passes never come closer than this, whatever a spec says
PURGE_EVERY = timedelta(days=1)  # decisions past retention are purged this often (and at start)


class MonitorSchedule:
    """Runs each routed service's monitoring pass when its `every` has passed, while holding the lease."""

    def __init__(self, ctx: Context, environment: str, tick: float = 10.0, lease: Lease | None = None) -> None:
        self.ctx = ctx.acting_as(MONITOR)
        self.environment = environment
        self.tick = tick
        # Per environment: a staging gateway on the same store must not keep production unmonitored.
        self.lease = lease or Lease(ctx, ttl=timedelta(seconds=max(3 * tick, 30)), name=f"{LEASE}/{environment}")
        self._last: dict[str, datetime] = {}
        self._purged_at: datetime | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="relevo-monitors", daemon=True)

    def start(self) -> "MonitorSchedule":
        """Start ticking."""
        self._thread.start()
        return self

    def step(self) -> list[Monitored] | None:
        """One tick: the passes that were due (None when another replica leads)."""
        if not self.lease.acquire():
            return None
        try:  # incidents' regulatory clocks: each reminder stage told once, by the one leading replica
            remind_incident_clocks(self.ctx)
        except Exception:  # must not stop the monitors
            log.exception("reminding of incidents' regulatory clocks failed")
        try:  # vendors' contracts due for renewal: told once per renewal date
            remind_renewals(self.ctx)
            remind_notices(self.ctx)  # deployments planned within a day: their informed reminded once
        except Exception:  # must not stop the monitors
            log.exception("reminding of vendors' renewals or planned deployments failed")
        try:  # drills overdue: told once per due date
            remind_overdue_drills(self.ctx)
        except Exception:  # must not stop the monitors
            log.exception("reminding of overdue drills failed")
        now = self.ctx.clock.now()
        with connect(self.ctx.engine) as conn:
            services = sorted(route_revisions(conn, self.environment))
            specs = {name: get_spec(conn, name) for name in services}
        done: list[Monitored] = []
        for name, spec in specs.items():
            every = max(parse_duration(spec.monitoring.every), SHORTEST)
            if not spec.decides or (name in self._last and now - self._last[name] < every):
                continue
            self._last[name] = now
            try:
                done += monitor_pass(self.ctx, name, self.environment, leading=self.lease.acquire)
            except Exception:  # one service's failure must not stop the others being monitored
                log.exception("monitoring %s in %s failed", name, self.environment)
        if self._purged_at is None or now - self._purged_at >= PURGE_EVERY:
            self._purged_at = now
            self.make_months()
            self.purge()
        return done

    def make_months(self) -> list[str]:
        """The decision log's partitions of this month and the next ones, made where missing (PostgreSQL)."""
        try:
            return partitions.make_months(self.ctx.engine, self.ctx.clock.now())
        except Exception:  # writes then land in the DEFAULT partition until the next day's try
            log.exception("making the decision log's coming months failed")
            return []

    def purge(self) -> list[Purge]:
        """Every declared service's decisions past its retention, purged (relevo.gateway.retention)."""
        with connect(self.ctx.engine) as conn:
            names = sorted(spec_digests(conn))
        done = []
        for name in names:
            try:
                done.append(purge_expired(self.ctx, name, leading=self.lease.acquire))
            except Exception:  # one service's failure must not keep the others' decisions past retention
                log.exception("purging %s's decisions past retention failed", name)
        return done

    def _run(self) -> None:
        while True:  # a first pass at once: what came due while no replica ran is monitored now
            try:
                self.step()
            except Exception as exc:  # the store may be away for a while; try again next tick
                log.warning("monitoring tick failed: %s", exc)
            if self._stop.wait(self.tick):
                return

    def close(self) -> None:
        """Stop ticking and hand the lease over."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self.tick + 30)
        try:
            self.lease.release()
        except Exception as exc:  # the lease then simply expires
            log.warning("could not release the monitors' lease: %s", exc)
