"""Feeding many batches in one call gives, bit for bit, the state of feeding them one call each.

The judge feeds a tick's batches in one pass (relevo.rollouts.ledger.feed); a step judged in
increments must still equal a step judged once, so the one-pass update of every kind of state
must equal its batch-by-batch update exactly, not to a tolerance.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relevo.analysis.judge import BettingMean, DifferenceState, PairedState, RateState, RatioState
from relevo.analysis.judge.snapshot import to_plain


def kinds(rng, n: int):
    """(state, its rows) for each kind of state, the rows as the judge feeds them."""
    y = (rng.random(n) < 0.3).astype(int)
    a = (rng.random(n) < 0.1).astype(int)
    w = np.where(rng.random(n) < 0.5, 0.05, 0.3)
    yield DifferenceState.start(tol=0.02), (y, a, w)
    yield PairedState.start(tol=0.01), (y, a)
    yield RateState.start(p0=0.05), (y,)
    yield RatioState.start(rho_tol=1.2), (a, w)
    yield BettingMean.start(0.0, 1.0, tol=0.4), (rng.random(n), 0.0, 1.0)  # continuous: no repeated values


def one_by_one(state, starts, rows):
    bounds = list(starts) + [len(rows[0])]
    for start, stop in zip(bounds, bounds[1:]):
        state = state.update(*(r[start:stop] if np.ndim(r) else r for r in rows))
    return state


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**16), sizes=st.lists(st.integers(1, 40), min_size=1, max_size=12))
def test_batches_in_one_call_equal_batches_one_by_one(seed, sizes):
    starts = np.cumsum([0] + sizes[:-1])
    for state, rows in kinds(np.random.default_rng(seed), sum(sizes)):
        begun = one_by_one(state, starts[:1], tuple(r[:sizes[0]] if np.ndim(r) else r for r in rows))
        at_once = state.update_batches(starts, *rows)
        assert json.dumps(to_plain(at_once)) == json.dumps(to_plain(one_by_one(state, starts, rows))), type(state)
        # and in two calls, the first batch then the rest
        rest = tuple(r[sizes[0]:] if np.ndim(r) else r for r in rows)
        later = begun.update_batches(starts[1:] - sizes[0], *rest) if len(sizes) > 1 else begun
        assert json.dumps(to_plain(later)) == json.dumps(to_plain(at_once)), type(state)


def test_the_grid_evaluated_once_per_value_equals_the_capital_of_every_observation():
    """The betting capital is a product over observations: weighing each distinct value's factor by
    its count must give what multiplying every observation's factor gives (to rounding)."""
    rng = np.random.default_rng(7)
    z = rng.choice([-1.0, 0.0, 1.0], size=300)
    state = BettingMean.start(-1.0, 1.0, tol=0.0).update(z[:100], -1.0, 1.0)
    after = state.update(z[100:], -1.0, 1.0)
    mean = (state.prior_mean + z[:100].sum()) / 101
    var = (state.prior_var + ((z[:100] - mean) ** 2).sum()) / 101  # one prior pseudo-observation
    gap = mean - state.grid
    with np.errstate(divide="ignore"):  # at the range's ends one side has no cap
        stake = np.clip(gap / (var + gap**2), -0.5 / (1 - state.grid), 0.5 / (state.grid + 1))
    product = np.ones_like(state.grid)
    for value in z[100:]:
        product *= 1 + stake * (value - state.grid)
    assert np.allclose(after.log_capital - state.log_capital, np.log(product), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("starts", [[1, 3], [0, 3, 3], [0, 5, 2], [0, 10]])
def test_batch_starts_that_do_not_cut_the_rows_are_refused(starts):
    with pytest.raises(ValueError, match="batch starts"):
        RateState.start(p0=0.1).update_batches(starts, np.zeros(10, dtype=int))
