"""The demo service with v1 stable in production: where rollouts start from."""

from __future__ import annotations

import pytest

from datetime import datetime, timezone

from relevo.clock import SimulatedClock
from relevo.context import Context
from relevo.gateway.gateway import Gateway


@pytest.fixture
def demo(demo_settings):
    """A context on the demo store (v1, v2, v3 registered), v1 routed as stable in production."""
    ctx = Context.open(demo_settings)
    yield ctx
    ctx.close()


@pytest.fixture
def world(demo_settings):
    """(context on a simulated clock, the clock, a started gateway) over the demo store, v1 stable."""
    clock = SimulatedClock(datetime(2026, 5, 4, 8, tzinfo=timezone.utc))
    ctx = Context.open(demo_settings, clock=clock)
    gateway = Gateway(ctx, "production", pseudonym_key=b"k" * 32).start()
    yield ctx, clock, gateway
    gateway.close()
    ctx.close()
