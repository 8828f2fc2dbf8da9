"""How a service's planned deployments are communicated, as its spec's `communication` section declares:
how long before a deployment its informed people are told, in which languages its public notice is
written, and which releases need one (relevo.governance.communication does the telling)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from relevo.clock import parse_duration
from relevo.services.rollout_policy import DURATION_SCHEMA

# The languages Relevo has public-notice templates for: Spanish, English and Catalan.
Language = Literal["es", "en", "ca"]
LANGUAGES: tuple[str, ...] = ("es", "en", "ca")


class CommunicationPolicy(BaseModel):
    """Notice of a planned deployment: its lead time, the public notice's languages, when one is due."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lead: str = Field(default="2d", description="how long before a deployment's planned start its notice must be "
                      "given to the informed people (s, m, h or d); the checklist's communication item passes only "
                      "once this long has passed since the notice", examples=["3d"], json_schema_extra=DURATION_SCHEMA)
    languages: list[Language] = Field(default_factory=lambda: list[Language](["es", "en"]), min_length=1, description="the "
                                      "languages the public notice is generated in, each before the rollout starts",
                                      examples=[["es", "ca", "en"]], json_schema_extra={"uniqueItems": True})
    public: Literal["auto", "always", "significant"] = Field(
        default="auto", description="which releases need a public notice: auto, every release that changes what "
        "citizens are answered by in production (another version or other decision rules); significant, only a "
        "significant change (which always needs one); always, every release in production", examples=["auto"])

    @field_validator("lead")
    @classmethod
    def _lead(cls, value: str) -> str:
        parse_duration(value)
        return value

    @field_validator("languages")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("each language once")
        return value
