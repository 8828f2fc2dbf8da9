"""The service spec (YAML): what a decision service accepts, answers, and falls back to.

A spec declares the input schema (types, ranges, enums, which fields are personal data and
which are protected attributes), the decision labels, the fallback chain (rules, then manual
review), the model timeout, the circuit breaker and how decisions are logged. Unknown keys are
refused so that a typo cannot silently weaken a policy.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from relevo.documents import format_validation_error, read_document, refuse_placeholders
from relevo.errors import InvalidInput
from relevo.services.communication_policy import CommunicationPolicy
from relevo.services.monitoring_policy import MonitoringPolicy
from relevo.services.review_policy import ReviewPolicy
from relevo.services.rollout_policy import RolloutPolicy
from relevo.services.runbook_policy import RunbookPolicy
from relevo.services.window_policy import WindowPolicy

NAME = re.compile(r"^[a-z][a-z0-9-]{1,62}[a-z0-9]$")
FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldSpec(_Strict):
    """One input field of a decision request."""

    # What _coherent checks of one field, stated in the published schema (minimum <= maximum
    # compares two values, which JSON Schema cannot state).
    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra={"allOf": [
        {"if": {"required": ["enum"], "properties": {"enum": {"not": {"type": "null"}}}},
         "then": {"properties": {"type": {"const": "string"}}}},
        {"if": {"anyOf": [{"required": [bound], "properties": {bound: {"not": {"type": "null"}}}}
                          for bound in ("minimum", "maximum")]},
         "then": {"properties": {"type": {"enum": ["number", "integer"]}}}}]})

    type: Literal["number", "integer", "string", "boolean"] = Field(
        description="what a request must send: a number, a whole number, a text or true/false", examples=["string"])
    required: bool = Field(default=True, description="a request without this field is refused (422)",
                           examples=[False])
    minimum: float | None = Field(default=None, allow_inf_nan=False,
                                  description="number and integer fields: the smallest value accepted", examples=[0])
    maximum: float | None = Field(default=None, allow_inf_nan=False,
                                  description="number and integer fields: the largest value accepted", examples=[100])
    enum: list[str] | None = Field(default=None, min_length=1, description="string fields: the only values accepted",
                                   examples=[["centre", "north", "south"]])
    max_length: int = Field(default=200, ge=1, le=10_000, description="string fields: the longest text accepted",
                            examples=[40])
    personal: bool = Field(default=False, description="personal data: pseudonymised or dropped in the log (see "
                           "logging), never profiled", examples=[True])
    protected: bool = Field(default=False, description="a protected attribute (age band, nationality group): "
                            "collected to check fairness by group", examples=[True])
    description: str = Field(default="", description="what the field holds, for people reading the spec",
                             examples=["share of required documents attached"])

    @model_validator(mode="after")
    def _coherent(self) -> "FieldSpec":
        if self.enum is not None and self.type != "string":
            raise ValueError("enum applies to string fields only")
        if (self.minimum is not None or self.maximum is not None) and self.type not in ("number", "integer"):
            raise ValueError("minimum/maximum apply to number and integer fields only")
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise ValueError("minimum is greater than maximum")
        if (self.type == "integer" and self.minimum is not None and self.maximum is not None
                and math.ceil(self.minimum) > math.floor(self.maximum)):
            raise ValueError("no whole number lies between minimum and maximum")
        return self


Operator = Literal["eq", "ne", "lt", "lte", "gt", "gte", "in", "not_in"]


class Rule(_Strict):
    """A declarative fallback rule: when every condition holds, answer decision."""

    when: dict[str, dict[Operator, Any]] = Field(
        min_length=1, description="input field to conditions on it (eq, ne, lt, lte, gt, gte, in, not_in); "
        "all must hold", examples=[{"documents_complete": {"gte": 0.95}, "zoning_compatible": {"eq": True}}])
    decision: str = Field(description="the decision given when every condition holds; one of decisions",
                          examples=["rejected"])
    reason: str = Field(default="", description="why, in words the citizen's letter can carry",
                        examples=["fewer than 40% of the required documents"])


class Fallback(_Strict):
    """What answers when the model cannot: rules (an entry point or declarative), then manual review."""

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra={"not": {
        "required": ["entrypoint", "rules"],
        "properties": {"entrypoint": {"type": "string", "minLength": 1}, "rules": {"type": "array", "minItems": 1}}}})

    entrypoint: str | None = Field(
        default=None, description="module:callable taking the inputs mapping and returning a decision, or nothing "
        "(None) to pass the case to manual review; instead of rules", examples=["licensing.rules:decide"],
        json_schema_extra={"pattern": "^$|:"})
    rules: list[Rule] = Field(default_factory=list, description="tried in order; the first that holds answers")
    manual_reference_prefix: str = Field(
        default="REF", pattern=r"^[A-Z]{2,8}$", description="starts the reference a citizen is given when a case "
        "goes to manual review", examples=["LIC"])

    @model_validator(mode="after")
    def _one_kind(self) -> "Fallback":
        if self.entrypoint and self.rules:
            raise ValueError("give either entrypoint or rules, not both")
        if self.entrypoint and ":" not in self.entrypoint:
            raise ValueError("entrypoint is module:callable")
        return self


class CircuitBreaker(_Strict):
    """When to stop calling a failing version, and how to probe it again."""

    window: int = Field(default=50, ge=5, le=10_000, description="recent calls of a version considered",
                        examples=[50])
    min_calls: int = Field(default=10, ge=1, description="calls in the window before the circuit may open",
                           examples=[10])
    error_share: float = Field(default=0.5, gt=0, le=1, description="share of failures in the window that opens "
                               "the circuit (the fallback answers meanwhile)", examples=[0.5])
    open_seconds: float = Field(default=30, gt=0, description="how long the circuit stays open before probing",
                                examples=[30])
    half_open_probes: int = Field(default=3, ge=1, description="calls let through to probe a version again; all "
                                  "must succeed to close the circuit", examples=[3])

    @model_validator(mode="after")
    def _can_open(self) -> "CircuitBreaker":
        if self.min_calls > self.window:
            raise ValueError("min_calls must not exceed window, or the circuit could never open")
        return self


class Threshold(_Strict):
    """Decide `label` only when the model gives it at least `min_probability`, else its next best label."""

    label: str = Field(description="the label held back unless the model is sure enough; one of decisions",
                       examples=["rejected"])
    min_probability: float = Field(gt=0, lt=1, description="the probability the model must give the label",
                                   examples=[0.8])


# Six calendar months last at most 184 days (July to December), so 184 days is at least six months
# from any date: the AI Act's shortest keeping of a deployer's logs (Art. 26(6)).
MIN_RETENTION_DAYS = 184
# A number of days, at least MIN_RETENTION_DAYS, published as a pattern: a schema-valid period is one the spec takes.
RETENTION_DAYS = re.compile(r"^\s*(18[4-9]|19[0-9]|[2-9][0-9]{2}|[1-9][0-9]{3,4})\s*d\s*$")
RETENTION_FIELDS = ("retention", "max_retention")  # decide nothing about answers: see catalogue.decision_rules


def _retention(value: str | None) -> str | None:
    """A retention period as days ('365d'), refused below six months."""
    if value is None:
        return None
    match = RETENTION_DAYS.match(str(value))
    if match is None:
        days = re.match(r"^\s*([0-9]{1,5})\s*d\s*$", str(value))
        if days is None:
            raise ValueError(f"a number of days, such as 365d, is expected; got {value!r}")
        raise ValueError(f"{value.strip()} is shorter than six months: decisions are kept at least "
                         f"{MIN_RETENTION_DAYS}d (the AI Act's minimum for deployers' logs, Art. 26(6))")
    return f"{int(match.group(1))}d"


class Logging(_Strict):
    """How much of each request the decision log keeps, and for how long."""

    personal: Literal["pseudonymise", "drop"] = Field(
        default="pseudonymise", description="personal fields are stored as keyed HMAC pseudonyms, or not at all",
        examples=["drop"])
    keep_inputs: bool = Field(default=True, description="keep non-personal inputs (needed for drift monitoring)",
                              examples=[True])
    retention: str = Field(
        default=f"{MIN_RETENTION_DAYS}d", description="how long decisions are kept (days): then `relevo purge`, and "
        "the daily purge in `relevo serve`, delete them with their feedback and reviews; at least six months "
        f"({MIN_RETENTION_DAYS}d), the AI Act's minimum for deployers' logs (Art. 26(6))", examples=["365d"],
        json_schema_extra={"pattern": RETENTION_DAYS.pattern})
    max_retention: str | None = Field(
        default=None, description="the longest decisions may be kept (days), as the record of processing states it "
        "(GDPR storage limitation): retention may not exceed it", examples=["730d"],
        json_schema_extra={"pattern": RETENTION_DAYS.pattern})

    @field_validator("retention", "max_retention")
    @classmethod
    def _days(cls, value: str | None) -> str | None:
        return _retention(value)

    @model_validator(mode="after")
    def _within_limit(self) -> "Logging":
        if self.max_retention is not None and self.retention_days > int(self.max_retention[:-1]):
            raise ValueError(f"logging.retention {self.retention} is longer than logging.max_retention "
                             f"{self.max_retention}")
        return self

    @property
    def retention_days(self) -> int:
        """How many days decisions are kept."""
        return int(self.retention[:-1])


class Roles(_Strict):
    """The service's RACI, by identity name: operators are responsible for rollouts, approvers
    accountable for promotions, incident owners for incidents (each list narrows who, of those
    holding the role, may act here; an empty list narrows nothing); consulted people are asked
    before a release and named on its record; informed people are told of every rollout's start,
    hold, promotion, rollback and revert on the notification channels."""

    operators: list[str] = Field(default_factory=list, description="responsible: start, pause, resume, roll back",
                                 examples=[["release-manager"]])
    approvers: list[str] = Field(default_factory=list, description="accountable: promote; never their own rollout",
                                 examples=[["service-owner"]])
    incident_owners: list[str] = Field(default_factory=list, description="document incidents' cause and remediation",
                                       examples=[["release-manager", "service-owner"]])
    consulted: list[str] = Field(default_factory=list, description="asked before a release; named on the rollout's "
                                 "record", examples=[["dpo"]])
    informed: list[str] = Field(default_factory=list, description="told of rollouts and rollbacks on every channel",
                                examples=[["case-worker"]])

    def allows(self, role: str, actor: str) -> bool:
        """True when actor holds role (or nobody was named for it)."""
        names = getattr(self, role)
        return not names or actor in names


class ServiceSpec(_Strict):
    """A decision service and its policies."""

    name: str = Field(description="the service's name in every command and URL: 3-64 lowercase letters, digits "
                      "and '-', starting with a letter", examples=["licence-prefilter"],
                      json_schema_extra={"pattern": NAME.pattern})
    description: str = Field(default="", description="what the service decides, for people",
                             examples=["Pre-filters licence applications"])
    owner: str = Field(default="", description="accountable service owner", examples=["Licensing Department"])
    trust_pickle: bool = Field(
        default=False,
        description="allow plain pickle/joblib artifacts (unsafe: loading runs arbitrary code)", examples=[False],
    )
    inputs: dict[str, FieldSpec] = Field(
        default_factory=dict, description="the fields of a decision request, by name (identifiers: letters, digits, "
        "'_'); every field a version's model reads must be here",
        json_schema_extra={"propertyNames": {"pattern": FIELD_NAME.pattern}})
    decisions: list[str] = Field(default_factory=list, description="the labels a decision can take",
                                 examples=[["admissible", "rejected"]])
    fallback: Fallback = Field(default=Fallback(), description="what answers when no model can")
    timeout_ms: float = Field(default=500, gt=0, le=60_000, description="model call timeout: past it the fallback "
                              "answers", examples=[300])
    threshold: Threshold | None = Field(
        default=None, description="the probability a model must give a label before it is decided")
    review: ReviewPolicy = Field(default=ReviewPolicy(), description="which automated answers wait for a case "
                                 "worker before they take effect (human oversight)")
    circuit_breaker: CircuitBreaker = Field(default=CircuitBreaker(), description="when to stop calling a failing "
                                            "version")
    logging: Logging = Field(default=Logging(), description="what the decision log keeps of each request")
    rollout: RolloutPolicy = Field(default=RolloutPolicy(), description="how a new release reaches citizens: "
                                   "plans, acceptance criteria, guards")
    monitoring: MonitoringPolicy = Field(default=MonitoringPolicy(), description="how production decisions are "
                                         "watched: windows, drift, performance and fairness, alert rules")
    roles: Roles = Field(default=Roles(), description="who, by identity name, acts on this service (its RACI)")
    tests: str | None = Field(default=None, description="the service's test suite file (YAML), relative to this "
                              "spec: read and stored with it (relevo service apply), run by relevo test, its smoke "
                              "cases before every rollout", examples=["licence-prefilter.tests.yaml"],
                              json_schema_extra={"pattern": "^[^\\u0000]+$"})
    runbook: RunbookPolicy = Field(default=RunbookPolicy(), description="the runbook's target times to detect "
                                   "and to recover from an incident, and its own sections (the rest is generated "
                                   "from this spec: relevo runbook)")
    windows: WindowPolicy | None = Field(
        default=None, description="when rollout steps may start and advance (rollback, hold, pause and abort "
        "always may): weekly slots in the service's time zone, minus public holidays and blackouts; none: always "
        "open", examples=[{"timezone": "Europe/Madrid", "slots": [{"days": ["mon", "tue", "wed", "thu"],
                                                                   "start": "07:00", "end": "11:00"}],
                           "holidays": {"country": "ES", "subdivision": "MD"}}])
    communication: CommunicationPolicy = Field(
        default=CommunicationPolicy(), description="how a planned deployment is told: its notice's lead time before "
        "the start, the public notice's languages, which releases need one (relevo notice)")

    @field_validator("name")
    @classmethod
    def _name(cls, name: str) -> str:
        if not NAME.match(name):
            raise ValueError(
                "a service name is 3-64 characters of lowercase letters, digits and '-', "
                "starting with a letter"
            )
        return name

    @field_validator("inputs")
    @classmethod
    def _field_names(cls, inputs: dict[str, FieldSpec]) -> dict[str, FieldSpec]:
        bad = [n for n in inputs if not FIELD_NAME.match(n)]
        if bad:
            raise ValueError(f"field names must be identifiers: {', '.join(bad)}")
        return inputs

    @model_validator(mode="after")
    def _rules_fit(self) -> "ServiceSpec":
        for i, rule in enumerate(self.fallback.rules):
            if self.decisions and rule.decision not in self.decisions:
                raise ValueError(f"fallback.rules[{i}].decision {rule.decision!r} is not one of decisions")
            unknown = set(rule.when) - set(self.inputs)
            if unknown:
                raise ValueError(f"fallback.rules[{i}] reads unknown fields: {', '.join(sorted(unknown))}")
        if self.threshold is not None and self.threshold.label not in self.decisions:
            raise ValueError(f"threshold.label {self.threshold.label!r} is not one of decisions")
        self._review_fits()
        self._monitoring_fits()
        for i, criterion in enumerate(self.rollout.criteria):
            if criterion.label is not None and self.decisions and criterion.label not in self.decisions:
                raise ValueError(f"rollout.criteria[{i}].label {criterion.label!r} is not one of decisions")
            if criterion.attribute is not None and not (
                    criterion.attribute in self.inputs and self.inputs[criterion.attribute].protected):
                raise ValueError(f"rollout.criteria[{i}].attribute {criterion.attribute!r} is not a protected input")
        return self

    def _review_fits(self) -> None:
        review = self.review
        for label in review.labels:
            if label not in self.decisions:
                raise ValueError(f"review.labels: {label!r} is not one of decisions")
        for i, band in enumerate(review.probability_bands):
            if band.label not in self.decisions:
                raise ValueError(f"review.probability_bands[{i}].label {band.label!r} is not one of decisions")
        for name, values in review.groups.items():
            field = self.inputs.get(name)
            if field is None or not field.protected:
                raise ValueError(f"review.groups: {name!r} is not a protected input")
            kinds = {"string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,)}[field.type]
            for value in values:
                if not isinstance(value, kinds) or (isinstance(value, bool) and field.type != "boolean"):
                    raise ValueError(f"review.groups.{name}: {value!r} is not a {field.type} value")
                if field.enum is not None and value not in field.enum:
                    raise ValueError(f"review.groups.{name}: {value!r} is not one of the field's enum")

    def _monitoring_fits(self) -> None:
        monitoring = self.monitoring
        if monitoring.fairness_label is not None and monitoring.fairness_label not in self.decisions:
            raise ValueError(f"monitoring.fairness_label {monitoring.fairness_label!r} is not one of decisions")
        for i, rule in enumerate(monitoring.alerts):
            if rule.field is not None and rule.field not in self.inputs:
                raise ValueError(f"monitoring.alerts[{i}] reads unknown fields: {rule.field}")
            if rule.attribute is not None and not (rule.attribute in self.inputs and self.inputs[rule.attribute].protected):
                raise ValueError(f"monitoring.alerts[{i}].attribute {rule.attribute!r} is not a protected input")

    @property
    def fairness_label(self) -> str | None:
        """The decision whose rate monitors compare across protected groups."""
        if self.monitoring.fairness_label is not None:
            return self.monitoring.fairness_label
        chosen = [c.label for c in self.rollout.criteria if c.metric == "fairness"]
        return chosen[0] if chosen else (self.decisions[0] if self.decisions else None)

    @property
    def decides(self) -> bool:
        """True when the spec declares inputs and decisions, so the gateway can serve it."""
        return bool(self.inputs) and bool(self.decisions)


def parse_spec(data: dict, source: str) -> ServiceSpec:
    """Validate a spec mapping; errors name the source file and each bad field."""
    refuse_placeholders(data, "service spec", source)
    try:
        spec = ServiceSpec.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(format_validation_error(exc, "service spec", source)) from None
    lenient = [i for i, c in enumerate(spec.rollout.criteria) if c.require == "no_harm"]
    if lenient:
        raise InvalidInput(
            f"service spec {source}: rollout.criteria[{lenient[0]}].require: 'no_harm' is no longer accepted: a "
            "criterion passes only on positive evidence that the candidate is within its tolerance, never "
            "because no harm was shown; remove `require`")
    return spec


def load_spec(path: Path) -> ServiceSpec:
    """Read and validate a service spec file."""
    return parse_spec(read_document(path, "service spec"), str(path))
