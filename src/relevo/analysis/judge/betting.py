"""Betting confidence sequences for a bounded mean (Waudby-Smith & Ramdas, JRSS-B 2024).

Observation z_i is known in advance to lie in [lo_i, hi_i]. To test "the mean is m", a gambler
starts with capital 1 and before each observation stakes a fraction lambda_i chosen from the past
only; the capital is K_t(m) = prod_i (1 + lambda_i (z_i - m)). If every conditional mean is m,
K(m) is a nonnegative martingale, so by Ville's inequality it ever reaches 1/alpha with
probability at most alpha: {m : K_t(m) < 1/alpha} at every t is a confidence sequence.
The interval reported is the current look's set (a confidence sequence too: its miss is the
event that K(m) ever reaches 1/alpha), widened to hold the running mean if it falls outside.
Restricting lambda >= 0 makes K(tol) a supermartingale whenever every conditional mean is
<= tol, an e-process for "mean <= tol"; lambda <= 0 gives the mirror test for "mean >= tol".

Bets are the paper's aGRAPA (approximate growth-rate adaptive) ones: the stake maximising a
second-order expansion of E log(1 + lambda (z - m)),
    lambda(m) = (mu - m) / (var + (mu - m)^2),
with mu, var the mean and variance of every observation before the batch, regularised by one
prior pseudo-observation (the paper's choice), then clipped to [-c/(hi_i - m), c/(m - lo_i)] with
c = 1/2, so one observation never costs more than half the capital. Against an alternative it
bets towards the data and the capital grows at nearly the optimal rate; under the null it can
still only lose in expectation.

One stake per batch. A batch (one update) is one look: the stake is fixed from the batches
before it, so it is predictable, and the batch's capital factor is a product over its
observations, the same in any order. Decisions recorded at the same moment (a group commit, a
simulated batch) therefore give the same e-values however the store happens to order them, and
the moments are kept as sums (n, sum z, sum z^2) for the same reason.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ._grid import accepted_hull, e_value, holding
from .looks import batch_starts, batch_sums, carried

CLIP = 0.5  # largest share of the capital one observation may put at risk



def regularised_moments(n, total, sq, prior_mean: float, prior_var: float):
    """Mean and variance of n observations with sum total and sum of squares sq, with one prior
    pseudo-observation (prior_mean, prior_var) added: what the stake is computed from."""
    mean = (prior_mean + total) / (n + 1)
    # sum over the observations of (z - mean)^2, from the sums; cancellation can only make it a hair negative
    spread = np.maximum(sq - 2 * mean * total + n * mean**2, 0.0)
    return mean, (prior_var + spread) / (n + 1)


def batch_moments(z, batch: int | None = None, n0: int = 0, sum0: float = 0.0, sq0: float = 0.0,
                  prior_mean: float = 0.0, prior_var: float = 1.0):
    """Regularised mean and variance known before each z_i's batch, and the new (n, sum z, sum z^2).

    z's last axis is cut into batches of `batch` observations (None: z is one batch); every
    observation of a batch gets the moments of everything before that batch. The moments depend
    on sums only, so the observations' order within a batch does not matter.
    """
    z = np.asarray(z, dtype=float)
    k = z.shape[-1]
    size = k if batch is None else batch
    starts = np.arange(0, k, max(size, 1))
    if k == 0:
        empty = z[..., :0]
        return empty, empty, (n0, sum0, sq0)
    sums = np.add.reduceat(z, starts, axis=-1)
    squares = np.add.reduceat(z * z, starts, axis=-1)
    before_sum = sum0 + np.concatenate([np.zeros(sums.shape[:-1] + (1,)), np.cumsum(sums, axis=-1)[..., :-1]], axis=-1)
    before_sq = sq0 + np.concatenate([np.zeros(squares.shape[:-1] + (1,)), np.cumsum(squares, axis=-1)[..., :-1]],
                                     axis=-1)
    mean, var = regularised_moments(n0 + starts, before_sum, before_sq, prior_mean, prior_var)
    lengths = np.diff(np.append(starts, k))
    # (sum0 may be a column of per-run sums: keep the result one value per run)
    total = np.asarray(sum0 + np.sum(z, axis=-1, keepdims=True))[..., 0]
    total_sq = np.asarray(sq0 + np.sum(z * z, axis=-1, keepdims=True))[..., 0]
    return np.repeat(mean, lengths, axis=-1), np.repeat(var, lengths, axis=-1), (n0 + k, total, total_sq)


def bets(mean_before, var_before, m, lo, hi, side: str = "two-sided"):
    """aGRAPA stakes for testing mean m, clipped to the bounds; side 'greater' bets only upwards."""
    gap = mean_before - m
    lam = gap / (var_before + gap**2)
    with np.errstate(divide="ignore"):
        # At m == lo (or hi) z - m cannot be negative (positive), so that side needs no cap:
        # the division gives inf there, which is the right cap.
        upper = CLIP / (m - lo)
        lower = -CLIP / (hi - m)
    if side == "greater":
        lower = 0.0
    elif side == "less":
        upper = 0.0
    elif side != "two-sided":
        raise ValueError(f"side must be 'greater', 'less' or 'two-sided', got {side!r}")
    return np.clip(lam, lower, upper)


def log_growth(z, lam, m):
    """Log of each observation's capital factor 1 + lambda (z - m)."""
    return np.log1p(lam * (z - m))


@dataclass(frozen=True, eq=False)  # holds arrays: compare by identity
class BettingMean:
    """Streaming betting confidence sequence for a bounded mean, plus one-sided tests at tol."""

    alpha: float
    grid: np.ndarray  # candidate means, spanning the range the mean can take
    tol: float | None
    prior_mean: float
    prior_var: float
    n: int
    total: float  # running sum of z
    sq: float  # running sum of z^2 (for the regularised variance)
    log_capital: np.ndarray  # two-sided capital at each grid point
    log_harm: float  # capital betting upwards at tol (H0: mean <= tol)
    log_noninferiority: float  # capital betting downwards at tol (H0: mean >= tol)
    max_log_harm: float
    max_log_noninferiority: float

    @classmethod
    def start(cls, mean_lo: float, mean_hi: float, alpha: float = 0.05, tol: float | None = None,
              prior_mean: float | None = None, prior_var: float | None = None,
              points: int = 401) -> BettingMean:
        """State before any observation; the mean is known to lie in [mean_lo, mean_hi]."""
        if not mean_lo < mean_hi:
            raise ValueError(f"need mean_lo < mean_hi, got {mean_lo} and {mean_hi}")
        if not 0 < alpha < 1:
            raise ValueError(f"alpha must lie strictly between 0 and 1, got {alpha}")
        if tol is not None and not mean_lo <= tol <= mean_hi:
            raise ValueError(f"tol {tol} lies outside the mean's range [{mean_lo}, {mean_hi}]")
        # Defaults: the middle of the range and the largest variance a variable in it can have.
        prior_mean = (mean_lo + mean_hi) / 2 if prior_mean is None else prior_mean
        prior_var = (mean_hi - mean_lo) ** 2 / 4 if prior_var is None else prior_var
        grid = np.linspace(mean_lo, mean_hi, points)
        zeros = np.zeros(points)
        return cls(float(alpha), grid, tol, float(prior_mean), float(prior_var), 0, 0.0, 0.0,
                   zeros, 0.0, 0.0, 0.0, 0.0)

    def update(self, z, lo, hi) -> BettingMean:
        """Add one batch (one look) of observations z_i, each known beforehand to lie in [lo_i, hi_i]."""
        return self.update_batches([0], z, lo, hi)

    def update_batches(self, starts, z, lo, hi) -> BettingMean:
        """Add consecutive batches in one pass: batch j is z[starts[j]:starts[j + 1]], one look each.

        The same numbers, bit for bit, as update() called batch by batch: every batch's sums are
        its own, and the running ones are carried from batch to batch in order.
        """
        z = np.atleast_1d(np.asarray(z, dtype=float))
        lo = np.broadcast_to(np.asarray(lo, dtype=float), z.shape)
        hi = np.broadcast_to(np.asarray(hi, dtype=float), z.shape)
        if z.ndim != 1:
            raise ValueError(f"expected a one-dimensional batch, got shape {z.shape}")
        if np.any((z < lo) | (z > hi)):
            raise ValueError("an observation lies outside its stated bounds")
        if np.any((lo > self.grid[0]) | (hi < self.grid[-1])):
            raise ValueError("bounds must contain the whole range of the mean")
        starts = batch_starts(starts, z.size)
        if starts.size == 0:
            return self
        lengths = np.diff(np.append(starts, z.size))
        sums, squares = carried(self.total, batch_sums(z, starts)), carried(self.sq, batch_sums(z * z, starts))
        mean, var = regularised_moments(self.n + starts, sums[:-1], squares[:-1], self.prior_mean, self.prior_var)
        # A batch has one stake, so an observation's factor depends on (z, lo, hi) alone: the grid
        # is evaluated once per distinct triple in each batch and weighed by its count. Rates and
        # their contrasts take a handful of values, so a batch costs a few grid rows, not one a row.
        batch = np.repeat(np.arange(starts.size), lengths)
        rows, counts = np.unique(np.column_stack([batch, z, lo, hi]), axis=0, return_counts=True)
        row_batch, zu, lou, hiu = rows[:, 0].astype(int), rows[:, 1], rows[:, 2], rows[:, 3]
        row_starts = np.flatnonzero(np.diff(row_batch, prepend=-1))
        col = (slice(None), None)  # distinct rows down, grid points across
        lam = bets(mean[row_batch][col], var[row_batch][col], self.grid, lou[col], hiu[col])
        log_capital = carried(self.log_capital, batch_sums(counts[col] * log_growth(zu[col], lam, self.grid),
                                                           row_starts))[-1]
        new = dict(n=self.n + z.size, total=float(sums[-1]), sq=float(squares[-1]), log_capital=log_capital)
        if self.tol is not None:
            def path(start: float, side: str) -> np.ndarray:
                stake = bets(mean[row_batch], var[row_batch], self.tol, lou, hiu, side)
                return carried(start, batch_sums(counts * log_growth(zu, stake, self.tol), row_starts))

            harm, non = path(self.log_harm, "greater"), path(self.log_noninferiority, "less")
            new |= dict(log_harm=float(harm[-1]), log_noninferiority=float(non[-1]),
                        max_log_harm=max(self.max_log_harm, float(harm[1:].max())),
                        max_log_noninferiority=max(self.max_log_noninferiority, float(non[1:].max())))
        return replace(self, **new)

    @property
    def harm_e(self) -> float | None:
        """Largest value the e-process for "mean <= tol" has reached (None without a tol)."""
        return None if self.tol is None else e_value(self.max_log_harm)

    @property
    def noninferiority_e(self) -> float | None:
        """Largest value the e-process for "mean >= tol" has reached (None without a tol)."""
        return None if self.tol is None else e_value(self.max_log_noninferiority)

    @property
    def interval(self) -> tuple[float, float]:
        """Confidence sequence for the mean at level alpha: the grid points not rejected at this look
        (their hull, widened one step), holding the running mean."""
        lower, upper = accepted_hull(self.grid, self.log_capital, np.log(1 / self.alpha),
                                     float(self.grid[0]), float(self.grid[-1]))
        return holding(lower, upper, self.estimate)

    @property
    def estimate(self) -> float | None:
        """Plain running mean, or None before any observation."""
        return self.total / self.n if self.n else None
