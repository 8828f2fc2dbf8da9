"""Monitoring and its alert rules, as declared in a service spec's `monitoring` section.

Monitors compare windows of production decisions with the serving version's reference profile
(inputs) and with the window before (inputs, decisions, the model's confidence), and measure
performance from case workers' feedback and fairness by protected group. Each alert rule names a
metric, a threshold, and optionally its own window, minimum sample and severity; a rule raises one
alert until what it watches is back to normal, and an alert nobody acknowledges is escalated.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from relevo.clock import parse_duration
from relevo.services.rollout_policy import DURATION_SCHEMA, given_fields


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# Metrics an alert fires on when the value rises above the threshold; the others when it falls below.
RISING = ("input_drift", "missing_rate", "new_categories", "output_drift", "score_drift", "correction_rate",
          "correction_gap")
FALLING = ("accuracy", "estimated_accuracy", "disparate_impact")
FEEDBACK = ("correction_rate", "accuracy", "correction_gap")  # measured from case workers' feedback
FEEDBACK_DELAY = "72h"  # as a rollout's correction criterion waits for its reviews
SHARES = FALLING + ("correction_rate", "missing_rate", "new_categories", "correction_gap")
ABOUT_FIELDS = ("input_drift", "missing_rate", "new_categories")
ABOUT_GROUPS = ("disparate_impact", "correction_gap")
Metric = Literal["input_drift", "missing_rate", "new_categories", "output_drift", "score_drift", "correction_rate",
                 "correction_gap", "accuracy", "estimated_accuracy", "disparate_impact"]


def _duration(value: str | None) -> str | None:
    if value is not None:
        parse_duration(value)
    return value


class AlertRule(_Strict):
    """One alert: when a monitored value crosses a threshold on enough evidence."""

    # The rules between a rule's fields, stated in the published schema as the validator checks them.
    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra={"allOf": [
        {"not": given_fields("window", "last")},
        {"if": {"properties": {"metric": {"enum": list(SHARES)}}},
         "then": {"properties": {"threshold": {"maximum": 1}}}},
        {"if": {"properties": {"metric": {"not": {"enum": list(ABOUT_FIELDS)}}}},
         "then": {"properties": {"field": {"type": "null"}}}},
        {"if": {"properties": {"metric": {"not": {"enum": list(ABOUT_GROUPS)}}}},
         "then": {"properties": {"attribute": {"type": "null"}}}}]})

    metric: Metric = Field(
        description="input_drift (an input field's distribution against the version's reference, or the previous "
        "window); missing_rate (change in a field's share of missing values); new_categories (share of values the "
        "reference never had); output_drift (PSI of the decisions' distribution against the previous window); "
        "score_drift (KS of the model's confidence against the previous window); correction_rate (share of "
        "reviewed decisions case workers corrected); accuracy (share confirmed); estimated_accuracy (from the "
        "model's probabilities, before feedback); disparate_impact (lowest group's selection rate over the "
        "highest's); correction_gap (largest difference in correction rates between groups)",
        examples=["input_drift"])
    threshold: float = Field(ge=0, allow_inf_nan=False, description="the value past which the alert fires: above it "
                             f"for {', '.join(RISING)}; below it for {', '.join(FALLING)}", examples=[0.2])
    statistic: Literal["psi", "ks", "wasserstein", "js"] = Field(
        default="psi", description="input_drift: the statistic compared (PSI, Kolmogorov-Smirnov, normalised "
        "Wasserstein, Jensen-Shannon; KS and Wasserstein numeric fields only)", examples=["ks"])
    against: Literal["reference", "previous"] = Field(
        default="reference", description="input_drift: the version's reference profile, or the previous window",
        examples=["previous"])
    field: str | None = Field(default=None, description="input_drift, missing_rate, new_categories: one input "
                              "field (default: every monitored field)", examples=["documents_complete"])
    attribute: str | None = Field(default=None, description="disparate_impact, correction_gap: one protected input "
                                  "(default: each)", examples=["age_band"])
    window: str | None = Field(default=None, description="this rule's window, when not the section's (a duration)",
                               examples=["7d"], json_schema_extra=DURATION_SCHEMA)
    last: int | None = Field(default=None, ge=10, le=1_000_000, description="this rule's window as the last N "
                             "decisions, when not the section's", examples=[5000])
    min_sample: int | None = Field(default=None, ge=1, description="values needed before the rule is evaluated "
                                   "(default: the section's)", examples=[200])
    review_delay: str | None = Field(
        default=None, description="how long after a window ends the rule reads it, so feedback has arrived "
        f"(default: {FEEDBACK_DELAY} for {', '.join(FEEDBACK)}, none for the rest)", examples=["5d"],
        json_schema_extra=DURATION_SCHEMA)
    severity: Literal["warning", "critical"] = Field(default="warning", description="how urgent the alert is; an "
                                                     "unacknowledged one becomes critical when escalated",
                                                     examples=["critical"])

    @field_validator("window", "review_delay")
    @classmethod
    def _window(cls, value: str | None) -> str | None:
        return _duration(value)

    @property
    def delay(self) -> str | None:
        """How long after its window ends the rule reads it (feedback metrics wait for their reviews)."""
        if self.review_delay is not None:
            return None if parse_duration(self.review_delay).total_seconds() == 0 else self.review_delay
        return FEEDBACK_DELAY if self.metric in FEEDBACK else None

    @model_validator(mode="after")
    def _fits_metric(self) -> "AlertRule":
        if self.window is not None and self.last is not None:
            raise ValueError("give window or last, not both")
        if self.field is not None and self.metric not in ABOUT_FIELDS:
            raise ValueError(f"field applies to {', '.join(ABOUT_FIELDS)}, not {self.metric}")
        if self.attribute is not None and self.metric not in ABOUT_GROUPS:
            raise ValueError(f"attribute applies to {', '.join(ABOUT_GROUPS)}, not {self.metric}")
        if self.metric in SHARES and self.threshold > 1:
            raise ValueError(f"{self.metric} is a share: its threshold lies between 0 and 1")
        return self

    @property
    def name(self) -> str:
        """The rule's name in alerts: its metric, what it watches and where it fires."""
        sign = "<" if self.metric in FALLING else ">"
        about = [x for x in (self.field, self.attribute) if x]
        if self.metric == "input_drift":
            about.append(self.statistic if self.against == "reference" else f"{self.statistic} vs previous")
        window = f" over {self.window}" if self.window else f" over the last {self.last}" if self.last else ""
        if self.review_delay is not None:
            window += f" after {self.review_delay}"
        condition = f"{sign} {self.threshold:g}"
        return f"{self.metric}({', '.join(about) + ' ' if about else ''}{condition}){window}"


def default_alerts() -> list[AlertRule]:
    """What is watched when a spec names no rule: inputs and decisions moving (PSI above 0.2, the
    customary mark of a significant shift), and any protected group's selection rate below four
    fifths of the highest group's."""
    return [AlertRule(metric="input_drift", statistic="psi", threshold=0.2),
            AlertRule(metric="output_drift", threshold=0.2),
            AlertRule(metric="disparate_impact", threshold=0.8, severity="critical")]


class MonitoringPolicy(_Strict):
    """How a service's production decisions are watched."""

    window: str = Field(default="1d", description="monitored windows: back-to-back periods of this length (a day, "
                        "a week), each evaluated once it has ended", examples=["7d"],
                        json_schema_extra=DURATION_SCHEMA)
    last: int | None = Field(default=None, ge=10, le=1_000_000, description="instead of periods, the last N "
                             "decisions, evaluated at every pass", examples=[5000])
    every: str = Field(default="1h", description="how often `relevo serve` runs a pass (never more often than "
                       "every ten seconds)", examples=["15m"],
                       json_schema_extra=DURATION_SCHEMA)
    min_sample: int = Field(default=100, ge=1, description="values a statistic needs before it is computed; below "
                            "it the report says 'not enough data' and no alert can fire", examples=[200])
    escalate_after: str = Field(default="4h", description="an open alert nobody acknowledged in this long is "
                                "escalated (critical, and sent to the escalation channels)", examples=["2h"],
                                json_schema_extra=DURATION_SCHEMA)
    fairness_label: str | None = Field(
        default=None, description="the decision whose rate is compared across protected groups (default: the "
        "rollout's fairness criterion's label, else the first decision)", examples=["admissible"])
    alerts: list[AlertRule] = Field(default_factory=default_alerts, description="the alert rules (default: input "
                                    "drift PSI above 0.2, decisions' PSI above 0.2 against the previous window, "
                                    "disparate impact below 0.8); an empty list raises none")

    @field_validator("window", "every", "escalate_after")
    @classmethod
    def _durations(cls, value: str) -> str:
        parse_duration(value)
        return value

    @model_validator(mode="after")
    def _distinct(self) -> "MonitoringPolicy":
        names = [rule.name for rule in self.alerts]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"two alert rules are both {', '.join(twice)}")
        return self

    def window_of(self, rule: AlertRule) -> tuple[str | None, int | None, str | None]:
        """(period, last N, delay) a rule is evaluated over: its own window, else the section's, read
        its delay after it ends."""
        if rule.window is not None or rule.last is not None:
            return rule.window, rule.last, rule.delay
        return (None, self.last, rule.delay) if self.last is not None else (self.window, None, rule.delay)
