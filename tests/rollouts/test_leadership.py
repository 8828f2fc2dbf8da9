"""One controller leads at a time, on both engines; a silent leader is replaced after its lease, which it
renews while it judges."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from relevo.clock import SimulatedClock
from relevo.context import Context
from relevo.rollouts.controller import Controller, tick
from relevo.rollouts.leadership import Lease
from relevo.store import connect
from relevo.store.migrate import upgrade
from relevo.settings import Settings
from relevo.store.tables import audit_events
from tests.conftest import start_cleared

TTL = timedelta(seconds=15)


def test_one_leader_and_a_takeover_after_silence(settings):
    upgrade(settings.resolved_database_url())
    clock = SimulatedClock()
    ctx = Context.open(settings, clock=clock)
    try:
        first, second = Lease(ctx, TTL, holder="replica-a"), Lease(ctx, TTL, holder="replica-b")
        assert first.acquire() and not second.acquire()
        clock.advance(timedelta(seconds=10))
        assert first.acquire()  # renewed: the lease now runs to t=25 s
        clock.advance(timedelta(seconds=10))
        assert not second.acquire()  # t=20 s: still first's
        clock.advance(timedelta(seconds=6))
        assert second.acquire() and not first.acquire()  # first silent for 16 s > 15 s
        assert second.current()[0] == "replica-b"
        second.release()
        assert first.acquire()  # a clean stop hands over at once
        with connect(ctx.engine) as conn:
            changes = conn.execute(select(audit_events.c.details).where(audit_events.c.action == "controller.leader")
                                   .order_by(audit_events.c.id)).scalars().all()
        assert [(c["holder"], c["previous"]) for c in changes] == [
            ("replica-a", None), ("replica-b", "replica-a"), ("replica-a", None)]
    finally:
        ctx.close()


def test_concurrent_controllers_elect_exactly_one(settings):
    upgrade(settings.resolved_database_url())
    contexts = [Context.open(settings) for _ in range(6)]
    leases = [Lease(c, TTL, holder=f"replica-{i}") for i, c in enumerate(contexts)]
    results: list[bool] = [False] * len(leases)
    barrier = threading.Barrier(len(leases))

    def run(i: int) -> None:
        barrier.wait()
        results[i] = leases[i].acquire()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(leases))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert sum(results) == 1
        leader = leases[results.index(True)]
        assert leader.current()[0] == leader.holder
        # A standing-by controller does not reconcile anything.
        standby = Controller(contexts[results.index(False)], interval=5)
        assert standby.step() is None
        assert Controller(contexts[0], interval=5, lease=leader).step() == []
    finally:
        for c in contexts:
            c.close()


def test_the_lease_lasts_as_set_and_at_least_two_ticks(ctx):
    short = replace(ctx, controller_lease=timedelta(seconds=3))
    assert Controller(short, interval=0.5).lease.ttl == timedelta(seconds=3)
    assert Controller(short, interval=5).lease.ttl == timedelta(seconds=10)  # a missed tick is not a death
    assert Controller(ctx, interval=2).lease.ttl == timedelta(seconds=10)  # the default
    with pytest.raises(ValidationError, match="a lease of '0s' would lapse at once"):
        Settings(controller_lease="0s")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the loop, not the engine
def test_a_tick_judges_a_rollout_only_while_the_lease_is_renewed(demo):
    rollout = start_cleared(demo, "licence-prefilter", "v2", plan="canary-only")
    asked = []
    assert tick(demo, leading=lambda: asked.append(1) or False) == [] and asked == [1]
    assert [r.id for r in tick(demo, leading=lambda: True)] == [rollout.id]
