"""The demo service with v1 stable in production: where rollouts start from."""

from __future__ import annotations

import pytest

from relevo.context import Context


@pytest.fixture
def demo(demo_settings):
    """A context on the demo store (v1, v2, v3 registered), v1 routed as stable in production."""
    ctx = Context.open(demo_settings)
    yield ctx
    ctx.close()

