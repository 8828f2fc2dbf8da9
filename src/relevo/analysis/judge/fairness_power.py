"""Planning a fairness criterion before a step runs: when is a fair candidate shown fair?

The judge reads a fairness criterion from the candidate's decisions alone
(relevo.rollouts.judging): per group of the protected input, a time-uniform interval for the
group's selection rate at alpha / (groups seen) (proportion.group_rate_bounds), and from those
the interval of the disparate-impact ratio min_g p_g / max_g p_g. It passes once the interval's
lower end reaches the criterion's `min_ratio` with the minimum sample in, and rolls back once its
upper end is below it. This module runs that reading by Monte Carlo, many runs at once, on
decisions drawn with each group's share of traffic and selection rate:

- when does a candidate with the assumed rates (the stable version's, observed per group, or
  equal rates where none were seen) pass in 80% of runs, and how many decisions would that take
  when the step is too short;
- does the step catch a candidate whose ratio is twice as far below 1 as the limit allows
  (0.6 for a limit of 0.8; at least half the limit), made by lowering the selection rate of the
  group with the least traffic (the hardest to see), in 80% of runs.

Looks are taken on a grid 15% apart in decisions, not at every judgement, so a pass is found at
the first grid look after the judge would see it: `needed` errs long, by at most 15%.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

import numpy as np

from .beta_mixture import log_e_value
from .alone import CandidateAlone
from .power import POWER, RUNS

MAX_DECISIONS = 500_000  # how far past the step `needed` is searched
LOOK_GROWTH = 1.15
_ENDS = 30.0  # interval ends are searched for in logit space within +-30 (1e-13 of 0 and 1)
_ITERATIONS = 40


@dataclass(frozen=True)
class FairnessPlan(CandidateAlone):
    """What the judge's reading of a fairness criterion can see in one step."""

    name: str
    alpha: float  # the criterion's share of the step's alpha
    decisions: int  # the candidate's decisions expected in the step
    hours: float
    groups: Mapping[str, tuple[float, float]]  # group -> (share of traffic, selection rate) assumed
    source: str  # where the assumed rates come from
    limit: float  # the criterion's min_ratio
    min_sample: int
    needed: int | None  # decisions by which 80% of runs pass (None: not within reach)
    must_catch: float  # the ratio the step must catch
    caught: float  # share of runs at must_catch that roll back within the step

    @property
    def ratio(self) -> float:
        """The assumed candidate's disparate-impact ratio."""
        rates = [rate for _, rate in self.groups.values()]
        return min(rates) / max(rates) if max(rates) > 0 else 1.0

    unit = "decisions"

    @property
    def test(self) -> str:
        """The reading and what it assumes, for a report's table."""
        return f"group intervals at ratio {self.ratio:.2f} ({self.source})"

    @property
    def bound(self) -> str:
        """The criterion's limit, as a report says it."""
        return f"ratio at least {self.limit:g}"

    @property
    def harm(self) -> str:
        """The candidate the step must roll back."""
        return f"ratio {self.must_catch:.2f}"

    @property
    def claim(self) -> str:
        """What a pass shows."""
        return f"the selection-rate ratio at least {self.limit:g}"

    @property
    def unreachable(self) -> str:
        """Why no length of step shows it, or how far it is."""
        if self.ratio < self.limit:
            return (f"the assumed rates ({self.source}) have a ratio of {self.ratio:.2f}, under {self.limit:g}: "
                    f"a candidate like that is never shown fair")
        return (f"a candidate at ratio {self.ratio:.2f} is not shown at least {self.limit:g} within 50 times this "
                f"step's decisions (at most {MAX_DECISIONS:,}): a longer step, a lower min_ratio, or coarser groups")


def interval_ends(successes: np.ndarray, n: np.ndarray, level: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised proportion.rate_interval: the rates whose two-sided e-value stays below exp(level).

    Bisection in logit space on the same convex log e-value the judge's root finder uses; n > 0.
    """
    from scipy.special import expit, logit  # imported when needed: scipy.special adds ~0.1 s to every command's start

    s = np.asarray(successes, dtype=float)
    f = np.asarray(n, dtype=float) - s
    level = np.broadcast_to(np.asarray(level, dtype=float), s.shape)
    centre = logit(np.clip(s / (s + f), 1e-12, 1 - 1e-12)).clip(-_ENDS, _ENDS)

    def rejected(theta: np.ndarray) -> np.ndarray:
        return log_e_value(s, f, expit(theta)) >= level

    ends = []
    for outside in (-_ENDS, _ENDS):
        far = np.full(s.shape, outside)
        out, inside = far.copy(), centre.copy()  # out is rejected (or the limit), inside accepted
        for _ in range(_ITERATIONS):
            mid = (out + inside) / 2
            hit = rejected(mid)
            out, inside = np.where(hit, mid, out), np.where(hit, inside, mid)
        open_end = ~rejected(far)  # nothing rejected out to the limit: the end is 0 (or 1)
        ends.append(np.where(open_end, 0.0 if outside < 0 else 1.0, expit((out + inside) / 2)))
    return ends[0], ends[1]


def ratio_bounds(hits: np.ndarray, counts: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per run (rows) over groups (columns): the judge's disparate-impact interval and whether it reads one.

    Groups with no decisions yet are left out, as the judge leaves them out; alpha is split over
    the groups seen. A run reads an interval only with two groups or more.
    """
    seen = counts > 0
    groups = seen.sum(axis=1, keepdims=True)
    level = np.log(np.maximum(groups, 1) / alpha)
    lo, hi = interval_ends(hits, np.maximum(counts, 1), level)
    low_min = np.where(seen, lo, np.inf).min(axis=1)
    low_max = np.where(seen, lo, -np.inf).max(axis=1)
    high_min = np.where(seen, hi, np.inf).min(axis=1)
    high_max = np.where(seen, hi, -np.inf).max(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        lower = np.where(high_max > 0, low_min / high_max, 0.0)
        upper = np.where(high_min < low_max, high_min / low_max, 1.0)
    return lower, upper, groups[:, 0] >= 2


def _looks(stop: int) -> np.ndarray:
    """Decisions at which the simulation reads the criterion: 10, then 15% apart, and `stop`."""
    looks, n = [], 10.0
    while n < stop:
        looks.append(int(n))
        n = max(n * LOOK_GROWTH, n + 1)
    return np.unique(np.array([*looks, stop], dtype=int))


def _first_crossing(shares: np.ndarray, rates: np.ndarray, limit: float, side: str, alpha: float, stop: int,
                    min_sample: int, runs: int, rng: np.random.Generator) -> np.ndarray:
    """Per run, the decisions at the first look that passes ("pass") or rolls back ("harm"); inf: none by stop."""
    first = np.full(runs, np.inf)
    counts = np.zeros((runs, shares.size))
    hits = np.zeros((runs, shares.size))
    done = 0
    for look in _looks(stop):
        new = rng.multinomial(look - done, shares, size=runs)
        hits += rng.binomial(new, rates)
        counts += new
        done = look
        lower, upper, reads = ratio_bounds(hits, counts, alpha)
        crossed = reads & ((lower >= limit) & (look >= min_sample) if side == "pass" else upper < limit)
        first = np.where(np.isinf(first) & crossed, float(look), first)
        if side == "pass" and np.isfinite(first).mean() >= POWER:
            break  # the 80% quantile is known
    return first


def plan_fairness(name: str, decisions: int, hours: float, groups: Mapping[str, tuple[float, float]], limit: float,
                  alpha_metric: float, min_sample: int = 1, source: str = "", runs: int = RUNS, seed: int = 0,
                  power: float = POWER) -> FairnessPlan:
    """The step's view of a fairness criterion at `decisions` candidate decisions.

    groups: each group's share of the traffic and the selection rate assumed for a candidate as
    fair as the stable version.
    """
    if not 0 < limit <= 1:
        raise ValueError(f"min_ratio must lie in (0, 1], got {limit}")
    if len(groups) < 2:
        raise ValueError("a fairness criterion needs at least two groups")
    names = list(groups)
    shares = np.array([groups[g][0] for g in names], dtype=float)
    if np.any(shares <= 0):
        raise ValueError("every group needs a positive share of the traffic")
    shares = shares / shares.sum()
    rates = np.clip(np.array([groups[g][1] for g in names], dtype=float), 0.0, 1.0)
    rng = np.random.default_rng(seed)
    plan_ratio = rates.min() / rates.max() if rates.max() > 0 else 1.0
    needed = None
    if plan_ratio >= limit:
        horizon = min(max(decisions, 1) * 50, MAX_DECISIONS)
        passes = _first_crossing(shares, rates, limit, "pass", alpha_metric, horizon, min_sample, runs, rng)
        at = float(np.quantile(passes, power, method="higher"))
        needed = None if math.isinf(at) else int(at)
    must_catch = max(2 * limit - 1, limit / 2)
    caught = 0.0
    if decisions > 0:
        harmful = rates.copy()
        smallest = int(np.argmin(shares))
        # The least-seen group's rate lowered until the ratio is must_catch (raised when it is the highest).
        others = np.delete(rates, smallest)
        top = others.max() if others.max() > 0 else 0.5
        harmful[smallest] = must_catch * top
        harm = _first_crossing(shares, harmful, limit, "harm", alpha_metric, decisions, min_sample, runs,
                               np.random.default_rng(seed + 1))
        caught = float(np.mean(np.isfinite(harm)))
    assumed = {g: (float(shares[i]), float(rates[i])) for i, g in enumerate(names)}
    return FairnessPlan(name, alpha_metric, decisions, hours, assumed, source, limit, min_sample, needed,
                        must_catch, caught)
