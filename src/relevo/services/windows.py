"""When a service's maintenance windows open: pure calculation over its `windows` section.

Slots are local wall-clock times in the service's zone. Across daylight-saving changes a slot
covers the local times that exist: on the spring change (Europe/Madrid: last Sunday of March,
02:00 becomes 03:00) a slot bound inside the skipped hour is moved to the change itself, so a
slot 02:00-03:00 does not happen that day and one 01:30-02:30 lasts half an hour; on the autumn
change (03:00 becomes 02:00) a slot opens at the first occurrence of its start and closes at the
last occurrence of its end (zoneinfo's fold=0 and fold=1), so a slot 02:00-03:00 lasts two hours.
A day that is a public or local holiday (its local date) does not open; blackouts cut openings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Iterator
from zoneinfo import ZoneInfo


from relevo.services.window_policy import DAYS, WindowPolicy

HORIZON_DAYS = 800  # how far ahead to look before saying a window never opens again


@dataclass(frozen=True)
class Opening:
    """One opening of a service's windows, from start to end: in UTC and in the service's local time."""

    start: datetime
    end: datetime
    local_start: datetime
    local_end: datetime
    timezone: str

    @classmethod
    def of(cls, start: datetime, end: datetime, zone: ZoneInfo) -> "Opening":
        """The opening from start to end (UTC) in zone."""
        return cls(start, end, start.astimezone(zone), end.astimezone(zone), zone.key)

    def as_dict(self) -> dict:
        """JSON form: UTC and local times."""
        return {"start": self.start.isoformat(), "end": self.end.isoformat(),
                "local_start": self.local_start.isoformat(), "local_end": self.local_end.isoformat(),
                "timezone": self.timezone}


def _exists(wall: datetime, zone: ZoneInfo) -> bool:
    aware = wall.replace(tzinfo=zone)
    return aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall


def _change(zone: ZoneInfo, early: datetime, late: datetime) -> datetime:
    """The instant (UTC) between early and late where the zone's offset changes (they differ)."""
    while late - early > timedelta(seconds=1):
        middle = early + (late - early) / 2
        if middle.astimezone(zone).utcoffset() == late.astimezone(zone).utcoffset():
            late = middle
        else:
            early = middle
    return late.replace(microsecond=0)


def _instant(day: date, hhmm: str, zone: ZoneInfo, last: bool) -> datetime:
    """A local wall time as UTC: a skipped time as the change itself, a repeated one at its first
    occurrence (or its last, when last)."""
    wall = datetime.combine(day, time.fromisoformat(hhmm))
    if not _exists(wall, zone):
        before, after = (wall.replace(tzinfo=zone, fold=f).astimezone(UTC) for f in (1, 0))
        return _change(zone, before, after)
    return wall.replace(tzinfo=zone, fold=1 if last else 0).astimezone(UTC)


def _closed_days(policy: WindowPolicy):
    local = set(policy.local_holidays)
    import holidays  # a tenth of a second, paid by the services that name holidays only

    public = (holidays.country_holidays(policy.holidays.country, subdiv=policy.holidays.subdivision)
              if policy.holidays is not None else {})
    return lambda day: day in local or day in public


def _blackouts(policy: WindowPolicy) -> list[tuple[datetime, datetime]]:
    zone = policy.zone
    return sorted(tuple((t if t.tzinfo else t.replace(tzinfo=zone)).astimezone(UTC)  # type: ignore[misc]
                        for t in (b.start, b.end)) for b in policy.blackouts)


def _cut(start: datetime, end: datetime, blackouts: list[tuple[datetime, datetime]]) -> Iterator[tuple[datetime, datetime]]:
    for b_start, b_end in blackouts:
        if b_end <= start or b_start >= end:
            continue
        if b_start > start:
            yield start, b_start
        start = max(start, b_end)
        if start >= end:
            return
    yield start, end


def openings(policy: WindowPolicy, after: datetime) -> Iterator[Opening]:
    """The openings that end after `after` (aware), in order; the first may be open at `after`."""
    zone = policy.zone
    closed = _closed_days(policy)
    blackouts = _blackouts(policy)
    first = after.astimezone(zone).date() - timedelta(days=1)
    for offset in range(HORIZON_DAYS):
        day = first + timedelta(days=offset)
        if closed(day):
            continue
        spans = sorted((_instant(day, s.start, zone, last=False), _instant(day, s.end, zone, last=True))
                       for s in policy.slots if DAYS[day.weekday()] in s.days)
        merged: list[tuple[datetime, datetime]] = []
        for start, end in spans:
            if start >= end:
                continue  # wholly inside the hour the spring change skips
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        for start, end in merged:
            for piece in _cut(start, end, blackouts):
                if piece[1] > after:
                    yield Opening.of(piece[0], piece[1], zone)


def is_open(policy: WindowPolicy | None, at: datetime) -> bool:
    """True when a rollout step may start or advance at `at` (aware): always, without windows."""
    if policy is None:
        return True
    return any(o.start <= at for o in _first(policy, at, 1))


def next_openings(policy: WindowPolicy, after: datetime, n: int) -> list[Opening]:
    """The next n openings ending after `after` (aware), the one in progress first if open."""
    return _first(policy, after, n)


def _first(policy: WindowPolicy, after: datetime, n: int) -> list[Opening]:
    found = []
    for opening in openings(policy, after):
        found.append(opening)
        if len(found) == n:
            break
    return found


def waiting_reason(policy: WindowPolicy | None, at: datetime) -> str | None:
    """None inside a window (or without windows); otherwise why a step waits, naming the next opening."""
    if is_open(policy, at):
        return None
    assert policy is not None
    upcoming = _first(policy, at, 1)
    if not upcoming:
        return f"no maintenance window opens in the next {HORIZON_DAYS} days"
    return f"waiting for the next maintenance window at {describe(upcoming[0])}"


def describe(opening: Opening) -> str:
    """An opening's start as people read it: local date and time, and the zone."""
    return f"{opening.local_start:%Y-%m-%d %H:%M} {opening.timezone}"
