"""Many looks in one pass: consecutive batches of observations, each batch one look with its own stake.

A state fed its batches one call at a time and the same state fed them all in one call must give
the same numbers bit for bit (a judgement made in increments equals one made at once), so each
batch's sums are taken over its own rows alone and running values are carried from batch to batch
in order, never regrouped.
"""

from __future__ import annotations

import numpy as np


def batch_starts(starts, size: int) -> np.ndarray:
    """Where each batch of `size` rows begins, checked: rising from 0, inside the rows (none without rows)."""
    starts = np.atleast_1d(np.asarray(starts, dtype=int))
    if size == 0:
        return starts[:0]
    if starts.size == 0 or starts[0] != 0 or np.any(np.diff(starts) <= 0) or starts[-1] >= size:
        raise ValueError(f"batch starts must rise from 0 and stay below {size}, got {starts.tolist()}")
    return starts


def batch_sums(values, starts: np.ndarray) -> np.ndarray:
    """Each batch's sum of values (rows down the first axis), over its own rows only."""
    return np.add.reduceat(np.asarray(values, dtype=float), starts, axis=0)


def carried(start, steps: np.ndarray) -> np.ndarray:
    """A running value before the first batch and after each one: start, start + steps[0], ... in order."""
    return np.cumsum(np.concatenate([np.asarray(start, dtype=float)[None], steps]), axis=0)
