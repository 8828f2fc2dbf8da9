"""The circuit breaker's state machine on a simulated clock."""

from datetime import timedelta

from relevo.clock import SimulatedClock
from relevo.gateway.circuit import CLOSED, HALF_OPEN, OPEN, CircuitBreaker
from relevo.services.spec import CircuitBreaker as Settings


def _breaker(**kw):
    clock = SimulatedClock()
    settings = Settings(**({"window": 10, "min_calls": 5, "error_share": 0.5, "open_seconds": 30,
                            "half_open_probes": 2} | kw))
    return CircuitBreaker(settings, clock), clock


def test_opens_at_the_error_share_and_not_before_min_calls():
    breaker, _ = _breaker()
    for _ in range(4):
        assert breaker.allow()
        breaker.record(False)
    assert breaker.state == CLOSED  # 4 failures, but fewer than min_calls known
    breaker.allow()
    breaker.record(False)
    assert breaker.state == OPEN and not breaker.allow()


def test_share_is_over_the_window_only():
    breaker, _ = _breaker()
    # 4 of 10 fail, then 10 successes push those failures out of the window, then 4 more
    # failures: 4 of the last 10 again, so still closed; one more makes it 5 of 10.
    for ok in [True] * 6 + [False] * 4 + [True] * 10 + [False] * 4:
        breaker.allow()
        breaker.record(ok)
    assert breaker.state == CLOSED
    breaker.allow()
    breaker.record(False)
    assert breaker.state == OPEN


def test_half_open_probes_close_or_reopen():
    breaker, clock = _breaker()
    for _ in range(5):
        breaker.allow()
        breaker.record(False)
    clock.advance(timedelta(seconds=29))
    assert not breaker.allow()
    clock.advance(timedelta(seconds=2))
    assert breaker.allow() and breaker.state == HALF_OPEN
    assert breaker.allow()
    assert not breaker.allow()  # only two probes in flight
    breaker.record(True)
    breaker.record(True)
    assert breaker.state == CLOSED and breaker.allow()

    for _ in range(5):
        breaker.allow()
        breaker.record(False)
    clock.advance(timedelta(seconds=31))
    assert breaker.allow()
    breaker.record(False)
    assert breaker.state == OPEN and not breaker.allow()
