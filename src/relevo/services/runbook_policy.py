"""Target times and custom sections of a service's runbook, as its spec's `runbook` section declares them.

The rest of a runbook (steps, criteria, owners, fallback, who notifies whom) is generated from the
spec itself: see relevo.continuity.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator

from relevo.clock import parse_duration
from relevo.services.rollout_policy import DURATION_SCHEMA


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RunbookSection(_Strict):
    """A section the service's people add to its runbook (contacts, a local procedure)."""

    title: str = Field(min_length=1, max_length=200, description="the section's heading",
                       examples=["Out of hours"], json_schema_extra={"pattern": "^[^\\u0000]*\\S[^\\u0000]*$"})
    body: str = Field(min_length=1, max_length=10_000, description="what it says (plain text)",
                      examples=["the duty manager is reached on the on-call phone"],
                      json_schema_extra={"pattern": "^[^\\u0000]*\\S[^\\u0000]*$"})

    @field_validator("title", "body")
    @classmethod
    def _text(cls, value: str) -> str:
        if not value.strip() or "\x00" in value:
            raise ValueError("a runbook section needs text (and no NUL character)")
        return value


def _cron_field(number: str) -> str:
    item = rf"(\*|{number}(-{number})?)(/[1-9][0-9]?)?"
    return rf"{item}(,{item})*"


# Five fields, each value in its field's range (what the published schema can state of cron's form).
CRON_PATTERN = "^" + " ".join(_cron_field(n) for n in (
    r"([0-5]?[0-9])", r"([01]?[0-9]|2[0-3])", r"(0?[1-9]|[12][0-9]|3[01])", r"(0?[1-9]|1[0-2])", r"([0-7])")) + "$"
Scenario = Literal["bad-candidate", "model-down", "slow-model", "database-restart"]
SCENARIOS: tuple[Scenario, ...] = get_args(Scenario)
QUARTERLY = "0 9 1 1,4,7,10 *"  # 09:00 on the first day of each quarter, in the service's time zone


class DrillSchedule(_Strict):
    """When the service's rollback and incident drills are due, and which scenarios each one runs."""

    schedule: str = Field(default=QUARTERLY, description="cron expression (five fields) of when a drill is due, in "
                          "the maintenance windows' time zone (UTC without windows); quarterly by default",
                          examples=["0 9 1 1,4,7,10 *"], json_schema_extra={"pattern": CRON_PATTERN})
    scenarios: list[Scenario] = Field(
        default_factory=lambda: list(SCENARIOS), min_length=1, description="the scenarios a drill runs; a drill "
        "is overdue until each has passed since the last due date", examples=[["bad-candidate", "model-down"]],
        json_schema_extra={"uniqueItems": True})
    grace: str = Field(default="7d", description="how long after a due date a drill may still run before it is "
                       "overdue and the team's channels are told", examples=["7d"], json_schema_extra=DURATION_SCHEMA)

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        from croniter import CroniterBadDateError, croniter  # only a spec that is read needs it

        if len(value.split()) != 5 or not croniter.is_valid(value):
            raise ValueError(f"{value!r} is not a cron expression of five fields (minute hour day month weekday), "
                             "e.g. '0 9 1 1,4,7,10 *' for quarterly")
        try:  # a day no month in the list has (30 February) parses, and never comes
            croniter(value, datetime(2026, 1, 1, tzinfo=timezone.utc)).get_next(datetime)
        except (CroniterBadDateError, ValueError):
            raise ValueError(f"the drill schedule {value!r} never comes: no month it names has that day") from None
        return value

    @field_validator("scenarios")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("each scenario once")
        return value

    @field_validator("grace")
    @classmethod
    def _grace(cls, value: str) -> str:
        parse_duration(value)
        return value


class RunbookPolicy(_Strict):
    """How fast an incident must be detected and recovered from, and the runbook's own sections."""

    detect: str = Field(default="1h", description="target time to detect an incident (s, m, h or d)",
                        examples=["15m"], json_schema_extra=DURATION_SCHEMA)
    recover: str = Field(default="4h", description="target time to recover from one: citizens answered as "
                         "before, by the stable version or the fallback", examples=["1h"],
                         json_schema_extra=DURATION_SCHEMA)
    sections: list[RunbookSection] = Field(default_factory=list, description="sections added after the "
                                           "generated ones, in order")
    drills: DrillSchedule = Field(default=DrillSchedule(), description="when rollback and incident drills are "
                                  "due (relevo drill run), and which scenarios they rehearse")

    @field_validator("detect", "recover")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value
