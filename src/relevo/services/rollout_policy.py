"""Rollout plans and acceptance criteria, as declared in a service spec's `rollout` section.

A plan is an ordered list of steps: `shadow` (the candidate answers copies, never citizens),
`canary` (the candidate answers `weight`% of cases), `bluegreen` (a preview, then a switch: see
BlueGreenStep) and `promote`. Every step that sends traffic is judged against the criteria; a
step never passes before its duration ends, and a step that ends without enough evidence waits
for a person.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from relevo.clock import DURATION_PATTERN, parse_duration

WATCH_AFTER_SWITCH = "1h"  # a blue/green step's watch after the switch, unless the plan says otherwise


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


DURATION_SCHEMA: dict[str, Any] = {"pattern": DURATION_PATTERN}  # published, so a schema-valid duration is one the spec takes


def given_fields(*fields: str) -> dict:
    """JSON Schema: each of fields present and not null."""
    return {"required": list(fields), "properties": {f: {"not": {"type": "null"}} for f in fields}}


def _when(metric: str, then: dict, default: str | None = None) -> dict:
    """JSON Schema: when the metric is `metric`, `then` holds (the rules a validator also checks)."""
    condition: dict = {"properties": {"metric": {"const": metric}}}
    if metric != default:
        condition["required"] = ["metric"]
    return {"if": condition, "then": then}


class _Timed(_Strict):
    duration: str = Field(default="1h", description="the step's minimum length (s, m, h or d); it never passes "
                          "sooner", examples=["48h"], json_schema_extra=DURATION_SCHEMA)

    @field_validator("duration")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    @property
    def length(self) -> timedelta:
        """The step's minimum duration."""
        return parse_duration(self.duration)


class ShadowStep(_Timed):
    """The candidate answers a copy of every case; citizens get the stable answer."""

    kind: Literal["shadow"] = Field(description="which step this is", examples=["shadow"])


class CanaryStep(_Timed):
    """The candidate answers weight% of cases, sticky by case id."""

    kind: Literal["canary"] = Field(description="which step this is", examples=["canary"])
    weight: float = Field(gt=0, le=100, description="the percentage of cases the candidate answers", examples=[5])


class BlueGreenStep(_Timed):
    """A preview, then the switch: the candidate takes every case only once the preview passed.

    Preview (`duration`): the candidate answers a mirrored copy of every case, citizens get the
    stable answer, and it is judged on those pairs exactly as a shadow step is. Switch: when the
    preview has passed, the candidate answers every case; the stable version stays loaded in
    every gateway, so switching back (a rollback) is instant. For `watch_after_switch` the
    candidate is then watched with the hard guards and the criteria it alone can show (latency
    within a budget, fairness) before the rollout moves on (normally to promote). A failing
    verdict or a guard in either phase rolls back.
    """

    kind: Literal["bluegreen"] = Field(description="which step this is",
                                       examples=["bluegreen"])
    watch_after_switch: str = Field(default=WATCH_AFTER_SWITCH, description="how long the candidate is watched "
                                    "after the switch", examples=["2h"], json_schema_extra=DURATION_SCHEMA)

    @field_validator("watch_after_switch")
    @classmethod
    def _watch(cls, value: str) -> str:
        parse_duration(value)
        return value


class PromoteStep(_Strict):
    """The candidate becomes the stable version."""

    kind: Literal["promote"] = Field(description="which step this is: always the last",
                                     examples=["promote"])


Step = Annotated[Union[ShadowStep, CanaryStep, BlueGreenStep, PromoteStep], Field(discriminator="kind")]


class Tolerance(_Strict):
    """How much worse than stable is acceptable: relative (ratio) or absolute (points).

    The judge's rollback test has its null exactly here: a candidate within the tolerance is
    rolled back in at most alpha of steps, one beyond it once the evidence shows it. `check-plan`
    reports the smallest regression beyond it that a step catches in 80% of runs.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra={"oneOf": [
        {**given_fields("relative"), "properties": {"relative": {"type": "number"}, "absolute": {"type": "null"}}},
        {**given_fields("absolute"), "properties": {"absolute": {"type": "number"}, "relative": {"type": "null"}}}]})

    relative: float | None = Field(default=None, ge=1.0, description="candidate rate <= stable rate x this",
                                   examples=[1.2])
    absolute: float | None = Field(default=None, ge=0.0, le=1.0, description="candidate rate <= stable rate + this",
                                   examples=[0.05])

    @model_validator(mode="after")
    def _one(self) -> "Tolerance":
        if (self.relative is None) == (self.absolute is None):
            raise ValueError("give exactly one of relative or absolute")
        return self


CRITERION_NEEDS = {
    "error_rate": ["tolerance"], "correction_rate": ["tolerance"], "decision_rate": ["tolerance", "label"],
    "latency": ["budget_ms"], "fairness": ["attribute", "label", "min_ratio"], "agreement": ["min_agreement"],
}


class Criterion(_Strict):
    """One acceptance criterion of a rollout step."""

    # The fields each metric needs, stated in the published schema as the validator checks them.
    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra={"allOf": [
        _when(metric, given_fields(*needs) if metric != "latency" else
              {**given_fields(*needs), "anyOf": [given_fields("max_share"), given_fields("tolerance")]})
        for metric, needs in CRITERION_NEEDS.items()]})

    metric: Literal["error_rate", "latency", "decision_rate", "correction_rate", "fairness", "agreement"] = Field(
        description="what is compared: share of failed model calls; response time; share of a decision label; "
        "share of reviewed decisions case workers corrected; selection-rate ratio across a protected attribute's "
        "groups; shadow agreement with stable", examples=["decision_rate"])
    tolerance: Tolerance | None = Field(default=None, description="error_rate, decision_rate, correction_rate "
                                        "(and latency vs stable): how much worse than stable is acceptable")
    label: str | None = Field(default=None, description="decision_rate/fairness: the label counted",
                              examples=["rejected"])
    budget_ms: float | None = Field(default=None, gt=0, description="latency: the response-time budget",
                                    examples=[800])
    max_share: float | None = Field(default=None, gt=0, lt=1, description="latency: share allowed over budget",
                                    examples=[0.05])
    attribute: str | None = Field(default=None, description="fairness: the protected attribute",
                                  examples=["age_band"])
    min_ratio: float | None = Field(default=None, gt=0, le=1, description="fairness: lowest selection-rate ratio",
                                    examples=[0.8])
    min_agreement: float | None = Field(default=None, gt=0, le=1, description="agreement: shadow agreement needed",
                                        examples=[0.9])
    review_delay: str = Field(default="72h", description="correction_rate: how old a decision must be to count",
                              examples=["12h"], json_schema_extra=DURATION_SCHEMA)
    # Every criterion passes only on positive evidence that the candidate is within its tolerance.
    # `no_harm` (pass when no harm was shown) is kept only so that specs stored before that rule
    # still read back; a spec file that asks for it is refused (relevo.services.spec.parse_spec).
    require: Literal["no_harm", "prove"] | None = Field(
        default=None, examples=["prove"],
        description="deprecated, refused in spec files: every criterion needs positive evidence to pass")
    min_sample: int = Field(default=100, ge=1, description="candidate decisions before a pass is possible",
                            examples=[100])

    @property
    def name(self) -> str:
        """The criterion's name in verdicts and reports: the metric and what it is about. A
        policy's criteria have distinct names, since evidence is carried between steps by it."""
        if self.metric == "fairness":
            detail = f"{self.attribute}:{self.label}"
        elif self.metric == "latency":
            detail = f"{self.budget_ms:g}ms" + (" vs stable" if self.max_share is None else "")
        else:
            detail = self.label or ""
        return f"{self.metric}({detail})" if detail else self.metric

    @property
    def digest(self) -> str:
        """sha256 of the criterion's whole definition: evidence shown under another definition
        (a wider tolerance, another minimum) does not count for this one."""
        body = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(body.encode()).hexdigest()

    @model_validator(mode="after")
    def _fits_metric(self) -> "Criterion":
        needs = CRITERION_NEEDS[self.metric]
        missing = [name for name in needs if getattr(self, name) is None]
        if missing:
            raise ValueError(f"criterion {self.metric} needs {', '.join(missing)}")
        if self.metric == "latency" and self.max_share is None and self.tolerance is None:
            raise ValueError("criterion latency needs max_share (share over budget) or tolerance (vs stable)")
        parse_duration(self.review_delay)
        return self


class Guard(_Strict):
    """A hard guard: roll back at once, no statistics (a safety net)."""

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra={
        "allOf": [_when("latency", given_fields("budget_ms"), default="error_rate")]})

    metric: Literal["error_rate", "latency"] = Field(
        default="error_rate", description="failed model calls, or answers slower than budget_ms",
        examples=["latency"])
    max_share: float = Field(gt=0, le=1, description="the share of the last decisions that trips the guard",
                             examples=[0.2])
    last: int = Field(default=50, ge=5, description="over the candidate's last N decisions", examples=[50])
    budget_ms: float | None = Field(default=None, gt=0, description="latency guards: the response-time budget",
                                    examples=[2000])

    @model_validator(mode="after")
    def _has_budget(self) -> "Guard":
        if self.metric == "latency" and self.budget_ms is None:
            raise ValueError("a latency guard needs budget_ms (without one it could never trip)")
        return self


DEFAULT_PLAN = [
    {"kind": "shadow", "duration": "24h"},
    {"kind": "canary", "weight": 5, "duration": "48h"},
    {"kind": "canary", "weight": 25, "duration": "24h"},
    {"kind": "promote"},
]


class RolloutPolicy(_Strict):
    """A service's rollout plans, acceptance criteria and guards."""

    alpha: float = Field(default=0.05, gt=0, lt=0.5, description="chance of a false rollback per step",
                         examples=[0.05])
    daily_cases: float | None = Field(
        default=None, gt=0, description="the cases a day the service expects, which check-plan sizes the plan for",
        examples=[3000])
    require_approval: bool = Field(
        default=False, description="every promotion waits for an approver's confirmation, even with all evidence in",
        examples=[True])
    default_plan: str = Field(default="standard", description="the plan a rollout follows unless it names another",
                              examples=["standard"])
    plans: dict[str, list[Step]] = Field(
        default_factory=lambda: {"standard": DEFAULT_PLAN}, validate_default=True,
        description="named plans, each a list of steps ending with promote")
    criteria: list[Criterion] = Field(default_factory=lambda: [
        Criterion(metric="error_rate", tolerance=Tolerance(absolute=0.01))], min_length=1,
        description="at least one: a rollout with nothing to show would pass on nothing")
    guards: list[Guard] = Field(default_factory=lambda: [Guard(max_share=0.2, last=50)],
                                description="hard limits that roll back at once, without statistics")

    @model_validator(mode="after")
    def _distinct_criteria(self) -> "RolloutPolicy":
        names = [c.name for c in self.criteria]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"two criteria are both {', '.join(twice)}: each needs its own metric, label, attribute "
                             f"or budget (the evidence for one must never count for another)")
        return self

    @model_validator(mode="after")
    def _plans(self) -> "RolloutPolicy":
        if self.default_plan not in self.plans:
            raise ValueError(f"default_plan {self.default_plan!r} is not one of the plans")
        for name, steps in self.plans.items():
            if not steps or steps[-1].kind != "promote":
                raise ValueError(f"plan {name!r} must end with a promote step")
            if any(s.kind == "promote" for s in steps[:-1]):
                raise ValueError(f"plan {name!r} has promote before its last step")
            if any(s.kind == "bluegreen" for s in steps[:-2]):
                raise ValueError(f"plan {name!r}: a bluegreen step gives the candidate every case, so only "
                                 f"promote can follow it")
        return self
