"""The controller's pacing keeps judging to a share of one core."""

from relevo.rollouts.controller import Pacing


def test_a_slow_reconcile_waits_in_proportion():
    clock = [100.0]
    pacing = Pacing(share=0.05, now=lambda: clock[0])
    assert pacing.due(1) and pacing.due(2)
    pacing.spent(1, 2.0)  # 2 s of judging at 5% of a core: the next one 38 s after it ended
    clock[0] += 37.9
    assert not pacing.due(1) and pacing.due(2)
    clock[0] += 0.1
    assert pacing.due(1)
    pacing.spent(2, 0.01)  # a cheap rollout is judged again on the next tick
    clock[0] += 0.2
    assert pacing.due(2)
