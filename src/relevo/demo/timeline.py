"""When the demo's story happens: in the past on a new store, so that nothing is dated after now.

The reference scenario simulates two rollouts over about twelve days. On a store where it has not
run yet, the whole story (registration, the first traffic, the scenario) is told on a clock set
DEMO_SPAN back, so every decision, incident and audit event it records lies before the moment
anyone reads them, and `relevo rollout history`, `relevo audit` and check-plan's "observed over
the last week" read true times. On a store where it already ran, only today's traffic is added,
at today's time.
"""

from __future__ import annotations

from datetime import timedelta

from relevo.clock import Clock, OffsetClock, SystemClock
from relevo.context import Context
from relevo.demo import SERVICE_NAME
from relevo.demo.scenario import ENVIRONMENT, SCENARIO_SPAN
from relevo.errors import RelevoError
from relevo.rollouts import rollout_history
from relevo.settings import Settings
from relevo.store import upgrade

DEMO_SPAN = SCENARIO_SPAN + timedelta(days=1)


def demo_clock(settings: Settings, with_scenario: bool = True) -> Clock:
    """The clock the demo runs on: DEMO_SPAN in the past until its scenario has run on this store."""
    if not with_scenario:
        return SystemClock()
    upgrade(settings.resolved_database_url())  # the demo initialises the store anyway; it must be readable
    try:
        ctx = Context.open(settings)
    except RelevoError:  # no store yet: everything is new
        return OffsetClock(-DEMO_SPAN)
    try:
        ran = bool(rollout_history(ctx, SERVICE_NAME, ENVIRONMENT))
    except RelevoError:  # the service is not declared yet
        ran = False
    finally:
        ctx.close()
    return SystemClock() if ran else OffsetClock(-DEMO_SPAN)
