"""The judge judged in increments gives exactly the verdict it gives judging once (a property).

A step's decisions arrive over time; at each judgement only what arrived since the last one is
read, the kept evidence (relevo.rollouts.ledger) is advanced and written out as JSON and read
back. After the last decision, every criterion's verdict and number, and the guard, must be
bit for bit those of one judgement reading the whole step, for any number of increments, at
any moments, with decisions made at the same moment, late verdicts and relative and absolute
tolerances. And the same as the judge reading full observations (the way every judgement was
made before evidence was kept), where verdicts came within the review delay.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import numpy as np
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relevo.demo import spec_resource
from relevo.rollouts.judgement import judge_step
from relevo.rollouts.ledger import SETTLE, Ledger, as_us
from relevo.rollouts.observations import ReviewedDecisions, StepObservations
from relevo.rollouts.rollout import Rollout
from relevo.services.spec import parse_spec

SPEC = yaml.safe_load(spec_resource().read_text())
START = datetime(2026, 5, 30, 8, tzinfo=timezone.utc)
DELAY = timedelta(hours=12)  # the demo's correction_rate review delay


def policy(relative: bool):
    """The demo's criteria, with relative tolerances (the ratio form, paired z) when asked."""
    rollout = json.loads(json.dumps(SPEC["rollout"]))
    if relative:
        for criterion in rollout["criteria"]:
            if "tolerance" in criterion:
                criterion["tolerance"] = {"relative": 1.25}
        rollout["criteria"].append({"metric": "latency", "budget_ms": 3.0, "min_sample": 50,
                                    "tolerance": {"relative": 1.2}})
    return parse_spec(SPEC | {"rollout": rollout}, "demo spec").rollout


def rollout(phase: str) -> Rollout:
    step = {"kind": phase, "weight": 30, "duration": "48h"} if phase == "canary" else {"kind": "shadow",
                                                                                       "duration": "48h"}
    return Rollout(id=1, service="demo", environment="production", release_id=1, stable_version_id=1,
                   candidate_version_id=2, stable_release_id=None, plan_name="p", plan=[step, {"kind": "promote"}],
                   state="running", step_index=0, step_started_at=START, step_extended_by_s=0.0, hold_reason=None,
                   started_at=START, started_by="x", ended_at=None, incident_id=None)


def decisions(seed: int, n: int, group: int, shadow: bool) -> tuple[StepObservations, np.ndarray]:
    """A step's decisions, `group` at a time at the same moment, and when each one's verdict came
    (NaT: never reviewed): most within the review delay, some long after it."""
    rng = np.random.default_rng(seed)
    candidate = rng.random(n) < (0.0 if shadow else 0.3)
    rejected = rng.random(n) < np.where(candidate, 0.32, 0.27)
    decision = np.where(rejected, "rejected", "admissible").astype(object)
    copy = np.where(rng.random(n) < 0.29, "rejected", "admissible").astype(object)
    failed = rng.random(n) < np.where(candidate, 0.05, 0.02)
    created = as_us(START) + (np.arange(n) // group).astype("timedelta64[m]")
    bands = ["18-29", "30-44", "45-64", "65+"]
    reviewed = rng.random(n) < 0.3
    lag_hours = np.where(rng.random(n) < 0.8, rng.uniform(0, 11, n), rng.uniform(13, 60, n))
    verdict_at = np.where(reviewed, created + (lag_hours * 3.6e9).astype("timedelta64[us]"),
                          np.datetime64("NaT"))
    obs = StepObservations(
        candidate=candidate, decision=np.where(failed, None, decision).astype(object),
        latency_ms=rng.exponential(2.0, n), failed=failed,
        corrected=reviewed & (rng.random(n) < 0.1), reviewed=reviewed, held=np.zeros(n, dtype=bool),
        created_at=created, inputs=[{"age_band": bands[i]} for i in rng.integers(0, 4, n)],
        shadow_decision=np.where(shadow & ~failed, copy, None).astype(object),
        shadow_failed=np.zeros(n, dtype=bool) if not shadow else rng.random(n) < 0.01,
        shadow_latency_ms=rng.exponential(2.5, n) if shadow else np.full(n, np.nan))
    return obs, verdict_at


def reviews_between(obs: StepObservations, verdict_at: np.ndarray, after, until) -> ReviewedDecisions:
    """The verdicts that came to count after `after` and by `until` (as the store reads them)."""
    delay = np.timedelta64(int(DELAY.total_seconds() * 1e6), "us")
    counted_at = np.maximum(obs.created_at + delay, np.where(obs.reviewed, verdict_at, obs.created_at))
    pick = obs.reviewed & (counted_at <= until) & ((counted_at > after) if after is not None else True)
    order = np.argsort(counted_at[pick], kind="stable")
    return ReviewedDecisions(obs.candidate[pick][order], obs.corrected[pick][order], counted_at[pick][order])


def judged(ledger, news, obs, verdict_at, now, after, phase, relative):
    """The judgement at now on the news (all of obs that arrived since `after`) and the verdicts."""
    reviews = reviews_between(obs, verdict_at, after, as_us(now))
    return judge_step(policy(relative), rollout(phase), news, now, ledger=ledger, reviews=lambda c: reviews)


def result(judgement) -> dict:
    return judgement.as_dict()


def in_increments(obs, verdict_at, moments, end, phase, relative) -> dict:
    """Judge at each moment on what arrived since the last (kept evidence through JSON), then at end."""
    kept, cursor = None, None
    for now in [*moments, end]:
        horizon = as_us(now - SETTLE)
        if cursor is not None:
            horizon = max(horizon, cursor)
        ledger = Ledger.read(json.loads(json.dumps(kept)) if kept else None, horizon)
        visible = obs.created_at <= as_us(now)
        news = visible & ((obs.created_at > cursor) if cursor is not None else True)
        judgement = judged(ledger, obs.take(news), obs, verdict_at, now, cursor, phase, relative)
        kept, cursor = ledger.plain(), horizon
    return result(judgement)


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(30, 1200), group=st.sampled_from([1, 3, 25]),
       phase=st.sampled_from(["canary", "shadow"]), relative=st.booleans(),
       cuts=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=12))
def test_judging_in_increments_gives_the_verdict_of_judging_once(seed, n, group, phase, relative, cuts):
    obs, verdict_at = decisions(seed, n, group, phase == "shadow")
    span = (obs.created_at[-1] - obs.created_at[0]) + np.timedelta64(3, "D")
    end = START + timedelta(microseconds=int(span.astype("int64")))
    moments = sorted(START + (end - START) * cut for cut in cuts)
    once = judged(Ledger(), obs, obs, verdict_at, end, None, phase, relative)
    assert in_increments(obs, verdict_at, moments, end, phase, relative) == result(once)


@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(30, 800), phase=st.sampled_from(["canary", "shadow"]))
def test_kept_evidence_gives_the_verdict_of_reading_the_whole_step(seed, n, phase):
    # Verdicts within the review delay: the verdict is the one the judge gives reading full
    # observations, counting reviewed decisions from their time (how every step was judged before).
    obs, verdict_at = decisions(seed, n, 5, phase == "shadow")
    verdict_at = np.where(obs.reviewed, obs.created_at, np.datetime64("NaT"))
    end = START + timedelta(days=3)
    whole = judge_step(policy(False), rollout(phase), obs, end)
    cuts = np.random.default_rng(seed).uniform(0, 1, 5)
    moments = sorted(START + (end - START) * float(cut) for cut in cuts)
    assert in_increments(obs, verdict_at, moments, end, phase, False) == result(whole)


def test_a_guard_sees_the_candidate_s_last_decisions_across_increments():
    obs, verdict_at = decisions(7, 600, 1, False)
    failing = obs.candidate & (np.arange(obs.n) > 450)  # the candidate breaks late in the step
    broken = StepObservations(**{**obs.__dict__, "failed": obs.failed | failing,
                                 "decision": np.where(failing, None, obs.decision).astype(object)})
    end = START + timedelta(days=1)
    moments = [START + timedelta(hours=h) for h in (1, 3, 5, 7)]
    once = judged(Ledger(), broken, broken, verdict_at, end, None, "canary", False)
    assert once.guard and "guard error_rate" in once.guard
    assert in_increments(broken, verdict_at, moments, end, "canary", False) == result(once)
