"""Relevo's judge vs a fixed threshold and a Mann-Whitney test at the end, on the same simulated streams.

    python benchmarks/judge_compare.py [--aa-runs 1000] [--ab-runs 500] [--seed 2025]

Reference scenario: a canary at 5% weight for 48 h, at 300, 3,000 and 30,000 cases a day.
Decisions arrive evenly over the step; each goes to the candidate with probability 5%, and its
outcome is drawn at the arm's rate. Two metrics, each judged alone at alpha 0.05:

- error rate, stable 2%: A/A, candidate x1.5 (3%) and x2 (4%);
- rejection rate, stable 28%: A/A, candidate +3 points (31%) and +10 points (38%).

Every judge sees the same streams (per cell: --aa-runs A/A runs, --ab-runs runs per effect):

- Relevo: the controller's rollback (harm) test for a tolerance of "no worse than stable" (the
  error rate by the ratio form, rho_tol = 1, read after every batch of 10 events; the rejection
  rate by the difference form, tol = 0, read after every batch of 10 decisions); it rolls back
  as soon as the e-process reaches 1/alpha = 20;
- fixed threshold (Argo Rollouts / Flagger), two settings: one measurement per hour, which
  fails when the candidate's rate over the hour exceeds the stable's over the same hour by
  more than a tolerance; the third failed measurement rolls back. "tight": x1.2 (error rate)
  and +2 points (rejection rate), just below the smallest regression tested; "loose": x2 and
  +10 points, the largest regression tested;
- Mann-Whitney (Kayenta): the 48 hourly rates of each arm (hours without a decision dropped),
  one one-sided test at the end of the step, rollback when p < 0.05.

Reported: the false-rollback rate on A/A with its Clopper-Pearson 95% interval; on A/B the
detection rate within the step and the median delay to rollback, in decisions (both arms,
from the step's start) and hours, with runs that never roll back counted as later than
everything ("never" when fewer than half the runs roll back). The last line of each table is
Relevo's median delay over the fixed horizon (48 h, when the test at the end decides). Goal:
false rollbacks <= 5% everywhere and that ratio <= 0.5. A closing section shows what the power
planner says about the same step and what it suggests instead.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
from scipy.stats import binomtest

from relevo.analysis.judge.baselines import ThresholdRule, interval_counts, mann_whitney_judge, threshold_judge
from relevo.analysis.judge.power import (MetricTarget, Step, difference_first_crossing, from_arrays, plan_step,
                                           ratio_first_crossing, suggest)

ALPHA = 0.05
WEIGHT = 0.05
HOURS = 48
INTERVAL_HOURS = 1
DAILY = (300, 3_000, 30_000)
METRICS = {
    # name: (base rate, [(label, candidate rate)], Relevo's form, {threshold setting: rule})
    "error rate": (0.02, [("x1.5", 0.03), ("x2", 0.04)], "ratio",
                   {"tight": ThresholdRule(tolerance=1.2, failure_limit=3),
                    "loose": ThresholdRule(tolerance=2.0, failure_limit=3)}),
    "rejection rate": (0.28, [("+3 pts", 0.31), ("+10 pts", 0.38)], "difference",
                       {"tight": ThresholdRule(tolerance=1.0, margin=0.02, failure_limit=3),
                        "loose": ThresholdRule(tolerance=1.0, margin=0.10, failure_limit=3)}),
}
JUDGES = ("Relevo", "threshold tight", "threshold loose", "Mann-Whitney")
CELLS_PER_CHUNK = 3_000_000


def simulate_cell(rng, runs: int, daily: int, p_stable: float, p_cand: float, form: str,
                  rules: dict[str, ThresholdRule]):
    """First rollback per judge and run, on shared streams: {judge: (decisions, hours)}, inf = never."""
    n = int(round(daily * HOURS / 24))
    per_hour = 24 / daily
    interval = (np.arange(n) * per_hour // INTERVAL_HOURS).astype(int)
    n_intervals = int(math.ceil(HOURS / INTERVAL_HOURS))
    decisions_by_interval_end = np.searchsorted(interval, np.arange(n_intervals), side="right")
    level = math.log(1 / ALPHA)
    out = {j: np.full((runs, 2), np.inf) for j in JUDGES}
    chunk = max(1, CELLS_PER_CHUNK // n)
    for start in range(0, runs, chunk):
        k = min(chunk, runs - start)
        arm = rng.random((k, n)) < WEIGHT
        outcome = rng.random((k, n)) < np.where(arm, p_cand, p_stable)
        draw = from_arrays(arm, outcome)
        if form == "ratio":
            first = ratio_first_crossing(draw, n, k, WEIGHT, 1.0, level)
        else:
            first = difference_first_crossing(draw, n, k, WEIGHT, 0.0, level)
        hit = first >= 0
        out["Relevo"][start:start + k][hit] = np.column_stack([first[hit] + 1, (first[hit] + 1) * per_hour])
        counts = interval_counts(arm, outcome, interval, n_intervals)
        for setting, rule in rules.items():
            at = threshold_judge(*counts, rule)
            hit = at >= 0
            out[f"threshold {setting}"][start:start + k][hit] = np.column_stack(
                [decisions_by_interval_end[at[hit]], (at[hit] + 1) * INTERVAL_HOURS])
        rolls_back, _ = mann_whitney_judge(*counts, alpha=ALPHA)
        out["Mann-Whitney"][start:start + k][rolls_back] = (n, HOURS)
    return out


def rate_with_ci(hits: int, runs: int) -> str:
    ci = binomtest(hits, runs).proportion_ci(0.95, method="exact")
    return f"{hits / runs:5.1%} ({ci.low:.1%}-{ci.high:.1%})"


def delay(result: np.ndarray) -> tuple[float, float]:
    """Median (decisions, hours) over all runs, never-detected runs counted as infinite."""
    return float(np.median(result[:, 0])), float(np.median(result[:, 1]))


def fmt_delay(decisions: float, hours: float) -> str:
    return "never (<50%)" if math.isinf(hours) else f"{decisions:,.0f} dec / {hours:.1f} h"


def suggestion(daily: int, target: MetricTarget) -> str:
    found = suggest(daily, Step.canary(WEIGHT, HOURS), [target], alpha=ALPHA).plan
    return f"{found.step} (resolution {target.describe(found.metrics[0].resolution)})" if found else "nothing on the grid"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--aa-runs", type=int, default=1000)
    parser.add_argument("--ab-runs", type=int, default=500)
    parser.add_argument("--seed", type=int, default=2025)
    args = parser.parse_args()
    t_start = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    print(f"Canary at {WEIGHT:.0%} for {HOURS} h; alpha {ALPHA}; {args.aa_runs} A/A runs and {args.ab_runs} "
          f"A/B runs per cell, seed {args.seed}; all judges on the same streams.")
    print("Threshold: hourly measurement, the 3rd failed one rolls back; a measurement fails above stable x1.2 "
          "(tight) or x2 (loose) for the error rate, stable +2 (tight) or +10 points (loose) for the rejection rate.")
    print(f"Mann-Whitney: the hourly rates of each arm, one one-sided test at {HOURS} h. Relevo: harm test against "
          f"'no worse than stable', read after every batch of 10 events (ratio) or decisions (difference).\n")
    goals = []
    for daily in DAILY:
        n = int(round(daily * HOURS / 24))
        for metric, (base, effects, form, rules) in METRICS.items():
            t0 = time.perf_counter()
            cells = {"A/A": simulate_cell(rng, args.aa_runs, daily, base, base, form, rules)}
            for label, p_cand in effects:
                cells[label] = simulate_cell(rng, args.ab_runs, daily, base, p_cand, form, rules)
            print(f"== {daily:,} cases/day: {n:,} decisions in {HOURS} h, ~{n * WEIGHT:,.0f} to the candidate; "
                  f"{metric}, stable {base:.0%} ==")
            head = f"{'judge':<16} {'A/A false rollbacks (95% CI)':<30}"
            for label, _ in effects:
                head += f" | {label + ': detected':<16} {'median delay':<22}"
            print(head)
            for judge in JUDGES:
                aa = cells["A/A"][judge]
                line = f"{judge:<16} {rate_with_ci(int(np.isfinite(aa[:, 1]).sum()), len(aa)):<30}"
                for label, _ in effects:
                    res = cells[label][judge]
                    line += f" | {np.isfinite(res[:, 1]).mean():<16.1%} {fmt_delay(*delay(res)):<22}"
                print(line)
            ratios, goal = [], []
            aa_rate = np.isfinite(cells["A/A"]["Relevo"][:, 1]).mean()
            goal.append(f"A/A {aa_rate:.1%} {'met' if aa_rate <= ALPHA else 'NOT met'}")
            for label, _ in effects:
                ratio = delay(cells[label]["Relevo"])[1] / HOURS
                detected = np.isfinite(cells[label]["Relevo"][:, 1]).mean()
                if math.isinf(ratio):
                    ratios.append(f"{label}: - (Relevo detects in <50% of runs)")
                    goal.append(f"{label} not met (detected in {detected:.0%})")
                else:
                    ratios.append(f"{label}: {ratio:.2f}")
                    goal.append(f"{label} {ratio:.2f} {'met' if ratio <= 0.5 else 'NOT met'}")
            goals.append(f"{daily:>6,}/day {metric:<15}" + "; ".join(goal))
            print(f"Relevo median delay / fixed horizon ({HOURS} h): " + "; ".join(ratios)
                  + f"   [{time.perf_counter() - t0:.1f} s]\n")

    print("== Goals for Relevo: false rollbacks <= 5%; median delay <= 0.5 x the fixed horizon ==")
    print("\n".join(goals))
    print("\n== Power planner on the same step: 200 runs per effect, tolerance = the smaller regression; shadow "
          "pairs assume independent versions (disagreement 2p(1-p)) unless stated ==")
    targets = [MetricTarget("error rate", 0.02, 1.5, "relative"), MetricTarget("rejection rate", 0.28, 0.03)]
    for daily in DAILY:
        for target in targets:
            t0 = time.perf_counter()
            plan = plan_step(daily, Step.canary(WEIGHT, HOURS), [target], alpha=ALPHA)
            m = plan.metrics[0]
            line = (f"{daily:>6,}/day {target.name}: resolution {target.describe(m.resolution)} "
                    f"(tolerance {target.describe(target.tolerance)}) -> {'meets' if m.meets else 'WARNS'}")
            if not m.meets:
                line += "; suggests " + suggestion(daily, target)
            if not m.meets and target.scale == "absolute":
                measured = MetricTarget(target.name, target.base_rate, target.tolerance, discordance=0.10)
                line += "; if the versions disagree on 10% of cases: " + suggestion(daily, measured)
            print(line + f"   [{time.perf_counter() - t0:.1f} s]")
    print(f"\nTotal {time.perf_counter() - t_start:.0f} s")


if __name__ == "__main__":
    main()
