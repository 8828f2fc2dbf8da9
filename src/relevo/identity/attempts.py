"""Failed sign-ins, counted per source: past the limit a source is refused for a while, and the
failures are audited (the source only as a pseudonym: an address is personal data)."""

from __future__ import annotations

import hashlib
import threading
import time
from collections import defaultdict, deque

from relevo.audit import record_change
from relevo.context import Context
from relevo.store import connect


class Attempts:
    """A sliding window of failures per source."""

    def __init__(self, limit: int = 10, window: float = 60.0) -> None:
        self.limit, self.window = limit, window
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, source: str, now: float) -> deque[float]:
        failures = self._failures[source]
        while failures and failures[0] < now - self.window:
            failures.popleft()
        return failures

    def blocked(self, source: str) -> float | None:
        """Seconds until source may try again, or None when it may now."""
        now = time.monotonic()
        with self._lock:
            failures = self._recent(source, now)
            if len(failures) < self.limit:
                return None
            return max(1.0, failures[0] + self.window - now)

    def failed(self, ctx: Context, source: str, where: str) -> None:
        """Count a failure from source and audit it (the one that reaches the limit says so)."""
        now = time.monotonic()
        with self._lock:
            failures = self._recent(source, now)
            failures.append(now)
            count = len(failures)
        if count > self.limit:
            return  # already refused and audited once for this window
        pseudonym = hashlib.sha256(source.encode()).hexdigest()[:16]
        with connect(ctx.engine) as conn:
            record_change(conn, ctx, "auth.rate_limited" if count == self.limit else "auth.failed", where,
                          {"source": pseudonym, "failures": count, "window_s": self.window}, actor="anonymous")
