"""Ratio form for rate metrics: does the candidate cause more events than the stable version?

After Lindon & Malek (2022), "Anytime-valid inference for multinomial count data". Only events
(Y = 1: an error, a rejection, a decision over the latency budget) are looked at. Event i
arrives while the candidate holds traffic weight w_i; x_i = 1 when the candidate produced it.
If the candidate's event rate is rho times the stable's, then, whatever the base rate at that
moment, x_i is Bernoulli(q(rho, w_i)) with q(rho, w) = w*rho / (w*rho + 1 - w). Base-rate swings
over the day therefore cancel out, and weights may change at every step.

Harm test (H0: rho <= rho_tol). For each alternative rho1 > rho_tol the likelihood ratio
prod_i q(rho1,w_i)^x_i (1-q(rho1,w_i))^(1-x_i) / [same at rho_tol] has one-step mean
1 + (q(rho,w) - q(rho_tol,w)) (q(rho1,w) - q(rho_tol,w)) / (q(rho_tol,w)(1 - q(rho_tol,w))) <= 1
under H0, for any weight chosen before the event: a nonnegative supermartingale. A mixture of
them with prior weights fixed in advance is one too, so by Ville's inequality it reaches
1/alpha with probability at most alpha over the whole rollout, however often it is read.

Alternatives and prior (the same for every test here): rho1 = rho_tol * 2^(m/8), m = 1..48,
i.e. 9% apart, from +9% up to 64 times the tolerance, with prior weight proportional to 1/m
(log-uniform in the log-ratio: as much weight on 9-19% as on 19-41%, 41-100%, 2x-4x, ...).
A uniform prior would pay log 48 for every effect; this one pays ~2.2 nats for a +19% effect
and ~3.6 nats for a doubling, which is where rollouts need power.

Non-inferiority (H0: rho >= rho_tol) mirrors it with rho1 = rho_tol * 2^(-m/8).

Confidence sequence for rho: on a grid rho0 = 2^(k/16), |k| <= 96 (1/64 to 64, 4.4% apart),
each rho0 gets the two-sided test that mixes both sides with half the prior weight each
(alternatives falling off the grid are dropped, which only lowers the e-value). The interval is
the hull of the rho0 the current look does not reject, widened by one grid step.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from . import beta_mixture
from ._grid import accepted_hull, e_value, holding
from .looks import batch_starts, batch_sums, carried

STEP = np.log(2) / 8  # spacing of the alternatives on the log-rho scale
ALTERNATIVES = 48  # alternatives per side: up to 2^6 = 64 times the tolerance
GRID_HALF_WIDTH = 96  # confidence-sequence grid 2^(k/16), k = -96..96
GRID_LOG_RHO = np.arange(-GRID_HALF_WIDTH, GRID_HALF_WIDTH + 1) * (STEP / 2)
GRID_RHO = np.exp(GRID_LOG_RHO)

_M = np.arange(1, ALTERNATIVES + 1)
LOG_PRIOR = -np.log(_M) - np.log(np.sum(1.0 / _M))  # weights 1/m, normalised over m = 1..48


def q(rho, w):
    """Probability that an event came from the candidate when its rate is rho times the stable's."""
    rho, w = np.asarray(rho, dtype=float), np.asarray(w, dtype=float)
    return w * rho / (w * rho + 1 - w)


def rho_from_q(q_value, w):
    """The rate ratio at which an event comes from the candidate with probability q_value."""
    q_value, w = np.asarray(q_value, dtype=float), np.asarray(w, dtype=float)
    with np.errstate(divide="ignore"):
        return q_value * (1 - w) / (w * (1 - q_value))


def event_log_likelihood(log_rho, w, from_candidate, from_stable):
    """Log-likelihood of event counts at each log_rho (trailing axis) for weights w (broadcast)."""
    log_rho = np.asarray(log_rho, dtype=float)
    w = np.asarray(w, dtype=float)[..., None]
    log_w, log_1mw = np.log(w), np.log1p(-w)
    log_den = np.logaddexp(log_w + log_rho, log_1mw)  # log(w*rho + 1 - w), overflow-free
    return (np.asarray(from_candidate, dtype=float)[..., None] * (log_w + log_rho - log_den)
            + np.asarray(from_stable, dtype=float)[..., None] * (log_1mw - log_den))


def mixture_log_e(loglik_alternatives, loglik_null, log_prior=LOG_PRIOR):
    """Log of the prior-weighted mixture of likelihood ratios (alternatives on the last axis)."""
    from scipy.special import logsumexp  # imported when needed: scipy.special adds ~0.1 s to every command's start

    return logsumexp(log_prior + loglik_alternatives - np.asarray(loglik_null)[..., None], axis=-1)


def tolerance_log_rho(rho_tol: float) -> np.ndarray:
    """log rho at the null and its alternatives: rho_tol * 2^(m/8), m = -48..48 (index 48 is the null)."""
    return np.log(rho_tol) + np.arange(-ALTERNATIVES, ALTERNATIVES + 1) * STEP


def harm_log_e(loglik_tol):
    """Harm log e-value (H0 rho <= rho_tol) from log-likelihoods on tolerance_log_rho's points."""
    return mixture_log_e(loglik_tol[..., ALTERNATIVES + 1:], loglik_tol[..., ALTERNATIVES])


def noninferiority_log_e(loglik_tol):
    """Non-inferiority log e-value (H0 rho >= rho_tol) from log-likelihoods on tolerance_log_rho's points."""
    return mixture_log_e(loglik_tol[..., ALTERNATIVES - 1::-1], loglik_tol[..., ALTERNATIVES])


# For grid point j the alternatives sit at j + 2m and j - 2m (the grid is twice as fine as the
# alternatives). Out-of-grid ones get prior weight 0.
_J = np.arange(GRID_RHO.size)[:, None]
_IDX = np.concatenate([_J + 2 * _M, _J - 2 * _M], axis=1)
_INSIDE = (_IDX >= 0) & (_IDX < GRID_RHO.size)
_IDX = np.clip(_IDX, 0, GRID_RHO.size - 1)
_LOG_PRIOR_TWO_SIDED = np.where(_INSIDE, np.concatenate([LOG_PRIOR, LOG_PRIOR]) + np.log(0.5), -np.inf)


def two_sided_log_e(loglik_grid, index: int | None = None):
    """Two-sided log e-value at every confidence-sequence grid point, or only at one index."""
    from scipy.special import logsumexp  # imported when needed: scipy.special adds ~0.1 s to every command's start

    loglik_grid = np.asarray(loglik_grid)
    if index is not None:  # one point: avoids a (..., grid, 2*48) temporary in simulations
        alt = loglik_grid[..., _IDX[index]]
        return logsumexp(_LOG_PRIOR_TWO_SIDED[index] + alt, axis=-1) - loglik_grid[..., index]
    return logsumexp(_LOG_PRIOR_TWO_SIDED + loglik_grid[..., _IDX], axis=-1) - loglik_grid


@dataclass(frozen=True, eq=False)  # holds arrays: compare by identity
class RatioState:
    """Streaming ratio-form evidence; update() returns a new state and never mutates this one."""

    rho_tol: float
    alpha: float  # level of the confidence sequence (tests compare e-values to any 1/alpha)
    n_events: int
    n_candidate_events: int
    loglik_tol: np.ndarray  # at tolerance_log_rho(rho_tol)
    loglik_grid: np.ndarray  # at GRID_LOG_RHO
    max_log_harm: float  # running maxima over looks: an e-process that ever crossed stays crossed
    max_log_noninferiority: float

    @classmethod
    def start(cls, rho_tol: float = 1.0, alpha: float = 0.05) -> RatioState:
        """State before any event, for tolerance rho_tol and a confidence sequence at level alpha."""
        if not rho_tol > 0:
            raise ValueError(f"rho_tol must be positive, got {rho_tol}")
        if not 0 < alpha < 1:
            raise ValueError(f"alpha must lie strictly between 0 and 1, got {alpha}")
        return cls(float(rho_tol), float(alpha), 0, 0, np.zeros(2 * ALTERNATIVES + 1),
                   np.zeros(GRID_RHO.size), 0.0, 0.0)

    def update(self, x, w) -> RatioState:
        """Add one batch of events: x_i = 1 if from the candidate, w_i = its weight at the time."""
        return self.update_batches([0], x, w)

    def update_batches(self, starts, x, w) -> RatioState:
        """Add consecutive batches of events in one pass (batch j starts at row starts[j])."""
        x = np.atleast_1d(np.asarray(x))
        if x.size and not np.all((x == 0) | (x == 1)):
            raise ValueError("x must hold only 0 (event from stable) and 1 (event from candidate)")
        x = x.astype(float)
        return self._looks(batch_starts(starts, x.size), np.broadcast_to(np.asarray(w, dtype=float), x.shape), x, 1 - x)

    def update_counts(self, w, from_candidate, from_stable) -> RatioState:
        """Add events grouped by weight: at weight w[j], from_candidate[j] and from_stable[j] events."""
        w = np.atleast_1d(np.asarray(w, dtype=float))
        return self._looks(np.zeros(min(w.size, 1), dtype=int), w, from_candidate, from_stable)

    def _looks(self, starts: np.ndarray, w, from_candidate, from_stable) -> RatioState:
        """The state after batches of event counts by weight, one look each."""
        nc = np.broadcast_to(np.asarray(from_candidate, dtype=float), w.shape)
        ns = np.broadcast_to(np.asarray(from_stable, dtype=float), w.shape)
        if w.ndim != 1:
            raise ValueError(f"expected one-dimensional batches, got shape {w.shape}")
        if np.any(~((w > 0) & (w < 1))):
            # At weight 0 or 1 one arm gets no traffic, so an event says nothing about rho.
            raise ValueError("weights must lie strictly between 0 and 1; drop events at weight 0 or 1")
        if np.any(nc < 0) or np.any(ns < 0) or np.any(nc % 1) or np.any(ns % 1):
            raise ValueError("event counts must be non-negative integers")
        if starts.size == 0:
            return self
        loglik_tol = carried(self.loglik_tol, batch_sums(
            event_log_likelihood(tolerance_log_rho(self.rho_tol), w, nc, ns), starts))[1:]
        loglik_grid = carried(self.loglik_grid, batch_sums(event_log_likelihood(GRID_LOG_RHO, w, nc, ns), starts))[-1]
        return replace(
            self,
            n_events=self.n_events + int(nc.sum() + ns.sum()),
            n_candidate_events=self.n_candidate_events + int(nc.sum()),
            loglik_tol=loglik_tol[-1],
            loglik_grid=loglik_grid,
            max_log_harm=max(self.max_log_harm, float(np.max(harm_log_e(loglik_tol)))),
            max_log_noninferiority=max(self.max_log_noninferiority, float(np.max(noninferiority_log_e(loglik_tol)))),
        )

    @property
    def harm_e(self) -> float:
        """Largest value the harm e-process (H0: rho <= rho_tol) has reached so far."""
        return e_value(self.max_log_harm)

    @property
    def noninferiority_e(self) -> float:
        """Largest value the non-inferiority e-process (H0: rho >= rho_tol) has reached so far."""
        return e_value(self.max_log_noninferiority)

    @property
    def interval(self) -> tuple[float, float]:
        """Confidence sequence for rho at level alpha, this look's (0 and inf mean: beyond the grid),
        holding the estimate."""
        if not self.n_events:
            return 0.0, np.inf
        lower, upper = accepted_hull(GRID_RHO, two_sided_log_e(self.loglik_grid), np.log(1 / self.alpha), 0.0, np.inf)
        return holding(lower, upper, self.estimate)

    @property
    def estimate(self) -> float | None:
        """Maximum-likelihood rho on the grid, or None before any event."""
        return float(GRID_RHO[int(np.argmax(self.loglik_grid))]) if self.n_events else None


def constant_weight_log_e(from_candidate, from_stable, w: float, rho_tol: float,
                          side: str = "greater", a: float = 0.5, b: float = 0.5):
    """Closed-form Beta-mixture log e-value on q when every event came at one weight w."""
    # With a constant weight the events are i.i.d. Bernoulli(q(rho, w)) and q is monotone in
    # rho, so "rho <= rho_tol" is exactly "q <= q(rho_tol, w)": the Beta mixture on q applies.
    return beta_mixture.log_e_value(from_candidate, from_stable, float(q(rho_tol, w)), side, a, b)


def constant_weight_interval(from_candidate: int, from_stable: int, w: float, alpha: float,
                             a: float = 0.5, b: float = 0.5) -> tuple[float, float]:
    """Confidence sequence for rho at one constant weight: the Beta-mixture interval for q, mapped."""
    lower_q, upper_q = beta_mixture.confidence_interval(from_candidate, from_stable, alpha, a, b)
    return float(rho_from_q(lower_q, w)), float(rho_from_q(upper_q, w))
