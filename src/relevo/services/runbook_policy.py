"""Target times and custom sections of a service's runbook, as its spec's `runbook` section declares them.

The rest of a runbook (steps, criteria, owners, fallback, who notifies whom) is generated from the
spec itself: see relevo.continuity.
"""

from __future__ import annotations

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


class RunbookPolicy(_Strict):
    """How fast an incident must be detected and recovered from, and the runbook's own sections."""

    detect: str = Field(default="1h", description="target time to detect an incident (s, m, h or d)",
                        examples=["15m"], json_schema_extra=DURATION_SCHEMA)
    recover: str = Field(default="4h", description="target time to recover from one: citizens answered as "
                         "before, by the stable version or the fallback", examples=["1h"],
                         json_schema_extra=DURATION_SCHEMA)
    sections: list[RunbookSection] = Field(default_factory=list, description="sections added after the "
                                           "generated ones, in order")

    @field_validator("detect", "recover")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value
