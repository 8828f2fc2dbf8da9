"""The power planner: before a step runs, how small a regression can it catch at the traffic there is?

The judge's own rollback test is run by Monte Carlo at the planned traffic (daily cases x the
step's weight x its duration) over a grid of true effects. It is the test the rollout controller
runs: its null is the spec's tolerance ("candidate rate <= stable x 1.5", "<= stable + 3
points"), so a candidate within the tolerance is rolled back in at most alpha of runs, and a
regression is caught only once the evidence puts it beyond the tolerance. A step's *resolution*
for a metric is the smallest regression on the grid (the true effect, e.g. x2.1 or +7 points)
that the test detects, within the step, in at least 80% of the runs: the smallest regression
beyond the tolerance the judge detects with 80% probability. Nothing at or below the tolerance
is ever "detected" more often than alpha, so the resolution always lies beyond it; the plan
*meets* the spec when it catches a regression twice the tolerance (`MetricTarget.must_detect`:
+6 points for +3, x2 for x1.5) in 80% of runs. When it does not, `suggest` searches a small
grid of steps (more shadow time, a higher weight, a longer step) and returns the cheapest that
meets every metric by the same check.

What is simulated, per metric (the evidence the rollout controller feeds the judge):
- canary, tolerance relative ("x1.5"): the ratio form (ratio.py) on events, read after every
  batch of 10 events and at the end of the step;
- canary, tolerance absolute ("+3 points"): the difference form (difference.py) on decisions,
  read after every batch of 10 decisions;
- shadow: pairs (c, s) of the candidate's and the stable's outcome on one case, read after
  every 10 pairs: betting on W = c - s against the tolerance (absolute), or on
  W = c - tolerance x s against 0 (relative: its null is exactly p_cand <= tolerance x p_stable).
Each harm test is the one the judge rolls back on, at the metric's share of the step's alpha
(alpha / number of metrics, as the controller splits it), with its null at the tolerance (rho <=
tolerance, difference <= tolerance), as the controller judges (relevo.rollouts.judging). The
simulations are the states' update rules written for many runs at once
(ratio.event_log_likelihood and mixture_log_e, betting.batch_moments, bets and log_growth);
the tests check them against RatioState, DifferenceState and PairedState, and the resolution
against the controller's own judging code.

Traffic model: arrivals spread evenly over the step, each case sent to the candidate with
probability `weight`, outcomes independent with constant rates. Shadow pairs need one more
number, the share of cases on which the two versions disagree when there is no effect
(`discordance`): with no measured value it defaults to 2p(1-p), the disagreement of two
unrelated versions, which is pessimistic (versions of one service agree far more often, and a
shadow step measures it).

Precision: 200 runs per effect by default, seeded, with common random numbers across effects
(the same uniforms at every effect), so detection rises smoothly with the effect; a rate of 80%
from 200 runs is +-6 points (95%). The grid is 19% steps (2^(1/4)) in the effect, plus the
tolerance and twice the tolerance, and is searched by bisection, so a plan costs about seven
simulations.

Example: 300 cases a day, a canary at 5% for 48 h and a rejection rate of 28% with tolerance +3
points. The candidate sees about 30 decisions: nothing short of a huge change is detectable, so
the plan warns, and `suggest` proposes a shadow step, where every case yields a pair:

    target = MetricTarget("rejection_rate", base_rate=0.28, tolerance=0.03)
    plan = plan_step(300, Step.canary(0.05, 48), [target])
    plan.meets      # False; plan.warnings says why (resolution about +64 points; +6 must be caught)
    suggest(300, Step.canary(0.05, 48), [target]).plan.step
    # shadow for 28 days at the default disagreement, 14 days if the versions disagree on 10%
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from .betting import batch_moments, bets, log_growth
from .durations import duration_text
from .ratio import ALTERNATIVES, event_log_likelihood, mixture_log_e, tolerance_log_rho
from .verdict import split_alpha

BATCH = 10  # the judge reads its evidence after every 10 events (ratio) / decisions / pairs
POWER = 0.8
RUNS = 200
SCALES = ("absolute", "relative")
SUGGEST_HOURS = (24, 48, 72, 168, 336, 672)  # 1, 2, 3 days, 1, 2, 4 weeks
SUGGEST_WEIGHTS = (0.05, 0.10, 0.25, 0.50)
_CELLS_PER_BLOCK = 2_000_000  # runs x decisions simulated at once (memory, not results)

Draw = Callable[[np.ndarray, int, int], tuple]


# ---------------------------------------------------------------------------------------------
# The judge's harm tests on many runs at once: first look at which each run rolls back.


def _block(runs: int, batch: int) -> int:
    """Decisions per simulation block: a multiple of the batch, about _CELLS_PER_BLOCK cells."""
    return max(batch, (_CELLS_PER_BLOCK // max(runs, 1)) // batch * batch)


def _looks(start: int, stop: int, n: int, batch: int) -> np.ndarray:
    """Decision indices in [start, stop) after which the judge reads: batch ends and the step's end."""
    first = start + (-(start + 1)) % batch
    looks = np.arange(first, stop, batch)
    if stop == n and (looks.size == 0 or looks[-1] != n - 1):
        looks = np.append(looks, n - 1)
    return looks


def ratio_log_e(from_candidate, from_stable, w: float, rho_tol: float = 1.0, side: str = "greater"):
    """Log e-value of the ratio form from event counts at one weight w: harm (side 'greater', H0
    rho <= rho_tol) or non-inferiority (side 'less', H0 rho >= rho_tol)."""
    points = tolerance_log_rho(rho_tol)
    # the null, then its 48 alternatives on the side tested
    points = points[ALTERNATIVES:] if side == "greater" else points[ALTERNATIVES::-1]
    loglik = event_log_likelihood(points, w, from_candidate, from_stable)
    return mixture_log_e(loglik[..., 1:], loglik[..., 0])


def ratio_harm_log_e(from_candidate, from_stable, w: float, rho_tol: float = 1.0):
    """Harm log e-value of the ratio form (H0 rho <= rho_tol) from event counts at one weight w."""
    return ratio_log_e(from_candidate, from_stable, w, rho_tol, "greater")


def ratio_first_crossing(draw: Draw, n: int, runs: int, w: float, rho_tol: float, level: float,
                         batch: int = BATCH, side: str = "greater") -> np.ndarray:
    """Decision index at which the ratio form's harm (or, side 'less', non-inferiority) e-process
    first reaches level, or -1.

    draw(rows, start, stop) gives (arm, outcome) boolean arrays for decisions [start, stop) of
    the given runs. The judge reads after every `batch` events and at the step's last decision.
    """
    first = np.full(runs, -1, dtype=np.int64)
    rows = np.arange(runs)
    events = np.zeros(runs, dtype=np.int64)
    cand = np.zeros(runs, dtype=np.int64)
    block = _block(runs, batch)
    for start in range(0, n, block):
        stop = min(n, start + block)
        arm, outcome = draw(rows, start, stop)
        e = events[:, None] + np.cumsum(outcome, axis=1)
        c = cand[:, None] + np.cumsum(outcome & arm, axis=1)
        look = outcome & (e % batch == 0)
        if stop == n:
            look[:, -1] = True
        r, col = np.nonzero(look)  # row-major: each row's looks in time order
        hit = ratio_log_e(c[r, col], e[r, col] - c[r, col], w, rho_tol, side) >= level
        hit_rows, where = np.unique(r[hit], return_index=True)
        crossed = np.zeros(rows.size, dtype=bool)
        crossed[hit_rows] = True
        first[rows[hit_rows]] = start + col[hit][where]
        keep = ~crossed
        rows, events, cand = rows[keep], e[keep, -1], c[keep, -1]
        if rows.size == 0:
            break
    return first


def betting_first_crossing(draw: Draw, n: int, runs: int, lo: float, hi: float, tol: float, level: float,
                           batch: int = BATCH, prior_mean: float = 0.0, prior_var: float = 1.0,
                           side: str = "greater") -> np.ndarray:
    """Decision index at which a betting e-process first reaches level, or -1: the harm test
    (side 'greater', H0 mean <= tol) or the non-inferiority test (side 'less', H0 mean >= tol).

    draw(rows, start, stop) gives (z,) for observations [start, stop), each in [lo, hi]. The bets
    are BettingMean's (aGRAPA, clipped, one side only, one stake per batch), read after every
    `batch` observations and at the last one. Runs that crossed are dropped from later blocks.
    """
    first = np.full(runs, -1, dtype=np.int64)
    rows = np.arange(runs)
    total, sq, capital = np.zeros((runs, 1)), np.zeros((runs, 1)), np.zeros((runs, 1))
    block = _block(runs, batch)
    for start in range(0, n, block):
        stop = min(n, start + block)
        (z,) = draw(rows, start, stop)
        mean_b, var_b, (_, total_new, sq_new) = batch_moments(z, batch, start, total, sq, prior_mean, prior_var)
        path = capital + np.cumsum(log_growth(z, bets(mean_b, var_b, tol, lo, hi, side), tol), axis=1)
        looks = _looks(start, stop, n, batch)
        hit = path[:, looks - start] >= level
        crossed = hit.any(axis=1)
        first[rows[crossed]] = looks[hit[crossed].argmax(axis=1)]
        keep = ~crossed
        rows, total, sq, capital = rows[keep], total_new[keep, None], sq_new[keep, None], path[keep, -1:]
        if rows.size == 0:
            break
    return first


def difference_first_crossing(draw: Draw, n: int, runs: int, w: float, tol: float, level: float,
                              batch: int = BATCH, side: str = "greater") -> np.ndarray:
    """The difference form's harm (or non-inferiority) test, as DifferenceState runs it, on
    (arm, outcome) streams: first crossing."""
    def draw_z(rows, start, stop):
        arm, outcome = draw(rows, start, stop)
        return (outcome * np.where(arm, 1 / w, -1 / (1 - w)),)

    return betting_first_crossing(draw_z, n, runs, -1 / (1 - w), 1 / w, tol, level, batch, side=side)


def paired_first_crossing(draw: Draw, n: int, runs: int, tol: float, level: float,
                          batch: int = BATCH, rho: float = 1.0, side: str = "greater") -> np.ndarray:
    """The paired harm (or, side 'less', non-inferiority) test on (c, s) streams: first crossing.

    rho = 1: PairedState.difference, betting on c - s against tol. rho > 1 (a relative
    tolerance, tol 0): betting on c - rho s in [-rho, 1] against 0, as the controller judges it.
    """
    def draw_z(rows, start, stop):
        c, s = draw(rows, start, stop)
        return (c.astype(float) - rho * s,)

    # BettingMean's default prior for a mean in [-rho, 1]: the middle, and the largest variance
    return betting_first_crossing(draw_z, n, runs, -rho, 1.0, tol, level, batch,
                                  prior_mean=(1 - rho) / 2, prior_var=(1 + rho) ** 2 / 4, side=side)


def from_arrays(*arrays: np.ndarray) -> Draw:
    """A draw over fixed (runs, decisions) arrays, e.g. streams shared with other judges."""
    return lambda rows, start, stop: tuple(a[rows, start:stop] for a in arrays)


def canary_stream(runs: int, w: float, p_stable: float, p_cand: float, seed) -> Draw:
    """Random canary decisions: arm ~ Bernoulli(w), outcome ~ Bernoulli(the arm's rate).

    Each block of decisions has its own seed, and all runs are drawn whichever are still
    needed, so two streams with one seed share their uniforms (common random numbers).
    """
    def draw(rows, start, stop):
        u = np.random.default_rng([*np.atleast_1d(seed), start]).random((2, runs, stop - start))[:, rows]
        arm = u[0] < w
        return arm, u[1] < np.where(arm, p_cand, p_stable)

    return draw


def shadow_stream(runs: int, p_cand_only: float, p_stable_only: float, p_both: float, seed) -> Draw:
    """Random shadow pairs (c, s) from the flip table, with common random numbers as above."""
    if min(p_cand_only, p_stable_only, p_both) < 0 or p_cand_only + p_stable_only + p_both > 1 + 1e-12:
        raise ValueError("the flip table's shares must be non-negative and sum to at most 1")

    def draw(rows, start, stop):
        u = np.random.default_rng([*np.atleast_1d(seed), start]).random((runs, stop - start))[rows]
        # [0, cand_only): (1, 0); [1 - stable_only, 1): (0, 1); just below that: (1, 1)
        cand_only = u < p_cand_only
        stable_only = u >= 1 - p_stable_only
        both = (u >= 1 - p_stable_only - p_both) & ~stable_only
        return cand_only | both, stable_only | both

    return draw


# ---------------------------------------------------------------------------------------------
# Plans


@dataclass(frozen=True)
class Step:
    """A rollout step as the planner sees it: a canary at `weight` or a shadow step, for `hours`."""

    kind: str  # "canary" or "shadow"
    hours: float
    weight: float = 0.0  # canary: the candidate's share of cases, strictly between 0 and 1
    shadow_share: float = 1.0  # shadow: share of cases the candidate also answers

    def __post_init__(self):
        if self.kind not in ("canary", "shadow"):
            raise ValueError(f"kind must be 'canary' or 'shadow', got {self.kind!r}")
        if not self.hours > 0:
            raise ValueError(f"hours must be positive, got {self.hours}")
        if self.kind == "canary" and not 0 < self.weight < 1:
            raise ValueError(f"a canary's weight is a share strictly between 0 and 1, got {self.weight}")
        if self.kind == "shadow" and not 0 < self.shadow_share <= 1:
            raise ValueError(f"shadow_share must lie in (0, 1], got {self.shadow_share}")

    @classmethod
    def canary(cls, weight: float, hours: float) -> Step:
        return cls("canary", float(hours), weight=float(weight))

    @classmethod
    def shadow(cls, hours: float, share: float = 1.0) -> Step:
        return cls("shadow", float(hours), shadow_share=float(share))

    def decisions(self, daily_cases: float) -> int:
        """Cases during the step (all of them, both arms)."""
        return int(round(daily_cases * self.hours / 24))

    @property
    def exposure(self) -> float:
        """Share of citizens' cases the candidate answers (0 for shadow)."""
        return self.weight if self.kind == "canary" else 0.0

    def __str__(self) -> str:
        length = f"{self.hours / 24:g} days" if self.hours >= 72 else f"{self.hours:g} h"
        if self.kind == "canary":
            return f"canary {self.weight:.0%} for {length}"
        return f"shadow ({self.shadow_share:.0%} of cases) for {length}"


@dataclass(frozen=True)
class MetricTarget:
    """A rate metric, its stable rate and the tolerance the spec states."""

    name: str
    base_rate: float  # the stable version's rate, e.g. 0.28 for 28% rejections
    tolerance: float  # absolute: points as a share (0.03 = +3 points); relative: a ratio (1.5)
    scale: str = "absolute"
    discordance: float | None = None  # shadow: share of cases the versions disagree on at no effect
    counted_share: float = 1.0  # share of the decisions the metric counts (corrections: the reviewed ones)
    lag_hours: float = 0.0  # a decision counts only this long after it was made (corrections: the review delay)

    def __post_init__(self):
        if self.scale not in SCALES:
            raise ValueError(f"scale must be one of {SCALES}, got {self.scale!r}")
        if not 0 < self.base_rate < 1:
            raise ValueError(f"base_rate must lie strictly between 0 and 1, got {self.base_rate}")
        if self.scale == "absolute" and not 0 < self.tolerance < 1 - self.base_rate:
            raise ValueError(f"an absolute tolerance must lie in (0, 1 - base_rate), got {self.tolerance}")
        if self.scale == "relative" and not 1 < self.tolerance <= 1 / self.base_rate:
            raise ValueError(f"a relative tolerance must lie in (1, 1/base_rate], got {self.tolerance}")
        if not 0 < self.counted_share <= 1 or self.lag_hours < 0:
            raise ValueError("counted_share must lie in (0, 1] and lag_hours must not be negative")
        p = self.base_rate
        if self.discordance is not None and not 0 <= self.discordance <= 2 * min(p, 1 - p):
            raise ValueError(f"discordance must lie in [0, 2 min(p, 1-p)] = [0, {2 * min(p, 1 - p):.3g}]")

    @property
    def must_detect(self) -> float:
        """The regression a plan must catch in 80% of runs to meet the spec: twice the tolerance
        in its scale (+6 points for +3, x2 for x1.5), kept where rates stay below 1."""
        if self.scale == "absolute":
            return min(2 * self.tolerance, 1 - self.base_rate)
        return min(2 * self.tolerance - 1, 1 / self.base_rate)

    def effect_grid(self) -> np.ndarray:
        """True effects to try, ascending: 19% steps, the tolerance and must_detect included, rates kept below 1."""
        if self.scale == "absolute":
            grid = 0.0025 * 2 ** (np.arange(64) / 4)
            grid = grid[grid <= 1 - self.base_rate]
        else:
            grid = 1 + 0.05 * 2 ** (np.arange(64) / 4)
            grid = grid[(grid * self.base_rate <= 1) & (grid <= 64)]
        return np.unique(np.append(grid, [self.tolerance, self.must_detect]))

    def counted(self, daily_cases: float, step: "Step") -> int:
        """Decisions of the step the metric counts by its end (all of them, both arms)."""
        hours = max(0.0, step.hours - self.lag_hours)
        return int(round(daily_cases * self.counted_share * hours / 24))

    @property
    def no_change(self) -> float:
        """The effect of a candidate exactly as good as the stable version, in this scale."""
        return 1.0 if self.scale == "relative" else 0.0

    def points(self, effect: float) -> float:
        """An effect as a difference of rates."""
        return effect if self.scale == "absolute" else self.base_rate * (effect - 1)

    def describe(self, effect: float | None) -> str:
        if effect is None:
            return "none on the grid"
        return f"+{100 * effect:.3g} points" if self.scale == "absolute" else f"x{effect:.3g}"


@dataclass(frozen=True)
class MetricPlan:
    """What one metric's rollback test can see in a step."""

    name: str
    form: str  # "ratio", "difference" or "paired"
    alpha: float  # the metric's share of the step's alpha
    candidate_decisions: int  # expected; shadow: shadow answers
    stable_decisions: int
    candidate_events: float  # expected at the base rate
    tolerance: float
    scale: str
    resolution: float | None  # smallest effect detected in >= POWER of runs; None: none on the grid
    detection: tuple[tuple[float, float], ...]  # (effect, detection rate) for the effects simulated
    meets: bool  # must_detect is caught in >= POWER of runs
    summary: str
    must_detect: float | None = None  # the regression the plan must catch (twice the tolerance)
    pass_rate: float = 0.0  # share of runs in which a candidate as good as stable is shown within tolerance
    pass_hours: float | None = None  # by when it is, in POWER of runs (None: not within the step)

    @property
    def shows(self) -> bool:
        """A candidate as good as the stable version is shown within the tolerance in >= POWER of runs."""
        return self.pass_hours is not None

    @property
    def shown_after(self) -> str | None:
        """When it is shown, as people write durations (None: not within the step)."""
        return None if self.pass_hours is None else duration_text(self.pass_hours)


@dataclass(frozen=True)
class StepPlan:
    """The planner's view of one step at a traffic level."""

    daily_cases: float
    step: Step
    alpha: float
    runs: int
    seed: int
    metrics: tuple[MetricPlan, ...]

    @property
    def meets(self) -> bool:
        """Every metric catches a regression twice its tolerance in >= POWER of runs."""
        return all(m.meets for m in self.metrics)

    @property
    def sized(self) -> bool:
        """Every metric both catches twice its tolerance and shows a candidate as good as stable, in >= POWER of runs."""
        return all(m.meets and m.shows for m in self.metrics)

    @property
    def warnings(self) -> list[str]:
        return [m.summary for m in self.metrics if not m.meets]

    @property
    def shown(self) -> set[str]:
        """Metrics this step shows within their tolerance (for a candidate as good as stable) in >= POWER of runs."""
        return {m.name for m in self.metrics if m.shows}


@dataclass(frozen=True)
class Suggestion:
    """The cheapest step on the search grid that meets every tolerance (plan None: none does)."""

    plan: StepPlan | None
    considered: tuple[tuple[Step, bool], ...]
    reason: str
    original: StepPlan  # the step as asked for

    @property
    def cost(self) -> tuple[float, float]:
        """How dear the proposed step is, as suggest orders them: its length, then the share of
        citizens it exposes to the candidate (infinite when no step on the grid would do)."""
        if self.plan is None:
            return (float("inf"), float("inf"))
        return (self.plan.step.hours, self.plan.step.exposure)


def _form(step: Step, metric: MetricTarget) -> str:
    if step.kind == "shadow":
        return "paired"
    return "ratio" if metric.scale == "relative" else "difference"


def detections(daily_cases: float, step: Step, metric: MetricTarget, effect: float, alpha_metric: float,
               runs: int = RUNS, seed: int = 0, side: str = "greater") -> np.ndarray:
    """Per simulated run: the decision (shadow: the pair) at which the metric's harm test rolls
    back, or -1 (never in the step); side 'less': at which its non-inferiority test passes.

    effect is in the metric's scale (points, or a ratio). Streams depend on (seed, block) only,
    so calls at different effects share their random numbers.
    """
    n = metric.counted(daily_cases, step)
    if n == 0:
        return np.full(runs, -1, dtype=np.int64)
    level = float(np.log(1 / alpha_metric))
    p = metric.base_rate
    form = _form(step, metric)
    relative = metric.scale == "relative"
    if form == "paired":
        pairs = int(round(n * step.shadow_share))
        d = 2 * p * (1 - p) if metric.discordance is None else metric.discordance
        # at no effect d/2 of the cases flip each way; the effect adds candidate-only cases
        draw = shadow_stream(runs, min(d / 2 + metric.points(effect), 1 - p), d / 2, p - d / 2, seed)
        if relative:
            return paired_first_crossing(draw, pairs, runs, 0.0, level, rho=metric.tolerance, side=side)
        return paired_first_crossing(draw, pairs, runs, metric.tolerance, level, side=side)
    p_cand = min(1.0, p + metric.points(effect))
    draw = canary_stream(runs, step.weight, p, p_cand, seed)
    if form == "ratio":
        return ratio_first_crossing(draw, n, runs, step.weight, metric.tolerance, level, side=side)
    return difference_first_crossing(draw, n, runs, step.weight, metric.tolerance, level, side=side)


def _detection_rate(daily_cases, step, metric, effect, alpha_metric, runs, seed) -> float:
    return float(np.mean(detections(daily_cases, step, metric, effect, alpha_metric, runs, seed) >= 0))


def plan_metric(daily_cases: float, step: Step, metric: MetricTarget, alpha_metric: float,
                runs: int = RUNS, seed: int = 0, power: float = POWER) -> MetricPlan:
    """Resolution of one metric's rollback test in a step: bisection over the effect grid."""
    grid = metric.effect_grid()
    rates: dict[int, float] = {}

    def rate(i: int) -> float:
        if i not in rates:
            rates[i] = _detection_rate(daily_cases, step, metric, float(grid[i]), alpha_metric, runs, seed)
        return rates[i]

    # Detection rises with the effect: find the first grid point reaching `power`, starting at
    # must_detect (the answer to "does the plan meet the spec" needs that point anyway).
    t = int(np.searchsorted(grid, metric.must_detect))
    lo, hi = (0, t) if rate(t) >= power else (t + 1, grid.size)
    while lo < hi:
        mid = (lo + hi) // 2
        if rate(mid) >= power:
            hi = mid
        else:
            lo = mid + 1
    resolution = float(grid[lo]) if lo < grid.size else None
    meets = rates[t] >= power

    n = metric.counted(daily_cases, step)
    # The other side: how soon a candidate exactly as good as the stable version is shown
    # within the tolerance (the non-inferiority test passing), at the same traffic.
    passes = detections(daily_cases, step, metric, metric.no_change, alpha_metric, runs, seed, side="less")
    pass_rate = float(np.mean(passes >= 0))
    pass_hours = None
    if pass_rate >= power:
        index = float(np.quantile(np.where(passes >= 0, passes, np.inf), power, method="higher"))
        share = (step.shadow_share if step.kind == "shadow" else 1.0) * metric.counted_share
        pass_hours = min(step.hours, metric.lag_hours + (index + 1) / share / daily_cases * 24)
    if step.kind == "shadow":
        cand, stable = int(round(n * step.shadow_share)), n
        who = f"{cand:,} pairs (the candidate answers in shadow, citizens get the stable answer)"
    else:
        cand, stable = int(round(n * step.weight)), int(round(n * (1 - step.weight)))
        who = f"the candidate ~{cand:,} decisions, the stable ~{stable:,}"
    form = _form(step, metric)
    must = metric.describe(metric.must_detect)
    verdict = (f"catches {must} (twice the tolerance) in {rates[t]:.0%} of runs" if meets else
               f"cannot reliably detect a regression twice the tolerance ({must}: caught in {rates[t]:.0%} "
               f"of runs)")
    shown = (f"a candidate as good as stable is shown within the tolerance in {power:.0%} of runs after "
             f"{duration_text(pass_hours)}" if pass_hours is not None else
             f"a candidate as good as stable is shown within the tolerance in only {pass_rate:.0%} of runs")
    summary = (f"{metric.name}: {step} at {daily_cases:,.0f} cases/day gives {who}; {form} test at alpha "
               f"{alpha_metric:.3g} against the tolerance {metric.describe(metric.tolerance)}: smallest "
               f"regression caught in {power:.0%} of runs: {metric.describe(resolution)}; {verdict}; {shown}")
    return MetricPlan(metric.name, form, alpha_metric, cand, stable, cand * metric.base_rate, metric.tolerance,
                      metric.scale, resolution, tuple((float(grid[i]), rates[i]) for i in sorted(rates)), meets,
                      summary, must_detect=metric.must_detect, pass_rate=pass_rate, pass_hours=pass_hours)


def plan_step(daily_cases: float, step: Step, metrics: Sequence[MetricTarget], alpha: float = 0.05,
              runs: int = RUNS, seed: int = 0, power: float = POWER) -> StepPlan:
    """Each metric's resolution in a step, at its share of the step's alpha."""
    if not daily_cases > 0:
        raise ValueError(f"daily_cases must be positive, got {daily_cases}")
    if not metrics:
        raise ValueError("no metric to plan for")
    share = split_alpha(alpha, len(metrics))
    plans = tuple(plan_metric(daily_cases, step, m, share, runs, seed, power) for m in metrics)
    return StepPlan(daily_cases, step, alpha, runs, seed, plans)


def _meets(daily_cases, step, metrics, share, runs, seed, power) -> bool:
    """Every metric: twice its tolerance caught, and a candidate as good as stable shown within
    it, each in >= power of runs."""
    return all(_detection_rate(daily_cases, step, m, m.must_detect, share, runs, seed) >= power
               and float(np.mean(detections(daily_cases, step, m, m.no_change, share, runs, seed, side="less") >= 0))
               >= power for m in metrics)


def suggest(daily_cases: float, step: Step, metrics: Sequence[MetricTarget], alpha: float = 0.05,
            runs: int = RUNS, seed: int = 0, power: float = POWER, hours: Sequence[float] = SUGGEST_HOURS,
            weights: Sequence[float] = SUGGEST_WEIGHTS, shadow: bool = True) -> Suggestion:
    """The cheapest step that catches a regression of twice each metric's tolerance, and shows a
    candidate as good as the stable version within it, each in >= power of runs.

    Cheapest: the shortest; at equal length, the one exposing fewest citizens to the candidate
    (a shadow step exposes none, then canaries by weight). The search grid is the given lengths
    (and the step's own) with a shadow step and a canary at each weight (and the step's own). A
    longer step or a higher weight (up to 50%) only adds evidence, so at each length a canary
    is tried at the highest weight first and the lower ones only if that one meets. shadow=False
    leaves shadow steps out (for metrics a shadow step cannot show, such as corrections).
    """
    if not metrics:
        raise ValueError("no metric to plan for")
    share = split_alpha(alpha, len(metrics))
    original = plan_step(daily_cases, step, metrics, alpha, runs, seed, power)
    if original.sized:
        return Suggestion(original, ((step, True),), f"{step} already meets every tolerance", original)
    lengths = sorted(set(hours) | {step.hours})
    ws = sorted(set(weights) | ({step.weight} if step.kind == "canary" else set()))
    considered: list[tuple[Step, bool]] = []

    def check(candidate: Step) -> bool:
        ok = _meets(daily_cases, candidate, metrics, share, runs, seed, power)
        considered.append((candidate, ok))
        return ok

    for length in lengths:
        found = None
        if shadow and check(Step.shadow(length)):
            found = Step.shadow(length)
        elif check(Step.canary(ws[-1], length)):
            found = Step.canary(ws[-1], length)
            for w in ws[:-1]:  # the lowest weight that still meets
                if check(Step.canary(w, length)):
                    found = Step.canary(w, length)
                    break
        if found is not None:
            plan = plan_step(daily_cases, found, metrics, alpha, runs, seed, power)
            reason = f"{step} cannot meet every tolerance at {daily_cases:,.0f} cases/day; {found} can"
            return Suggestion(plan, tuple(considered), reason, original)
    reason = (f"no step on the grid (up to {max(lengths) / 24:g} days, weights up to {ws[-1]:.0%}, or shadow) "
              f"meets every tolerance at {daily_cases:,.0f} cases/day: widen the tolerance, replay past cases "
              f"(paired evidence without waiting), or measure the versions' disagreement in a shadow step")
    return Suggestion(None, tuple(considered), reason, original)
