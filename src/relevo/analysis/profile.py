"""Reference profiles: a compact, row-free summary of a data sample, for later drift checks.

A numeric column keeps quantile bin edges and counts, a quantile sketch, and moments; a
categorical column keeps category counts. No raw row is kept. Columns with very many distinct
values (identifiers, free text) keep only their count and missing rate, so a profile never
becomes a copy of personal data.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any, Mapping, Sequence

import numpy as np

BINS = 10
SKETCH_POINTS = 101  # a window's sketch: quantiles at 0%, 1%, ..., 100%
REFERENCE_POINTS = 1001  # a version's reference: every 0.1%, so drift against it is measured finely
MAX_CATEGORIES = 50


def sketch(ordered: np.ndarray, points: int) -> np.ndarray:
    """The quantiles of sorted values at points evenly spaced levels (numpy's default, linear)."""
    n = ordered.size
    h = (n - 1) * np.linspace(0.0, 1.0, points)
    low = np.floor(h).astype(np.int64)
    high = np.minimum(low + 1, n - 1)
    with np.errstate(over="ignore", invalid="ignore"):  # values near a float's limit
        return ordered[low] + (h - low) * (ordered[high] - ordered[low])


def present_sorted(values: np.ndarray) -> np.ndarray:
    """A numeric column's values without the missing ones (NaN), in order (one copy, sorted in place)."""
    values = np.asarray(values, dtype=float)
    present = values[~np.isnan(values)]
    present.sort()
    return present


def numeric_profile(values: np.ndarray, bins: int = BINS, edges: Sequence[float] | None = None,
                    points: int = SKETCH_POINTS, total: int | None = None) -> dict[str, Any]:
    """Profile of a numeric column; NaN counts as missing. With edges (another profile's), its values
    are counted in those bins instead of its own deciles, so the two compare bin by bin. Given
    total, values are the column's present values already sorted (present_sorted) and total its size."""
    if total is None:
        total = int(np.asarray(values).size)
        present = present_sorted(values)
    else:
        present = np.asarray(values, dtype=float)
    out: dict[str, Any] = {
        "kind": "numeric",
        "count": total,
        "missing_rate": (total - present.size) / total if total else 0.0,
    }
    if present.size == 0:
        return out | {"edges": [] if edges is None else list(edges), "counts": [], "quantiles": [], "min": None,
                      "max": None, "mean": None, "std": None}
    # Inner cut points at the sample's deciles, taken as observed values (no interpolation) so
    # a discrete column gets edges on its own values; repeated edges collapse.
    cuts = np.asarray(edges, dtype=float) if edges is not None else np.unique(
        np.quantile(present, np.linspace(0, 1, bins + 1)[1:-1], method="inverted_cdf"))
    # Bin i holds (edges[i-1], edges[i]]; the first and last bins are open-ended.
    counts = np.diff(np.r_[0, np.searchsorted(present, cuts, side="right"), present.size])
    with np.errstate(over="ignore", invalid="ignore"):  # values near a float's limit: no moments, not an error
        mean = float(present.mean())
        std = float(present.std(ddof=1)) if present.size > 1 else 0.0
    return out | {
        "edges": cuts.tolist(),
        "counts": counts.tolist(),
        "quantiles": sketch(present, points).tolist(),
        "min": float(present[0]),
        "max": float(present[-1]),
        "mean": mean if math.isfinite(mean) else None,
        "std": std if math.isfinite(std) else None,
    }


def categorical_profile(values: Sequence[Any], max_categories: int = MAX_CATEGORIES) -> dict[str, Any]:
    """Profile of a categorical column; None counts as missing."""
    return categories_profile(Counter(str(v) for v in values if v is not None), len(values), max_categories)


def categories_profile(counts: Mapping[str, int], total: int, max_categories: int = MAX_CATEGORIES) -> dict[str, Any]:
    """Profile of a categorical column from its values' counts and its size (the rest is missing)."""
    present = sum(counts.values())
    out: dict[str, Any] = {
        "kind": "categorical",
        "count": total,
        "missing_rate": (total - present) / total if total else 0.0,
        "distinct": len(counts),
    }
    if len(counts) > max_categories:
        # Too many values to be a category: likely an identifier; keep no values at all.
        return out | {"categories": {}, "high_cardinality": True}
    return out | {"categories": {str(k): int(counts[k]) for k in sorted(counts)}}


def profile_columns(columns: dict[str, Any], skip: set[str] = frozenset()) -> dict[str, Any]:
    """Profile each column (numpy float arrays are numeric, anything else categorical)."""
    features = {}
    for name, values in columns.items():
        if name in skip:
            continue
        if isinstance(values, np.ndarray) and values.dtype.kind in "fiu":
            features[name] = numeric_profile(values, points=REFERENCE_POINTS)
        else:
            features[name] = categorical_profile(list(values))
    rows = max((len(v) for v in columns.values()), default=0)
    return {"rows": rows, "features": features, "skipped": sorted(skip & set(columns))}
