"""Betting confidence sequences for a bounded mean (Waudby-Smith & Ramdas, JRSS-B 2024).

Observation z_i is known in advance to lie in [lo_i, hi_i]. To test "the mean is m", a gambler
starts with capital 1 and before each observation stakes a fraction lambda_i chosen from the past
only; the capital is K_t(m) = prod_i (1 + lambda_i (z_i - m)). If every conditional mean is m,
K(m) is a nonnegative martingale, so by Ville's inequality it ever reaches 1/alpha with
probability at most alpha: {m : K(m) has never reached 1/alpha} is a confidence sequence.
Restricting lambda >= 0 makes K(tol) a supermartingale whenever every conditional mean is
<= tol, an e-process for "mean <= tol"; lambda <= 0 gives the mirror test for "mean >= tol".

Bets are the paper's aGRAPA (approximate growth-rate adaptive) ones: the stake maximising a
second-order expansion of E log(1 + lambda (z - m)),
    lambda_i(m) = (mu - m) / (var + (mu - m)^2),
with mu, var the running mean and variance of z_1..z_{i-1}, regularised by one prior
pseudo-observation (the paper's choice), then clipped to [-c/(hi_i - m), c/(m - lo_i)] with
c = 1/2, so one observation never costs more than half the capital. Against an alternative it
bets towards the data and the capital grows at nearly the optimal rate; under the null it can
still only lose in expectation.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ._grid import accepted_hull

CLIP = 0.5  # largest share of the capital one observation may put at risk


def running_moments(z, n0: int = 0, sum0: float = 0.0, sq0: float = 0.0, prior_mean: float = 0.0,
                    prior_var: float = 1.0):
    """Regularised mean and variance before each z_i (last axis), and the new (n, sum, sq)."""
    z = np.asarray(z, dtype=float)
    k = n0 + np.arange(1, z.shape[-1] + 1)  # observations seen once z_i is included
    cum = sum0 + np.cumsum(z, axis=-1)
    mean_after = (prior_mean + cum) / (k + 1)
    cum_sq = sq0 + np.cumsum((z - mean_after) ** 2, axis=-1)
    var_after = (prior_var + cum_sq) / (k + 1)
    # Shift by one so the bet on z_i uses z_1..z_{i-1} only: that is what makes it predictable.
    first_mean = np.broadcast_to((prior_mean + sum0) / (n0 + 1), z.shape[:-1] + (1,))
    first_var = np.broadcast_to((prior_var + sq0) / (n0 + 1), z.shape[:-1] + (1,))
    mean_before = np.concatenate([first_mean, mean_after[..., :-1]], axis=-1)
    var_before = np.concatenate([first_var, var_after[..., :-1]], axis=-1)
    if z.shape[-1] == 0:
        return mean_before[..., :0], var_before[..., :0], (n0, sum0, sq0)
    return mean_before, var_before, (n0 + z.shape[-1], cum[..., -1], cum_sq[..., -1])


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
    sq: float  # running sum of squared deviations (for the regularised variance)
    log_capital: np.ndarray  # two-sided capital at each grid point
    max_log_capital: np.ndarray
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
                   zeros, zeros, 0.0, 0.0, 0.0, 0.0)

    def update(self, z, lo, hi) -> BettingMean:
        """Add a batch of observations z_i, each known beforehand to lie in [lo_i, hi_i]."""
        z = np.atleast_1d(np.asarray(z, dtype=float))
        lo = np.broadcast_to(np.asarray(lo, dtype=float), z.shape)
        hi = np.broadcast_to(np.asarray(hi, dtype=float), z.shape)
        if z.ndim != 1:
            raise ValueError(f"expected a one-dimensional batch, got shape {z.shape}")
        if np.any((z < lo) | (z > hi)):
            raise ValueError("an observation lies outside its stated bounds")
        if np.any((lo > self.grid[0]) | (hi < self.grid[-1])):
            raise ValueError("bounds must contain the whole range of the mean")
        mean_b, var_b, (n, total, sq) = running_moments(z, self.n, self.total, self.sq,
                                                        self.prior_mean, self.prior_var)
        col = (slice(None), None)  # observations down, grid points across
        lam = bets(mean_b[col], var_b[col], self.grid, lo[col], hi[col])
        log_capital = self.log_capital + log_growth(z[col], lam, self.grid).sum(0)
        new = dict(n=int(n), total=float(total), sq=float(sq), log_capital=log_capital,
                   max_log_capital=np.maximum(self.max_log_capital, log_capital))
        if self.tol is not None:
            up = bets(mean_b, var_b, self.tol, lo, hi, "greater")
            down = bets(mean_b, var_b, self.tol, lo, hi, "less")
            log_harm = self.log_harm + float(log_growth(z, up, self.tol).sum())
            log_non = self.log_noninferiority + float(log_growth(z, down, self.tol).sum())
            new |= dict(log_harm=log_harm, log_noninferiority=log_non,
                        max_log_harm=max(self.max_log_harm, log_harm),
                        max_log_noninferiority=max(self.max_log_noninferiority, log_non))
        return replace(self, **new)

    @property
    def harm_e(self) -> float | None:
        """Largest value the e-process for "mean <= tol" has reached (None without a tol)."""
        return None if self.tol is None else float(np.exp(self.max_log_harm))

    @property
    def noninferiority_e(self) -> float | None:
        """Largest value the e-process for "mean >= tol" has reached (None without a tol)."""
        return None if self.tol is None else float(np.exp(self.max_log_noninferiority))

    @property
    def interval(self) -> tuple[float, float]:
        """Confidence sequence for the mean at level alpha (never-rejected grid hull, widened)."""
        return accepted_hull(self.grid, self.max_log_capital, np.log(1 / self.alpha),
                             float(self.grid[0]), float(self.grid[-1]))

    @property
    def estimate(self) -> float | None:
        """Plain running mean, or None before any observation."""
        return self.total / self.n if self.n else None
