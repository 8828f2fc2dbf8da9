"""Drift of a numeric field, from stored profiles: PSI on the reference's bins, Kolmogorov-Smirnov and
a normalised Wasserstein distance from quantile sketches.

A reference profile keeps no rows: its bins' counts and a sketch of its quantile function at
0%, 1%, ..., 100% (`relevo.analysis.profile`). The statistics against it are computed from those,
with stated error bounds:

- KS: the profile's CDF is known at each sketch point up to 1/n of the reference's size, and lies
  between two neighbouring points' levels in between; interpolating it is off by at most one step
  of the sketch (1/100) plus 1/n_ref anywhere. The KS distance against it is within that bound of
  the exact two-sample KS distance; two sketches, within the sum of their bounds.
- Wasserstein-1 is the area between the two quantile functions, integrated exactly; the sketch's
  quantile function is within one step's range of the true one, so the error is at most
  (max - min) (1/100 + 1/n) of the reference, divided by its standard deviation once normalised.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

BLOCK = 1 << 17  # values handled at a time in the exact statistics, which bounds their scratch memory
PSI_FLOOR = 1e-4  # an empty bin's share, so that log(share) stays finite (as Evidently's PSI does)


def psi(expected: ArrayLike, actual: ArrayLike, floor: float = PSI_FLOOR) -> float:
    """Population stability index of actual against expected counts (or shares) over the same bins."""
    e = np.asarray(expected, dtype=float)
    a = np.asarray(actual, dtype=float)
    if e.sum() <= 0 or a.sum() <= 0:
        raise ValueError("PSI needs counts in both distributions")
    e = np.maximum(e / e.sum(), floor)
    a = np.maximum(a / a.sum(), floor)
    return float(np.sum((a - e) * np.log(a / e)))


def _levels(quantiles: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The sketch as a CDF: its distinct points, and the lowest and highest level at each (ties)."""
    p = np.linspace(0.0, 1.0, quantiles.size)
    points, first = np.unique(quantiles, return_index=True)
    last = np.r_[first[1:] - 1, quantiles.size - 1]
    return points, p[first], p[last]


def sketch_cdf(quantiles: ArrayLike, x: np.ndarray, *, left: bool = False) -> np.ndarray:
    """The CDF a quantile sketch implies at x: linear between its points, stepping at tied points;
    left=True gives the limit from the left (P(X < x) rather than P(X <= x))."""
    q = np.asarray(quantiles, dtype=float)
    x = np.asarray(x, dtype=float)
    points, low, high = _levels(q)
    j = np.searchsorted(points, x, side="left" if left else "right") - 1  # the last point below (or at) x
    out = np.empty_like(x)
    below, above = j < 0, j >= points.size - 1
    out[below] = 0.0
    out[above] = 1.0
    inside = ~(below | above)
    if inside.any():
        k = j[inside]
        span = points[k + 1] - points[k]
        share = (x[inside] - points[k]) / span
        out[inside] = high[k] + share * (low[k + 1] - high[k])
    if not left:
        at_last = x == points[-1]
        out[at_last] = 1.0
    return out


def sketch_bound(points: int, n: int) -> float:
    """How far a sketch's CDF can be from its sample's: one step of the sketch plus 1/n."""
    return 1.0 / (points - 1) + (1.0 / n if n else 1.0)


def ks_against_sketch(quantiles: ArrayLike, n_reference: int, values: np.ndarray, *,
                      presorted: bool = False) -> tuple[float, float]:
    """(KS distance, its error bound) between a reference sketch and a sample's exact CDF (values
    already in order when presorted)."""
    x = np.asarray(values, dtype=float) if presorted else np.sort(np.asarray(values, dtype=float))
    q = np.asarray(quantiles, dtype=float)
    n = x.size
    if n == 0 or q.size < 2:
        raise ValueError("KS needs a sketch and at least one value")
    # The supremum lies at a sample value or a sketch point, from one side or the other. At each
    # distinct value the sample's CDF is known from the run of that value in the sorted sample.
    # Taken BLOCK distinct values at a time: a million values need no dozen arrays of a million.
    first = np.flatnonzero(np.r_[True, x[1:] != x[:-1]])
    d = 0.0
    for a in range(0, first.size, BLOCK):
        starts = first[a:a + BLOCK]
        ends = first[a + 1:a + BLOCK + 1]
        if ends.size < starts.size:
            ends = np.r_[ends, n]
        distinct = x[starts]
        right = sketch_cdf(q, distinct)
        d = max(d, float(np.max(np.abs(ends / n - right))))
        on_points = np.isin(distinct, q)  # the sketch's two sides differ only at its own (tied) points
        right[on_points] = sketch_cdf(q, distinct[on_points], left=True)
        d = max(d, float(np.max(np.abs(starts / n - right))))
    points = np.unique(q)
    at_right = np.searchsorted(x, points, side="right") / n
    at_left = np.searchsorted(x, points, side="left") / n
    d = max(d, float(np.max(np.abs(at_right - sketch_cdf(q, points)))),
            float(np.max(np.abs(at_left - sketch_cdf(q, points, left=True)))))
    return d, sketch_bound(q.size, n_reference)


def ks_between_sketches(a: ArrayLike, n_a: int, b: ArrayLike, n_b: int) -> tuple[float, float]:
    """(KS distance, its error bound) between two samples known by their sketches."""
    qa, qb = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    at = np.unique(np.r_[qa, qb])  # both CDFs are linear between these points
    d = max(np.max(np.abs(sketch_cdf(qa, at) - sketch_cdf(qb, at))),
            np.max(np.abs(sketch_cdf(qa, at, left=True) - sketch_cdf(qb, at, left=True))))
    return float(d), sketch_bound(qa.size, n_a) + sketch_bound(qb.size, n_b)


def dkw(n: int, alpha: float) -> float:
    """How far a sample's CDF can be from its population's, at once everywhere, with probability at
    least 1 - alpha (the Dvoretzky-Kiefer-Wolfowitz inequality, Massart's constant)."""
    return math.sqrt(math.log(2 / alpha) / (2 * n)) if n else 1.0


def _area(widths: np.ndarray, d0: np.ndarray, d1: np.ndarray) -> float:
    """The integral of |d| over intervals where d moves linearly from d0 to d1."""
    a0, a1 = np.abs(d0), np.abs(d1)
    crossing = d0 * d1 < 0
    # Where d changes sign inside an interval, the two triangles' areas; elsewhere the trapezium's.
    each = np.where(crossing, (d0 ** 2 + d1 ** 2) / (2 * np.where(crossing, a0 + a1, 1.0)), (a0 + a1) / 2)
    return float(np.sum(widths * each))


def wasserstein_normed(reference: ArrayLike, reference_n: int, reference_std: float, current: ArrayLike, *,
                       current_n: int | None = None, presorted: bool = False) -> tuple[float, float]:
    """(Wasserstein-1 distance divided by the reference's standard deviation, its error bound), from
    the reference's sketch and the current sample's values, or, given current_n, its sketch.

    The distance is the area between the two quantile functions, integrated exactly: the sketch's
    is linear between its points, a sample's is a step at each value (so one outlier counts in
    full). The bound is the sketches' error alone: a sketch's quantile function stays within one
    step's range of its sample's (range / 100), plus one order statistic's slip (range / n).
    """
    q = np.asarray(reference, dtype=float)
    if reference_std <= 0 or not np.isfinite(reference_std):
        raise ValueError("a normalised Wasserstein distance needs a reference that varies")
    p = np.linspace(0.0, 1.0, q.size)
    bound = (q[-1] - q[0]) * (1 / (q.size - 1) + 1 / max(reference_n, 1))
    if current_n is not None:
        c = np.asarray(current, dtype=float)
        pc = np.linspace(0.0, 1.0, c.size)
        u = np.union1d(p, pc)
        d = np.interp(u, p, q) - np.interp(u, pc, c)
        area = _area(np.diff(u), d[:-1], d[1:])
        bound += (c[-1] - c[0]) * (1 / (c.size - 1) + 1 / max(current_n, 1))
    else:
        x = np.asarray(current, dtype=float) if presorted else np.sort(np.asarray(current, dtype=float))
        n = x.size
        if n == 0:
            raise ValueError("a Wasserstein distance needs at least one value")
        area = 0.0
        for a in range(0, n, BLOCK):  # the sample's pieces BLOCK at a time, the sketch's points among them
            b = min(a + BLOCK, n)
            steps = np.arange(a, b + 1) / n
            inside = p[(p > steps[0]) & (p < steps[-1])]
            u = np.insert(steps, np.searchsorted(steps, inside), inside)  # both in order: merged, not sorted
            # The sample's quantile function is x[i] on [i/n, (i+1)/n): read it at each piece's middle.
            value = x[np.clip(((u[:-1] + u[1:]) / 2 * n).astype(np.int64), a, b - 1)]
            area += _area(np.diff(u), np.interp(u[:-1], p, q) - value, np.interp(u[1:], p, q) - value)
    if not (math.isfinite(area) and math.isfinite(bound)):
        raise ValueError("values too large for a Wasserstein distance")
    return area / reference_std, float(bound / reference_std)
