"""Reading a confidence interval off a grid of tests: the values the current look does not reject.

A confidence sequence built by test inversion is, at each look, the set of values whose
e-process is below 1/alpha (it misses the truth only if the truth's e-process ever reaches
1/alpha: Ville's inequality). Computed on a grid, that set is reported as its hull widened by one
grid step on each side, so a true value lying between two grid points is not cut off by the
rounding. The current look is used rather than the running intersection of all looks: both are
valid, but the intersection can be cut off for good by an early swing and then exclude the
estimate the same report shows, which reads as a contradiction.
"""

from __future__ import annotations

import numpy as np


def accepted_hull(grid: np.ndarray, log_e: np.ndarray, level: float, below: float,
                  above: float) -> tuple[float, float]:
    """Hull of the grid points whose log e-value is under level, widened one step."""
    accepted = np.flatnonzero(log_e < level)
    if accepted.size == 0:
        # Every grid point rejected (at most an alpha-probability event for the true value, or
        # a truth between grid points): keep the least-rejected point rather than an empty set.
        accepted = np.array([int(np.argmin(log_e))])
    first, last = int(accepted[0]), int(accepted[-1])
    lower = float(grid[first - 1]) if first > 0 else below
    upper = float(grid[last + 1]) if last < grid.size - 1 else above
    return lower, upper


def holding(lower: float, upper: float, estimate: float | None) -> tuple[float, float]:
    """The interval widened, if need be, to hold the estimate (a wider interval stays valid)."""
    if estimate is None:
        return lower, upper
    return min(lower, estimate), max(upper, estimate)


MAX_LOG_E = 700.0  # exp(700) ~ 1e304: beyond it a float overflows; any threshold is far below


def e_value(log_e: float) -> float:
    """An e-value from its log, capped where a float would overflow (to infinity, which would read
    as evidence a float could not hold)."""
    return float(np.exp(min(float(log_e), MAX_LOG_E)))
