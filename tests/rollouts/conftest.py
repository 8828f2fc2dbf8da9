"""The demo service with v1 stable in production: where rollouts start from."""

from __future__ import annotations

import pytest

from relevo.context import Context
from relevo.demo import SERVICE_NAME
from relevo.demo.setup import set_up_demo
from relevo.routing.table import set_route


@pytest.fixture
def demo(settings):
    """A context on the demo store (v1, v2, v3 registered), v1 routed as stable in production."""
    set_up_demo(settings)
    ctx = Context.open(settings)
    set_route(ctx, SERVICE_NAME, "production", stable="v1")
    yield ctx
    ctx.close()
