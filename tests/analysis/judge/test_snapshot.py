"""A judge state written as JSON and read back is the same state, bit for bit, and goes on the same."""

from __future__ import annotations

import json

import numpy as np
import pytest

from relevo.analysis.judge import BettingMean, DifferenceState, PairedState, RateState, RatioState
from relevo.analysis.judge.snapshot import from_plain, to_plain


def states(rng):
    """Each kind of state, fed a few batches (one with inf and nan in a running maximum's reach)."""
    y = (rng.random(60) < 0.3).astype(int)
    a = (rng.random(60) < 0.4).astype(int)
    yield RatioState.start(1.2, 0.01).update(a[:20], 0.4).update(a[20:], 0.3), lambda s: s.update(a[:7], 0.2)
    yield DifferenceState.start(0.02).update(y, a, 0.4), lambda s: s.update(y[:9], a[:9], 0.4)
    yield PairedState.start(0.0).update(y[:30], a[:30]), lambda s: s.update(y[30:], a[30:])
    yield RateState.start(0.05).update(y), lambda s: s.update(y[:5])
    yield BettingMean.start(-1.0, 1.0, tol=0.1, points=3).update(y - a, -1, 1), lambda s: s.update(a - y, -1, 1)


@pytest.mark.parametrize("seed", range(3))
def test_a_state_read_back_is_the_same_and_goes_on_the_same(seed):
    for state, more in states(np.random.default_rng(seed)):
        back = from_plain(json.loads(json.dumps(to_plain(state))))
        assert type(back) is type(state)
        assert json.dumps(to_plain(back)) == json.dumps(to_plain(state))
        assert json.dumps(to_plain(more(back))) == json.dumps(to_plain(more(state)))


def test_values_json_has_no_word_for_come_back():
    plain = to_plain(np.array([np.inf, -np.inf, 1.5, np.nan]))
    back = from_plain(json.loads(json.dumps(plain, allow_nan=False)))
    assert back[:3].tolist() == [np.inf, -np.inf, 1.5] and np.isnan(back[3])


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown judge state kind"):
        from_plain({"kind": "Pickle"})
