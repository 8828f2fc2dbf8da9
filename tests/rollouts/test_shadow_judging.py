"""Shadow judging sees the candidate's failed copies, and judges rates at the spec's tolerance."""

from __future__ import annotations

import numpy as np

from relevo.analysis.judge import Verdict
from relevo.rollouts.guards import check_guards
from relevo.rollouts.judging import judge_shadow
from relevo.rollouts.observations import StepObservations
from relevo.services.rollout_policy import Criterion, Guard, RolloutPolicy, Tolerance


def shadow_step(n: int, seed: int, stable_fail: float, candidate_fail: float) -> StepObservations:
    """A shadow step: the stable version fails on some cases (no copy then), the candidate on some copies."""
    rng = np.random.default_rng(seed)
    failed = rng.random(n) < stable_fail
    shadow_failed = ~failed & (rng.random(n) < candidate_fail)
    stable = np.where(failed, None, "admissible").astype(object)
    copy = np.where(failed | shadow_failed, None, "admissible").astype(object)
    return StepObservations(
        candidate=np.zeros(n, dtype=bool), decision=stable, latency_ms=np.full(n, 5.0), failed=failed,
        corrected=np.zeros(n, dtype=bool), reviewed=np.zeros(n, dtype=bool), held=np.zeros(n, dtype=bool),
        created_at=np.arange(n).astype("datetime64[s]").astype("datetime64[us]"), inputs=[{}] * n,
        shadow_decision=copy, shadow_failed=shadow_failed, shadow_latency_ms=np.where(failed, np.nan, 7.0))


POLICY = RolloutPolicy(criteria=[Criterion(metric="error_rate", tolerance=Tolerance(relative=1.5))],
                       guards=[Guard(max_share=0.2, last=50)])


def test_failed_copies_count_and_a_candidate_failing_as_often_as_stable_passes():
    bad = judge_shadow(POLICY, shadow_step(2000, 1, stable_fail=0.02, candidate_fail=0.10))
    assert bad[0].verdict is Verdict.FAIL and bad[0].estimate > 0.05
    false_rollbacks = sum(judge_shadow(POLICY, shadow_step(1000, seed, 0.03, 0.03))[0].verdict is Verdict.FAIL
                          for seed in range(100, 160))
    assert false_rollbacks <= 6  # alpha 5%: a few at most (the test is conservative here)


def test_the_guard_sees_failed_copies():
    obs = shadow_step(200, 2, stable_fail=0.0, candidate_fail=0.5)
    assert "guard error_rate" in check_guards(POLICY.guards, obs, shadow=True)
    assert check_guards(POLICY.guards, shadow_step(200, 2, 0.0, 0.01), shadow=True) is None


def test_cases_the_candidate_was_never_asked_never_help_it_pass():
    """The stable version failed 30% of the cases (so no copy went to the candidate), and the
    candidate failed 1% of its copies: the harm test may count the untried cases for the
    candidate, the pass may not (it cannot tell whether the candidate would have failed them)."""
    policy = RolloutPolicy(criteria=[Criterion(metric="error_rate", tolerance=Tolerance(absolute=0.01))],
                           guards=[Guard(max_share=0.5, last=50)])
    [result] = judge_shadow(policy, shadow_step(3000, 3, stable_fail=0.30, candidate_fail=0.01))
    assert result.verdict is Verdict.NOT_YET, result.reason
    assert result.harm_e < 1 / result.alpha and result.noninferiority_e < 1 / result.alpha
