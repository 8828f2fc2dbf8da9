"""Simulation mode: generated traffic through the real gateway and controller on a simulated clock.

A 48-hour canary runs in seconds with the same code that runs in production: the gateway
answers each case (its decisions land in the real decision log), simulated case workers review
decisions after a delay and correct the wrong ones (feedback arrives late, as in life), the
clock moves on, and the controller reconciles after every batch.
"""

from __future__ import annotations

import heapq
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable, Iterator

import numpy as np

from relevo.casework.feedback import record_feedback_in
from relevo.clock import SimulatedClock
from relevo.context import Context
from relevo.gateway.gateway import Gateway
from relevo.rollouts.controller import reconcile
from relevo.rollouts.rollout import Rollout
from relevo.store import connect

Case = tuple[str, dict, str]  # (case id, inputs, the true outcome a case worker would find)


@dataclass(frozen=True)
class SimulationResult:
    """How a simulated rollout ended."""

    rollout: Rollout
    decisions: int
    simulated: timedelta
    reviews: int


def simulate_rollout(ctx: Context, clock: SimulatedClock, gateway: Gateway, rollout: Rollout,
                     cases: Iterator[Case], *, daily_cases: int, batch: int = 100,
                     review_delay: tuple[float, float] = (2.0, 10.0), review_share: float = 0.3,
                     horizon: timedelta = timedelta(days=14), judge_every: int = 3,
                     seed: int = 0, on_batch: Callable[[Rollout, int], None] = lambda r, n: None) -> SimulationResult:
    """Drive a rollout with generated cases until it leaves `running` (or the horizon passes).

    A review_share of the automated decisions is reviewed after a delay drawn uniformly from
    review_delay (hours), as is every answer the review policy held back; a review that finds
    another outcome than the decision (or the one proposed) corrects it.
    """
    rng = np.random.default_rng(seed)
    seconds_per_case = 86400 / daily_cases
    pending: list[tuple] = []  # (review time, decision id, truth, model decision)
    sent = reviews = batches = 0
    started = clock.now()
    pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="simulated-citizen")
    try:
        while rollout.state == "running" and clock.now() - started < horizon:
            chunk = [next(cases, None) for _ in range(batch)]
            chunk = [c for c in chunk if c is not None]
            if not chunk:
                break
            gateway.refresh()
            answers = list(pool.map(lambda c: gateway.decide(rollout.service, c[0], c[1]), chunk))  # noqa: B023 (run here)
            now = clock.now()
            for (_case_id, _inputs, truth), answer in zip(chunk, answers):
                # Case workers review a share of the automated decisions, hours later, and every
                # answer the review policy held for them.
                if answer.review is not None or (answer.served_by != "manual" and rng.random() < review_share):
                    review_at = now + timedelta(hours=float(rng.uniform(*review_delay)))
                    heapq.heappush(pending, (review_at, answer.id, truth, answer.decision))
            sent += len(chunk)
            # The shadow copies are answered before time moves on, as they are within seconds on a
            # real clock: written a batch of simulated time late, each would be late evidence, and
            # the judge would read the step again from its start at every look.
            gateway.wait_for_shadow()
            clock.advance(timedelta(seconds=seconds_per_case * len(chunk)))
            due = []
            while pending and pending[0][0] <= clock.now():
                due.append(heapq.heappop(pending))
            if due:
                # The reviews of a batch land in one transaction (one commit, not one each).
                with connect(ctx.engine) as conn:
                    for _, decision_id, truth, _decision in due:
                        record_feedback_in(conn, ctx, decision_id, decision=truth, reason="simulated review",
                                           reviewer="case-worker")
                reviews += len(due)
            batches += 1
            if batches % judge_every == 0:  # the controller's tick: every judge_every batches
                rollout = reconcile(ctx, rollout.id)
            on_batch(rollout, sent)
    finally:
        pool.shutdown(wait=True)
    return SimulationResult(rollout, sent, clock.now() - started, reviews)
