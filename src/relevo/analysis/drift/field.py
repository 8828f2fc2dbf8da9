"""One input field's drift: its window's values against the reference profile, or against the previous
window's profile, with a status that says plainly when a field cannot be compared and why.

A field is compared only on evidence: below the minimum sample, without a reference, for a
personal field (never profiled, only pseudonyms in the log) or one with too many values to be a
category (an identifier), the status says so and no statistic is given, so nothing can raise a
false alarm on it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from dataclasses import field as default
from typing import Any, Sequence

import numpy as np

from relevo.analysis.drift.categorical import category_shift, homogeneity
from relevo.analysis.drift.numeric import ks_against_sketch, ks_between_sketches, psi, sketch_cdf, wasserstein_normed

COMPARED = "compared"
NOT_ENOUGH = "not enough data"
NO_REFERENCE = "no reference"
PERSONAL = "not monitored: personal data"
TOO_MANY = "not monitored: too many distinct values"


@dataclass(frozen=True)
class Shares:
    """A field's distribution on both sides, bin by bin or category by category (for plots)."""

    labels: list[str]
    reference: list[float]
    current: list[float]


@dataclass(frozen=True)
class FieldDrift:
    """How one field moved from a reference (the version's profile, or the previous window)."""

    field: str
    kind: str  # numeric | categorical
    status: str  # compared, or why not
    detail: str
    n: int  # values present in the window
    missing_rate: float | None
    reference_missing_rate: float | None
    reference_n: int = 0  # values the reference had
    shift_p: float | None = None  # could the window and the reference come from one distribution?
    psi: float | None = None
    ks: float | None = None
    ks_bound: float | None = None
    wasserstein: float | None = None
    wasserstein_bound: float | None = None
    js: float | None = None
    chi_square: float | None = None
    chi_square_p: float | None = None
    new_categories: dict[str, int] = default(default_factory=dict)
    new_share: float | None = None
    shares: Shares | None = None

    @property
    def compared(self) -> bool:
        """True when statistics were computed."""
        return self.status == COMPARED


def _bin_labels(edges: Sequence[float]) -> list[str]:
    if not edges:
        return ["all"]
    cuts = [f"{e:.4g}" for e in edges]
    return [f"<= {cuts[0]}", *[f"{a} to {b}" for a, b in zip(cuts[:-1], cuts[1:])], f"> {cuts[-1]}"]


def _shares(counts: Sequence[float]) -> list[float]:
    total = float(sum(counts))
    return [c / total if total else 0.0 for c in counts]


def _not_compared(name: str, kind: str, status: str, detail: str, window: dict[str, Any],
                  reference: dict[str, Any] | None) -> FieldDrift:
    n = int(round(window.get("count", 0) * (1 - window.get("missing_rate", 0.0)))) if window else 0
    return FieldDrift(name, kind, status, detail, n, window.get("missing_rate") if window else None,
                      reference.get("missing_rate") if reference else None)


def _present(profile: dict[str, Any]) -> int:
    return int(round(profile.get("count", 0) * (1 - profile.get("missing_rate", 0.0))))


def compare_field(name: str, reference: dict[str, Any] | None, window: dict[str, Any], *,
                  values: np.ndarray | None = None, min_sample: int = 100, personal: bool = False,
                  against: str = "the reference") -> FieldDrift:
    """Compare a field's window profile with a reference profile (the version's, or the previous
    window's); values, when given, are the window's present numeric values in order
    (profile.present_sorted), for exact-sample KS and Wasserstein."""
    kind = (reference or window or {}).get("kind", "categorical")
    if personal:
        return _not_compared(name, kind, PERSONAL, "personal data is never profiled; the log keeps only "
                             "pseudonyms or nothing", window, None)
    if reference is None:
        return _not_compared(name, kind, NO_REFERENCE, f"{against} has no profile of this field", window, None)
    if reference.get("high_cardinality") or window.get("high_cardinality"):
        return _not_compared(name, kind, TOO_MANY, "more distinct values than a category has (an identifier?)",
                             window, reference)
    n, n_ref = _present(window), _present(reference)
    if n_ref == 0:
        return _not_compared(name, kind, NO_REFERENCE, f"{against} has no value of this field", window, reference)
    if n < min_sample:
        return _not_compared(name, kind, NOT_ENOUGH, f"{n} values in the window; at least {min_sample} needed",
                             window, reference)
    if window.get("kind") != kind:
        return _not_compared(name, kind, NO_REFERENCE, f"{against} holds {kind} values, the window "
                             f"{window.get('kind')} ones", window, reference)
    base = dict(field=name, kind=kind, status=COMPARED, n=n, missing_rate=window["missing_rate"],
                reference_missing_rate=reference["missing_rate"], reference_n=n_ref)
    if kind == "categorical":
        shift = category_shift(reference["categories"], window["categories"])
        labels = sorted(set(reference["categories"]) | set(window["categories"]))
        return FieldDrift(**base, detail=f"{n:,} values against {n_ref:,}", psi=shift.psi, js=shift.js,
                          chi_square=shift.chi_square, chi_square_p=shift.chi_square_p, new_categories=shift.new,
                          new_share=shift.new_share, shift_p=shift.shift_p,
                          shares=Shares(labels, _shares([reference["categories"].get(x, 0) for x in labels]),
                                        _shares([window["categories"].get(x, 0) for x in labels])))
    same_bins = list(reference["edges"]) == list(window["edges"])
    if values is not None:
        ks, ks_bound = ks_against_sketch(reference["quantiles"], n_ref, values, presorted=True)
    else:
        ks, ks_bound = ks_between_sketches(reference["quantiles"], n_ref, window["quantiles"], n)
    w, w_bound = _wasserstein(reference, n_ref, values, window, n)
    counts = window["counts"] if same_bins else _counts_from_sketch(window["quantiles"], reference["edges"], n)
    return FieldDrift(**base, detail=f"{n:,} values against {n_ref:,}", psi=psi(reference["counts"], counts),
                      ks=ks, ks_bound=ks_bound, wasserstein=w, wasserstein_bound=w_bound,
                      shift_p=homogeneity(reference["counts"], counts),
                      shares=Shares(_bin_labels(reference["edges"]), _shares(reference["counts"]), _shares(counts)))


def _wasserstein(reference: dict[str, Any], n_ref: int, values: np.ndarray | None, window: dict[str, Any],
                 n: int) -> tuple[float | None, float | None]:
    """The normalised Wasserstein distance and its bound, or nothing where the reference does not vary
    or the values are too large to measure."""
    if not reference.get("std") or not math.isfinite(reference["std"]):
        return None, None
    try:
        if values is not None:
            return wasserstein_normed(reference["quantiles"], n_ref, reference["std"], values, presorted=True)
        return wasserstein_normed(reference["quantiles"], n_ref, reference["std"], window["quantiles"], current_n=n)
    except ValueError:
        return None, None


def _counts_from_sketch(quantiles: Sequence[float], edges: Sequence[float], n: int) -> list[float]:
    """Approximate counts of a sample known by its sketch in other bins (another version's)."""
    levels = np.r_[0.0, sketch_cdf(quantiles, np.asarray(edges, dtype=float)), 1.0]
    return list(np.diff(levels) * n)
