"""Windows of decisions a monitor looks at: back-to-back periods (a day, a week), a trailing period
ending now (a report), or the last N decisions.

Periods are aligned on Monday 1 January 2024, 00:00 UTC: daily windows start at midnight, weekly
ones on Mondays, hourly ones on the hour, whichever replica computes them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timezone

from relevo.clock import parse_duration

ORIGIN = datetime(2024, 1, 1, tzinfo=timezone.utc)  # a Monday


@dataclass(frozen=True)
class Window:
    """Decisions made in [start, end), or the last `last` decisions made before end."""

    key: str  # "1d", "7d", "last 5000": what kind of window, the same for every window of a rule
    end: datetime
    start: datetime | None = None
    last: int | None = None

    @property
    def label(self) -> str:
        """The window as people read it."""
        if self.last is not None:
            return f"the last {self.last:,} decisions before {self.end:%Y-%m-%d %H:%M} UTC"
        assert self.start is not None
        return f"{self.start:%Y-%m-%d %H:%M} to {self.end:%Y-%m-%d %H:%M} UTC"

    def previous(self) -> "Window":
        """The window before: the same length ending where this one starts (periods only)."""
        if self.start is None:
            raise ValueError("a window of the last decisions has no period before it")
        return Window(self.key, self.start, self.start - (self.end - self.start))


def completed(key: str, now: datetime) -> Window:
    """The latest period of length key that has ended by now."""
    length = parse_duration(key)
    periods = (now - ORIGIN) // length
    end = ORIGIN + periods * length
    return Window(key, end, end - length)


def trailing(length: str, now: datetime) -> Window:
    """The period of length ending now (what a report shows on request)."""
    return Window(length, now, now - parse_duration(length))


def last_decisions(count: int, now: datetime) -> Window:
    """The last count decisions made before now."""
    return Window(f"last {count}", now, None, count)


def window_for(period: str | None, last: int | None, now: datetime, delay: str | None = None) -> Window:
    """A rule's window as of now: the latest completed period, or the last N decisions; with a
    delay, as of that long ago (feedback has arrived by then), and so named."""
    at = now - parse_duration(delay) if delay else now
    window = last_decisions(last, at) if last is not None else completed(period or "1d", at)
    return replace(window, key=f"{window.key} after {delay}") if delay else window

