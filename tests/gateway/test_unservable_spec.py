"""A service whose spec cannot be served (its fallback entry point does not import) stops only itself."""

from __future__ import annotations

import pytest

from relevo.errors import NotFound
from relevo.services import parse_spec
from relevo.services.catalogue import apply_spec


def test_a_spec_that_cannot_be_served_does_not_take_the_others_out(world):
    ctx, _, gateway = world
    apply_spec(ctx, parse_spec({"name": "broken-service", "inputs": {"x": {"type": "number"}},
                                "decisions": ["yes", "no"], "fallback": {"entrypoint": "no_such_module:decide"}},
                               "a spec"))
    gateway.refresh()  # the poller's refresh: it must not fail for every service
    assert gateway.last_refresh_error is None
    assert "licence-prefilter" in gateway.service_names()
    with pytest.raises(NotFound, match="cannot be served here") as refused:
        gateway.runtime("broken-service")
    assert "no_such_module" not in str(refused.value)  # the details go to the server log only
    assert not [p for p in gateway.readiness() if "routing table" in p]
