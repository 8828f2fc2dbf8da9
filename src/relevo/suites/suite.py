"""A service's test suite (YAML, beside the spec): what every version must show before it serves.

Five kinds of check, each optional: golden cases (inputs and the decision expected), regression
against the stable version on a labelled reference set (overall and per group of each protected
input), latency (p95 over a number of calls), robustness (inputs generated from the spec's
schema: edges, very long and unusual texts, missing optional fields) and fairness (the
selection-rate ratio across a protected input's groups). `smoke` names the golden cases that run
on a candidate before any traffic reaches it.

The reference set is a CSV or Parquet file beside the suite, read once, checked against the
spec (every row as the gateway would take it) and stored with the suite, so a run months later
reads the same cases. It may hold no personal field: it is stored, and personal data never is.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from relevo.audit.leaf import canonical_json
from relevo.documents import format_validation_error, read_document, refuse_placeholders
from relevo.errors import InvalidInput, NotFound
from relevo.gateway.validation import InputRejected, InputValidator
from relevo.registry.reference_data import read_table
from relevo.services.spec import ServiceSpec

CASE_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"
MAX_REFERENCE_ROWS = 100_000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GoldenCase(_Strict):
    """One case whose answer is known: these inputs must be decided `expect`."""

    name: str = Field(pattern=CASE_NAME, description="names the case in reports and refusals",
                      examples=["complete-file"])
    inputs: dict[str, Any] = Field(description="the request's inputs, as a client sends them",
                                   examples=[{"documents_complete": 1.0, "zoning_compatible": True}])
    expect: str = Field(description="the decision expected; one of the spec's decisions", examples=["admissible"])
    probability: float | None = Field(default=None, ge=0, le=1, description="the probability the model should give "
                                      "the expected decision", examples=[0.9])
    tolerance: float = Field(default=0.05, ge=0, le=1, description="how far from `probability` the model may be",
                             examples=[0.05])


class Reference(_Strict):
    """The labelled reference set: a file of cases with their true decision."""

    file: str = Field(description="CSV or Parquet, relative to the suite file", examples=["reference.csv"])
    label: str = Field(description="the column holding each case's true decision", examples=["outcome"])


class RegressionMetric(_Strict):
    """A metric the candidate may not lose more than `margin` of, against the stable version."""

    metric: Literal["accuracy", "recall"] = Field(description="accuracy (share decided rightly) or recall (share "
                                                  "of the cases truly `label` decided so)", examples=["accuracy"])
    label: str | None = Field(default=None, description="recall: the decision whose cases are counted",
                              examples=["admissible"])
    margin: float = Field(gt=0, lt=1, description="the largest drop allowed (0.02: two points)", examples=[0.02])
    group_margin: float | None = Field(default=None, gt=0, lt=1, description="the largest drop allowed within one "
                                       "group of a protected input (default: margin); a group has fewer cases, so "
                                       "its interval is wider", examples=[0.08])

    @model_validator(mode="after")
    def _label(self) -> "RegressionMetric":
        if (self.metric == "recall") != (self.label is not None):
            raise ValueError("recall needs a label, and only recall takes one")
        return self

    @property
    def title(self) -> str:
        """accuracy, or recall(label)."""
        return self.metric if self.label is None else f"{self.metric}({self.label})"


class Regression(_Strict):
    """Candidate against stable on the reference set: no metric may drop past its margin."""

    metrics: list[RegressionMetric] = Field(min_length=1, description="what may not drop, and by how much")
    by_group: bool = Field(default=True, description="also per group of each protected input", examples=[True])


class Latency(_Strict):
    """The 95th percentile of one-case calls under a budget."""

    calls: int = Field(default=200, ge=20, le=100_000, description="one-case calls timed", examples=[200])
    p95_ms: float = Field(gt=0, le=60_000, description="the budget for the 95th percentile", examples=[50])


class Robustness(_Strict):
    """Generated inputs: the version answers each the spec accepts, within the service's timeout."""

    examples: int = Field(default=100, ge=1, le=10_000, description="generated cases", examples=[100])


class Fairness(_Strict):
    """The ratio of the lowest group's rate of `label` to the highest's, above `min_ratio`."""

    attribute: str = Field(description="a protected input", examples=["age_band"])
    label: str = Field(description="the decision counted (the favourable one)", examples=["admissible"])
    min_ratio: float = Field(gt=0, le=1, description="the lowest ratio accepted (0.8: the four-fifths rule)",
                             examples=[0.8])


class Suite(_Strict):
    """A service's test suite."""

    alpha: float = Field(default=0.05, gt=0, lt=0.5, description="every interval's error rate", examples=[0.05])
    golden: list[GoldenCase] = Field(default_factory=list, description="cases whose answer is known")
    smoke: list[str] | None = Field(default=None, description="the golden cases run on a candidate before any "
                                    "traffic reaches it (default: all of them)", examples=[["complete-file"]])
    reference: Reference | None = Field(default=None, description="the labelled cases regression and fairness read")
    regression: Regression | None = Field(default=None, description="the candidate against the stable version "
                                          "on the reference set")
    latency: Latency | None = Field(default=None, description="the p95 of one-case calls under a budget")
    robustness: Robustness | None = Field(default=None, description="cases generated from the spec's schema")
    fairness: list[Fairness] = Field(default_factory=list, description="selection-rate ratios across a protected "
                                     "input's groups in the reference set")
    # Filled from reference.file when the suite is read: the cases and their true decisions.
    reference_rows: list[dict[str, Any]] = Field(default_factory=list, description="read from reference.file, "
                                                 "never written in the file: the reference cases", examples=[[]])
    reference_labels: list[str] = Field(default_factory=list, description="read from reference.file, never "
                                        "written in the file: their true decisions", examples=[[]])

    @model_validator(mode="after")
    def _coherent(self) -> "Suite":
        names = [case.name for case in self.golden]
        twice = sorted(n for n, count in Counter(names).items() if count > 1)
        if twice:
            raise ValueError(f"golden case names must be unique: {', '.join(twice)}")
        unknown = [n for n in (self.smoke or []) if n not in names]
        if unknown:
            raise ValueError(f"smoke names cases that are not golden cases: {', '.join(unknown)}")
        if (self.regression is not None or self.fairness) and self.reference is None:
            raise ValueError("regression and fairness read the reference set: give reference")
        if not (self.golden or self.regression or self.latency or self.robustness or self.fairness):
            raise ValueError("the suite is empty: give golden cases or at least one of regression, latency, "
                             "robustness, fairness")
        return self

    @property
    def smoke_cases(self) -> list[GoldenCase]:
        """The golden cases a candidate answers before any traffic reaches it."""
        return self.golden if self.smoke is None else [c for c in self.golden if c.name in self.smoke]


def suite_digest(suite: Suite) -> str:
    """sha256 of the suite's canonical JSON form (its reference cases included)."""
    return hashlib.sha256(canonical_json(suite.model_dump(mode="json"))).hexdigest()


def check_suite(suite: Suite, spec: ServiceSpec, source: str) -> None:
    """InvalidInput naming the case and field where the suite does not fit the service's spec."""
    problems: list[str] = []
    validator = InputValidator(spec)
    decisions = set(spec.decisions)
    for i, case in enumerate(suite.golden):
        where = f"golden[{i}] ({case.name})"
        if case.expect not in decisions:
            problems.append(f"{where}.expect: {case.expect!r} is not one of the decisions ({', '.join(spec.decisions)})")
        try:
            validator.validate(case.inputs)
        except InputRejected as exc:
            problems += [f"{where}.inputs.{field}: {message}" for field, message in exc.errors]
    for i, metric in enumerate(suite.regression.metrics if suite.regression else []):
        if metric.label is not None and metric.label not in decisions:
            problems.append(f"regression.metrics[{i}].label: {metric.label!r} is not one of the decisions")
    for i, check in enumerate(suite.fairness):
        field = spec.inputs.get(check.attribute)
        if field is None or not field.protected:
            problems.append(f"fairness[{i}].attribute: {check.attribute!r} is not a protected input of {spec.name}")
        if check.label not in decisions:
            problems.append(f"fairness[{i}].label: {check.label!r} is not one of the decisions")
    problems += _reference_problems(suite, spec, validator)
    if problems:
        shown = problems[:20] + ([f"... and {len(problems) - 20} more"] if len(problems) > 20 else [])
        raise InvalidInput(f"test suite {source} does not fit the {spec.name} spec:\n"
                           + "\n".join(f"  - {p}" for p in shown))


def _reference_problems(suite: Suite, spec: ServiceSpec, validator: InputValidator) -> list[str]:
    """What is wrong with the reference cases a suite carries (as the API receives them)."""
    rows, labels = suite.reference_rows, suite.reference_labels
    if len(rows) != len(labels):
        return [f"reference_rows has {len(rows)} cases but reference_labels {len(labels)}"]
    if len(rows) > MAX_REFERENCE_ROWS:
        return [f"reference_rows has {len(rows):,} cases; at most {MAX_REFERENCE_ROWS:,}"]
    if rows and suite.reference is None:
        return ["reference_rows are given without reference"]
    if suite.reference is not None and not rows and (suite.regression is not None or suite.fairness):
        return ["regression and fairness read the reference set, and it has no cases"]
    personal = {n for n, f in spec.inputs.items() if f.personal}
    for i, (row, label) in enumerate(zip(rows, labels)):
        held = sorted(name for name in personal if row.get(name) is not None)
        if held:
            return [f"reference_rows[{i}]: holds personal fields ({', '.join(held)}); the reference set is stored"]
        try:
            validator.validate(row)
        except InputRejected as exc:
            return [f"reference_rows[{i}].{field}: {message}" for field, message in exc.errors]
        if label not in spec.decisions:
            return [f"reference_labels[{i}]: {label!r} is not one of the decisions"]
    return []


def read_reference(path: Path, reference: Reference, spec: ServiceSpec, source: str
                   ) -> tuple[list[dict[str, Any]], list[str]]:
    """The reference set's cases (as the gateway would take them) and true decisions; InvalidInput
    naming the file, the row and the column where it does not match the spec."""
    if not path.exists():
        raise NotFound(f"test suite {source}: reference.file not found: {path}")
    table = read_table(path, "reference set")
    columns = table.column_names
    problems = []
    if reference.label not in columns:
        problems.append(f"it has no column {reference.label!r} (reference.label)")
    personal = [c for c in columns if c in spec.inputs and spec.inputs[c].personal]
    if personal:
        problems.append(f"it holds personal fields ({', '.join(personal)}): drop them, the reference set is stored")
    unknown = [c for c in columns if c != reference.label and c not in spec.inputs]
    if unknown:
        problems.append(f"columns {', '.join(unknown)} are not inputs of {spec.name}")
    missing = [n for n, f in spec.inputs.items() if f.required and not f.personal and n not in columns]
    if missing:
        problems.append(f"required inputs {', '.join(missing)} have no column")
    if table.num_rows == 0:
        problems.append("it has no rows")
    if table.num_rows > MAX_REFERENCE_ROWS:
        problems.append(f"it has {table.num_rows:,} rows; at most {MAX_REFERENCE_ROWS:,} are read")
    if problems:
        raise InvalidInput(f"test suite {source}: reference set {path}: " + "; ".join(problems))
    validator = InputValidator(spec)
    rows, labels = [], []
    for number, row in enumerate(table.to_pylist(), start=2):  # row 1 holds the column names
        label = row.pop(reference.label)
        inputs = {name: value for name, value in row.items() if value is not None}
        try:
            rows.append(validator.validate(inputs))
        except InputRejected as exc:
            raise InvalidInput(f"test suite {source}: reference set {path}, row {number}: "
                               + "; ".join(f"{field}: {message}" for field, message in exc.errors)) from None
        if label not in spec.decisions:
            raise InvalidInput(f"test suite {source}: reference set {path}, row {number}, column {reference.label}: "
                               f"{label!r} is not one of the decisions ({', '.join(spec.decisions)})")
        labels.append(label)
    return rows, labels


def parse_suite(data: dict, source: str, spec: ServiceSpec, folder: Path) -> Suite:
    """Validate a suite mapping against the service's spec, reading its reference set from folder."""
    refuse_placeholders(data, "test suite", source)
    if not isinstance(data, dict):
        raise InvalidInput(f"test suite {source} must be a mapping of sections")
    taken = sorted({"reference_rows", "reference_labels"} & set(data))
    if taken:
        raise InvalidInput(f"test suite {source}: {', '.join(taken)} are read from reference.file, not written")
    try:
        suite = Suite.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(format_validation_error(exc, "test suite", source)) from None
    if suite.reference is not None:
        rows, labels = read_reference(folder / suite.reference.file, suite.reference, spec, source)
        suite = suite.model_copy(update={"reference_rows": rows, "reference_labels": labels})
    check_suite(suite, spec, source)
    return suite


def load_suite(path: Path, spec: ServiceSpec) -> Suite:
    """Read and validate a test suite file for the service of spec."""
    return parse_suite(read_document(path, "test suite"), str(path), spec, path.parent)
