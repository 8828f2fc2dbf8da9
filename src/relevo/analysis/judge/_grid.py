"""Reading a confidence interval off a grid of tests: the values no test has rejected.

A confidence sequence built by test inversion is the set of values whose e-process has never
reached 1/alpha. Computed on a grid, that set is reported as its hull widened by one grid step
on each side, so a true value lying between two grid points is not cut off by the rounding.
"""

from __future__ import annotations

import numpy as np


def accepted_hull(grid: np.ndarray, max_log_e: np.ndarray, level: float, below: float,
                  above: float) -> tuple[float, float]:
    """Hull of the grid points whose running log e-value stayed under level, widened one step."""
    accepted = np.flatnonzero(max_log_e < level)
    if accepted.size == 0:
        # Every grid point rejected (at most an alpha-probability event for the true value, or
        # a truth between grid points): keep the least-rejected point rather than an empty set.
        accepted = np.array([int(np.argmin(max_log_e))])
    first, last = int(accepted[0]), int(accepted[-1])
    lower = float(grid[first - 1]) if first > 0 else below
    upper = float(grid[last + 1]) if last < grid.size - 1 else above
    return lower, upper
