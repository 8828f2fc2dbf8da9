"""A circuit breaker per version: stop calling a failing model, probe it again later.

closed: calls go through; when at least `min_calls` of the last `window` calls are known and
the failing share reaches `error_share`, the circuit opens. open: calls are refused for
`open_seconds`. half-open: up to `half_open_probes` calls go through; if they all succeed the
circuit closes, and any failure opens it again.
"""

from __future__ import annotations

import threading
from collections import deque

from relevo.clock import Clock
from relevo.services.spec import CircuitBreaker as Settings

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"
STATE_VALUE = {CLOSED: 0, HALF_OPEN: 1, OPEN: 2}


class CircuitBreaker:
    """Thread-safe breaker for one version."""

    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.state = CLOSED
        self._outcomes: deque[bool] = deque(maxlen=settings.window)
        self._failures = 0
        self._opened_at = None
        self._probes_left = 0
        self._probe_successes = 0
        self._lock = threading.Lock()

    def allow(self) -> bool:
        """May a call go to the model now?"""
        with self._lock:
            if self.state == OPEN:
                elapsed = (self.clock.now() - self._opened_at).total_seconds()
                if elapsed < self.settings.open_seconds:
                    return False
                self.state = HALF_OPEN
                self._probes_left = self.settings.half_open_probes
                self._probe_successes = 0
            if self.state == HALF_OPEN:
                if self._probes_left <= 0:
                    return False
                self._probes_left -= 1
            return True

    def record(self, success: bool) -> None:
        """Report how an allowed call went."""
        with self._lock:
            if self.state == HALF_OPEN:
                if not success:
                    self._open()
                    return
                self._probe_successes += 1
                if self._probe_successes >= self.settings.half_open_probes:
                    self.state = CLOSED
                    self._outcomes.clear()
                    self._failures = 0
                return
            if self.state == OPEN:
                return  # a slow call that started before the circuit opened
            if len(self._outcomes) == self._outcomes.maxlen and not self._outcomes[0]:
                self._failures -= 1
            self._outcomes.append(success)
            self._failures += not success
            if (len(self._outcomes) >= self.settings.min_calls
                    and self._failures / len(self._outcomes) >= self.settings.error_share):
                self._open()

    def _open(self) -> None:
        self.state = OPEN
        self._opened_at = self.clock.now()
        self._outcomes.clear()
        self._failures = 0
