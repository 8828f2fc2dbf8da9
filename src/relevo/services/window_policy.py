"""Maintenance windows, as a service spec's `windows` section declares them.

Rollout steps start and advance only inside a window: weekly slots in the service's own time
zone, closed on its public holidays (national and regional, from the holidays package, and its
own local ones) and during blackout periods. A service without the section is always open.
Rollback, hold, pause and abort are never held back by a window.
"""

from __future__ import annotations

import importlib.resources
from datetime import date, datetime
from functools import cache
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # date.weekday()'s order
HHMM = "^([01][0-9]|2[0-3]):[0-5][0-9]$"


@cache
def time_zones() -> tuple[str, ...]:
    """The IANA time zones a spec may name: the tzdata package's, the same on every machine."""
    return tuple(importlib.resources.files("tzdata").joinpath("zones").read_text().split())


@cache
def _countries() -> dict[str, list[str]]:
    # Imported when a spec names holidays, not with every spec: the calendars take a tenth of a second.
    import holidays

    return {code: list(subdivisions) for code, subdivisions in holidays.list_supported_countries().items()
            if len(code) == 2}


def _country_enum(schema: dict[str, Any]) -> None:
    """JSON Schema: one of the countries the calendars know (filled in when the schema is published)."""
    schema["enum"] = sorted(_countries())


def _enum(values: list[str]) -> dict[str, Any]:
    """JSON Schema: one of values (published, so a schema-valid name is one the spec takes)."""
    return {"enum": values}


class Slot(_Strict):
    """A weekly opening, in the service's local time: from start to end on each of days."""

    days: list[Day] = Field(description="the days of the week it opens on", examples=[["mon", "tue", "wed", "thu"]],
                            json_schema_extra={"minItems": 1})
    start: str = Field(description="local time it opens (HH:MM, 24-hour clock)", examples=["07:00"],
                       json_schema_extra={"pattern": HHMM})
    end: str = Field(description="local time it closes (HH:MM), after start the same day: a slot past midnight "
                     "is written as two", examples=["11:00"], json_schema_extra={"pattern": HHMM})

    @field_validator("start", "end")
    @classmethod
    def _time(cls, value: str) -> str:
        hour, _, minute = value.partition(":")
        if len(value) != 5 or not (hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60):
            raise ValueError(f"{value!r} is not a time of day as HH:MM")
        return value


class Holidays(_Strict):
    """Whose public holidays close the windows (the holidays package's calendars)."""

    country: str = Field(description="ISO 3166 country code", examples=["ES"],
                         json_schema_extra=_country_enum)
    subdivision: str | None = Field(default=None, description="the region whose holidays close the windows too "
                                    "(for Spain an autonomous community: MD Madrid, CT Catalonia, AN Andalusia, ...); "
                                    "none: the national holidays alone", examples=["MD"])

    @model_validator(mode="after")
    def _known(self) -> "Holidays":
        countries = _countries()
        if self.country not in countries:
            raise ValueError(f"windows.holidays.country {self.country!r} is not a country the holidays calendar "
                             f"knows (ISO codes such as ES, PT, FR)")
        known = countries[self.country]
        if self.subdivision is not None and self.subdivision not in known:
            raise ValueError(f"windows.holidays.subdivision {self.subdivision!r} is not a subdivision of "
                             f"{self.country}: one of {', '.join(known) or '(none)'}")
        return self


class Blackout(_Strict):
    """A period no rollout step starts or advances in (an election, a filing deadline)."""

    start: datetime = Field(description="when it begins; without an offset, the service's local time",
                            examples=["2027-06-28T00:00:00"])
    end: datetime = Field(description="when it ends (after start)", examples=["2027-07-01T00:00:00"])
    reason: str = Field(default="", max_length=500, description="why, for the people who wait",
                        examples=["income tax filing deadline"])


class WindowPolicy(_Strict):
    """When rollout steps may start and advance: weekly slots in local time, minus holidays and blackouts."""

    timezone: str = Field(description="the service's IANA time zone: the slots and local holidays are its local "
                          "time, daylight saving included", examples=["Europe/Madrid"],
                          json_schema_extra=_enum(list(time_zones())))
    slots: list[Slot] = Field(description="the weekly openings", json_schema_extra={"minItems": 1},
                              examples=[[{"days": ["mon", "tue", "wed", "thu"], "start": "07:00", "end": "11:00"}]])
    holidays: Holidays | None = Field(default=None, description="public holidays that close the windows; none: "
                                      "no public holidays", examples=[{"country": "ES", "subdivision": "MD"}])
    local_holidays: list[date] = Field(default_factory=list, description="the municipality's own holidays (dates)",
                                       examples=[["2027-05-15", "2027-11-09"]])
    blackouts: list[Blackout] = Field(default_factory=list, description="periods closed whatever the slots say")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        if value not in time_zones():
            raise ValueError(f"windows.timezone {value!r} is not an IANA time zone (such as Europe/Madrid or "
                             f"Atlantic/Canary)")
        return value

    @model_validator(mode="after")
    def _opens(self) -> "WindowPolicy":
        if not self.slots:
            raise ValueError("windows.slots: a window that never opens: no slot is given")
        for i, slot in enumerate(self.slots):
            if not slot.days:
                raise ValueError(f"windows.slots[{i}]: a window that never opens: it names no day")
            if slot.start >= slot.end:
                raise ValueError(f"windows.slots[{i}]: a window that never opens: it starts at {slot.start} and ends "
                                 f"at {slot.end} (a slot past midnight is written as two)")
        zone = ZoneInfo(self.timezone)
        for i, blackout in enumerate(self.blackouts):
            start, end = (t if t.tzinfo else t.replace(tzinfo=zone) for t in (blackout.start, blackout.end))
            try:
                backwards = start >= end
            except OverflowError:  # the first or last day a datetime holds, in another zone
                backwards = True
            if backwards:
                raise ValueError(f"windows.blackouts[{i}] ends before it starts")
        return self

    @property
    def zone(self) -> ZoneInfo:
        """The service's time zone."""
        return ZoneInfo(self.timezone)
