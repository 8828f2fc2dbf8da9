"""What a monitor finds in one window: every input field against the serving version's reference
profile and against the previous window; the decisions and the model's confidence against the
previous window; performance from feedback and from the model's probabilities; selection and
correction rates by protected group. Each part says plainly when it could not be computed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import numpy as np

from relevo.analysis.drift import (
    COMPARED,
    NO_REFERENCE,
    NOT_ENOUGH,
    PERSONAL,
    FieldDrift,
    compare_field,
    homogeneity,
    jensen_shannon,
    ks_against_sketch,
    psi,
)
from relevo.analysis.drift.categorical import aligned
from relevo.analysis.fixed_sample import exact_interval, selection_ratio
from relevo.analysis.performance import Estimated, Rate, expected_accuracy, rate, rate_gap
from relevo.analysis.profile import MAX_CATEGORIES, categories_profile, numeric_profile, present_sorted
from relevo.monitoring.collect import WindowData
from relevo.services.spec import ServiceSpec

ALPHA = 0.05  # every interval in a report is at 95%


@dataclass(frozen=True)
class Interval:
    """An estimate with its interval."""

    estimate: float | None
    lower: float
    upper: float


@dataclass(frozen=True)
class OutputDrift:
    """The serving version's decisions and confidence in this window against the previous one."""

    status: str
    detail: str
    decisions: dict[str, int]
    previous: dict[str, int] | None = None
    psi: float | None = None
    js: float | None = None
    shift_p: float | None = None  # could the two windows' decisions come from one distribution?
    confidence_ks: float | None = None
    confidence_ks_bound: float | None = None
    confidence_n: int = 0
    confidence_previous_n: int = 0


@dataclass(frozen=True)
class Performance:
    """How often case workers corrected the serving version, and what its probabilities predict."""

    decisions: int  # the serving version's decisions in the window
    reviewed: int  # of which a case worker confirmed or corrected
    corrections: Rate
    accuracy: Rate
    estimated: Estimated  # from the model's probabilities, over every decision that has them
    estimated_reviewed: Estimated  # the same over the reviewed ones, against what feedback showed
    calibration: str


@dataclass(frozen=True)
class GroupRate:
    """One group of a protected input: how often it got the label, and how often it was corrected."""

    group: str
    n: int
    selected: int
    rate: float
    lower: float
    upper: float
    reviewed: int
    corrected: int


@dataclass(frozen=True)
class Fairness:
    """Selection rates by group of one protected input, their ratio and the gap in correction rates."""

    attribute: str
    label: str
    status: str
    detail: str
    groups: list[GroupRate] = field(default_factory=list)
    ratio: Interval | None = None
    correction_gap: Interval | None = None


@dataclass(frozen=True)
class MonitorReport:
    """One window's findings."""

    service: str
    environment: str
    window: str  # as people read it
    window_key: str  # "1d", "7d", "last 5000"
    start: datetime | None
    end: datetime
    decisions: int
    answered_by: dict[str, int]
    version: str | None
    reference: str | None  # the reference profile's source, or None
    previous: str | None  # the previous window, as people read it, or None
    fields: list[FieldDrift]
    fields_previous: list[FieldDrift]
    output: OutputDrift
    performance: Performance
    fairness: list[Fairness]

    def field(self, name: str, against: str = "reference") -> FieldDrift | None:
        """One field's drift against the reference or the previous window."""
        found = self.fields if against == "reference" else self.fields_previous
        return next((f for f in found if f.field == name), None)


def _feature(name: str, data: WindowData, reference: dict[str, Any] | None) -> tuple[dict[str, Any], np.ndarray | None]:
    """One field's window profile (binned like the reference where numeric), and its present values
    in order (numeric fields)."""
    ref = ((reference or {}).get("features") or {}).get(name) or {}
    if name in data.numeric:
        present = present_sorted(data.values(name))
        edges = ref.get("edges") if ref.get("kind") == "numeric" else None
        return numeric_profile(present, edges=edges, total=data.decisions), present
    # A field the reference found to be an identifier keeps no values here either.
    limit = 0 if ref.get("high_cardinality") else MAX_CATEGORIES
    return categories_profile(data.categories.get(name, Counter()), data.decisions, limit), None


def _summary(data: WindowData, features: dict[str, Any]) -> dict[str, Any]:
    return {"rows": data.decisions, "features": features, "decisions": dict(sorted(_counts(data.labels).items())),
            "confidence": numeric_profile(np.asarray(data.confidence, dtype=float))}


def window_profile(spec: ServiceSpec, data: WindowData, reference: dict[str, Any] | None) -> dict[str, Any]:
    """The window's own profile (what the next window is compared with): each field binned like the
    reference where it is numeric, the decisions' counts and the confidence's sketch."""
    features = {name: _feature(name, data, reference)[0] for name in (*data.numeric, *data.categories)}
    return _summary(data, features)


def _counts(labels: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for label in labels:
        out[label] = out.get(label, 0) + 1
    return out


def _against_reference(spec: ServiceSpec, data: WindowData, reference: dict[str, Any] | None, min_sample: int,
                       what: str) -> tuple[dict[str, Any], list[FieldDrift]]:
    """The window's profile of each field, and each field against the reference: one field at a
    time, its values sorted once and read by the profile, KS and Wasserstein, then let go (a
    window's memory is its columns, not several copies of them)."""
    ref_features = (reference or {}).get("features", {})
    features: dict[str, Any] = {}
    out = []
    for name, field_spec in spec.inputs.items():
        present = None
        if name in data.numeric or name in data.categories:
            features[name], present = _feature(name, data, reference)
        out.append(compare_field(name, ref_features.get(name) if reference is not None else None,
                                 features.get(name, {}), values=present, min_sample=min_sample,
                                 personal=field_spec.personal, against=what))
    return features, out


def _against_previous(spec: ServiceSpec, profile: dict[str, Any], previous: dict[str, Any] | None,
                      min_sample: int) -> list[FieldDrift]:
    features = (previous or {}).get("features", {})
    return [compare_field(name, features.get(name) if previous is not None else None,
                          profile["features"].get(name, {}), min_sample=min_sample, personal=field_spec.personal,
                          against="the previous window") for name, field_spec in spec.inputs.items()]


def _output(profile: dict[str, Any], previous: dict[str, Any] | None, confidence: np.ndarray,
            min_sample: int) -> OutputDrift:
    now = profile["decisions"]
    n = sum(now.values())
    if previous is None:
        return OutputDrift(NOT_ENOUGH, "no previous window to compare with", now)
    before = previous.get("decisions", {})
    n_before = sum(before.values())
    if min(n, n_before) < min_sample:
        return OutputDrift(NOT_ENOUGH, f"{n} decisions here and {n_before} before; at least {min_sample} needed",
                           now, before)
    _, a, b = aligned(before, now)
    out = dict(status=COMPARED, detail=f"{n:,} decisions against {n_before:,}", decisions=now, previous=before,
               psi=psi(a, b), js=jensen_shannon(a, b), shift_p=homogeneity(a, b))
    sketch = previous.get("confidence", {})
    present = confidence[~np.isnan(confidence)]
    if sketch.get("quantiles") and present.size >= min_sample:
        before_n = int(round(sketch["count"] * (1 - sketch["missing_rate"])))
        out["confidence_ks"], out["confidence_ks_bound"] = ks_against_sketch(sketch["quantiles"], before_n, present)
        out["confidence_n"], out["confidence_previous_n"] = int(present.size), before_n
    return OutputDrift(**out)


def _performance(data: WindowData) -> Performance:
    outcomes = data.outcomes
    reviewed = [i for i, o in enumerate(outcomes) if o in ("confirmed", "corrected")]
    corrected = sum(outcomes[i] == "corrected" for i in reviewed)
    confidence = np.asarray(data.confidence, dtype=float)
    known = confidence[~np.isnan(confidence)]
    estimated = expected_accuracy(known, ALPHA)
    on_reviewed = confidence[reviewed] if reviewed else np.empty(0)
    estimated_reviewed = expected_accuracy(on_reviewed[~np.isnan(on_reviewed)], ALPHA)
    accuracy = rate(len(reviewed) - corrected, len(reviewed), ALPHA)
    if estimated_reviewed.estimate is None or accuracy.estimate is None:
        calibration = "no reviewed decision with the model's probabilities yet"
    elif accuracy.lower <= estimated_reviewed.estimate <= accuracy.upper:
        calibration = (f"consistent: on the {accuracy.n:,} reviewed decisions the probabilities predicted "
                       f"{estimated_reviewed.estimate:.1%} right, case workers confirmed {accuracy.estimate:.1%} "
                       f"({accuracy.lower:.1%} to {accuracy.upper:.1%})")
    else:
        calibration = (f"not consistent: on the {accuracy.n:,} reviewed decisions the probabilities predicted "
                       f"{estimated_reviewed.estimate:.1%} right, case workers confirmed {accuracy.estimate:.1%} "
                       f"({accuracy.lower:.1%} to {accuracy.upper:.1%}); the estimate before feedback is not to be "
                       "trusted for this model")
    return Performance(len(data.labels), len(reviewed), rate(corrected, len(reviewed), ALPHA), accuracy, estimated,
                       estimated_reviewed, calibration)


def _fairness(spec: ServiceSpec, data: WindowData) -> list[Fairness]:
    label = spec.fairness_label
    out = [Fairness(name, label or "", PERSONAL, "the field is also personal data: the log keeps only pseudonyms, "
                    "which form no groups") for name, f in spec.inputs.items() if f.protected and f.personal]
    for attribute, values in data.groups.items():
        if label is None:
            continue
        tallies: dict[str, list[int]] = {}
        for group, decided, outcome in zip(values, data.labels, data.outcomes):
            if group is None:
                continue
            t = tallies.setdefault(group, [0, 0, 0, 0])  # selected, n, corrected, reviewed
            t[0] += decided == label
            t[1] += 1
            t[2] += outcome == "corrected"
            t[3] += outcome in ("confirmed", "corrected")
        if len(tallies) < 2:
            out.append(Fairness(attribute, label, NOT_ENOUGH, f"{len(tallies)} group of {attribute} in the window; "
                                "comparing needs two"))
            continue
        ratio = selection_ratio({g: (t[0], t[1]) for g, t in tallies.items()}, ALPHA)
        bounds = _group_bounds(tallies)
        groups = [GroupRate(g, t[1], t[0], t[0] / t[1], *bounds[g], t[3], t[2]) for g, t in sorted(tallies.items())]
        reviewed = {g: (t[2], t[3]) for g, t in tallies.items() if t[3] > 0}
        gap = rate_gap(reviewed, ALPHA) if len(reviewed) >= 2 else None
        out.append(Fairness(attribute, label, COMPARED, f"{sum(t[1] for t in tallies.values()):,} decisions in "
                            f"{len(tallies)} groups", groups, Interval(ratio.estimate, ratio.lower, ratio.upper),
                            None if gap is None else Interval(gap.estimate, gap.lower, gap.upper)))
    return out


def _group_bounds(tallies: dict[str, list[int]]) -> dict[str, tuple[float, float]]:
    """Each group's selection rate interval, held together with the others (alpha / groups)."""
    k = len(tallies)
    return {g: exact_interval(t[0], t[1], ALPHA / k) for g, t in tallies.items()}


def build_report(spec: ServiceSpec, environment: str, data: WindowData, *, version: str | None,
                 reference: dict[str, Any] | None, reference_name: str | None, previous: dict[str, Any] | None,
                 previous_label: str | None, min_sample: int) -> tuple[MonitorReport, dict[str, Any]]:
    """The window's report and its own profile."""
    against = f"the reference profile of {version}" if version else "the reference profile"
    features, fields = _against_reference(spec, data, reference, min_sample, against)
    profile = _summary(data, features)
    fields_previous = _against_previous(spec, profile, previous, min_sample)
    if data.decisions == 0:
        fields = [_empty(f) for f in fields]
        fields_previous = [_empty(f) for f in fields_previous]
    elif reference is None:
        fields = [f if f.status != NO_REFERENCE else _why_no_reference(f, version) for f in fields]
    if previous is None and data.decisions:
        fields_previous = [_no_previous(f) for f in fields_previous]
    confidence = np.asarray(data.confidence, dtype=float)
    report = MonitorReport(
        service=spec.name, environment=environment, window=data.window.label, window_key=data.window.key,
        start=data.start, end=data.window.end, decisions=data.decisions, answered_by=dict(data.answered_by),
        version=version, reference=reference_name, previous=previous_label, fields=fields,
        fields_previous=fields_previous, output=_output(profile, previous, confidence, min_sample),
        performance=_performance(data), fairness=_fairness(spec, data))
    return report, profile


def _empty(found: FieldDrift) -> FieldDrift:
    if found.status == PERSONAL:
        return found
    return replace(found, status=NOT_ENOUGH, detail="no decision in the window")


def _why_no_reference(found: FieldDrift, version: str | None) -> FieldDrift:
    why = (f"{version} was registered without reference data (relevo register --reference-data)" if version
           else "no version answered in this window")
    return replace(found, detail=why)


def _no_previous(found: FieldDrift) -> FieldDrift:
    return replace(found, detail="no previous window to compare with") if found.status == NO_REFERENCE else found

