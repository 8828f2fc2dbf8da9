"""The one source of time: real in production, simulated in tests, drills and the demo."""

from __future__ import annotations

import re
import threading
from datetime import datetime, timedelta, timezone
from typing import Protocol

# At most five digits (99999d is 273 years): any duration then fits a timedelta and a date.
DURATION_PATTERN = r"^\s*([0-9]{1,5}(?:\.[0-9]+)?)\s*(s|m|h|d)\s*$"
DURATION = re.compile(DURATION_PATTERN)
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> timedelta:
    """'48h', '30m', '2d', '90s' as a timedelta."""
    match = DURATION.match(str(text))
    if not match:
        raise ValueError(f"durations look like 30m, 48h or 2d (a number of at most five digits, then s, m, h "
                         f"or d), got {text!r}")
    return timedelta(seconds=float(match.group(1)) * UNIT_SECONDS[match.group(2)])


class Clock(Protocol):
    """Anything that tells the current time as an aware UTC datetime."""

    def now(self) -> datetime: ...


class SystemClock:
    """Wall-clock time in UTC."""

    def now(self) -> datetime:
        """Current UTC time."""
        return datetime.now(timezone.utc)


class OffsetClock:
    """Wall-clock time moved by a fixed offset: a story told in the past runs at real speed."""

    def __init__(self, offset: timedelta) -> None:
        self.offset = offset

    def now(self) -> datetime:
        """Current UTC time plus the offset."""
        return datetime.now(timezone.utc) + self.offset


class SimulatedClock:
    """A clock that moves only when told to, so a 48-hour step can run in seconds."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=timezone.utc)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The simulated current time."""
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move time forward by delta and return the new time."""
        if delta < timedelta(0):
            raise ValueError("a clock never moves backwards")
        with self._lock:
            self._now += delta
            return self._now
