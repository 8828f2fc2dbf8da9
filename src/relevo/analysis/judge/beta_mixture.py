"""Beta mixtures of Bernoulli likelihood ratios: closed-form e-values and confidence sequences.

Observations are Bernoulli(q): S successes and F failures so far. For one alternative q1 the
likelihood ratio against q0, q1^S (1-q1)^F / (q0^S (1-q0)^F), is a nonnegative martingale when
q = q0, and a supermartingale whenever the truth lies on the other side of q0 from q1 (its
one-step mean is monotone in q and equals 1 at q0). Mixing over q1 with a prior fixed in
advance keeps both properties, and a Beta(a, b) prior integrates in closed form:

    E = B(a+S, b+F) / B(a, b) / (q0^S (1-q0)^F)                          (two-sided, null q = q0)
    E = the same * P(q1 > q0 | Beta(a+S, b+F)) / P(q1 > q0 | Beta(a, b))  ("greater": null q <= q0)
    E = the same * P(q1 < q0 | Beta(a+S, b+F)) / P(q1 < q0 | Beta(a, b))  ("less": null q >= q0)

For the one-sided forms the prior is the Beta restricted to the alternative side, so every
mixed ratio is a supermartingale under the composite null. By Ville's inequality the chance
that E ever reaches 1/alpha is at most alpha, however often one looks. The two-sided form gives
Robbins' conjugate-mixture confidence sequence: the q0 whose E stays below 1/alpha.

Default prior: Jeffreys, Beta(1/2, 1/2); any prior chosen before the data is valid.
"""

from __future__ import annotations

import numpy as np

SIDES = ("greater", "less", "two-sided")


def log_e_value(successes, failures, q0, side: str = "two-sided", a: float = 0.5, b: float = 0.5):
    """Log of the Beta-mixture e-value against q = q0 / q <= q0 / q >= q0 (arrays broadcast)."""
    from scipy.special import betainc, betaincc, betaln  # imported when needed: scipy.special adds ~0.1 s to every command's start

    if side not in SIDES:
        raise ValueError(f"side must be one of {SIDES}, got {side!r}")
    q0 = np.asarray(q0, dtype=float)
    if np.any((q0 <= 0) | (q0 >= 1)):
        raise ValueError(f"q0 must lie strictly between 0 and 1, got {q0}")
    s = np.asarray(successes, dtype=float)
    f = np.asarray(failures, dtype=float)
    # xlogy-style guards are not needed: q0 is strictly inside (0, 1), so the logs are finite.
    out = betaln(a + s, b + f) - betaln(a, b) - s * np.log(q0) - f * np.log1p(-q0)
    if side == "greater":
        # P(q1 > q0) is the upper tail of the regularised incomplete beta; betaincc keeps its
        # precision when that tail is tiny (1 - betainc would round to 0).
        with np.errstate(divide="ignore"):
            out = out + np.log(betaincc(a + s, b + f, q0)) - np.log(betaincc(a, b, q0))
    elif side == "less":
        with np.errstate(divide="ignore"):
            out = out + np.log(betainc(a + s, b + f, q0)) - np.log(betainc(a, b, q0))
    return out if out.ndim else float(out)


def confidence_interval(successes: int, failures: int, alpha: float, a: float = 0.5,
                        b: float = 0.5) -> tuple[float, float]:
    """The q0 values whose two-sided Beta-mixture e-value is below 1/alpha (one look)."""
    from scipy.special import expit, logit  # imported when needed: scipy.special adds ~0.1 s to every command's start

    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie strictly between 0 and 1, got {alpha}")
    if successes < 0 or failures < 0:
        raise ValueError(f"counts must be non-negative, got {successes} and {failures}")
    s, f = float(successes), float(failures)
    level = np.log(1 / alpha)

    # In logit(q0) the log e-value is convex with its minimum (<= 0: the mixture likelihood
    # never beats the maximum likelihood) at the observed share, so the accepted set is one
    # interval and each end is a single root. expit(-700) is still a positive float and expit(36)
    # the last one below 1 (past that q0 would round to 1 and the test is undefined).
    def excess(theta: float) -> float:
        return log_e_value(s, f, float(expit(theta)), "two-sided", a, b) - level

    n = s + f
    # The observed share (clipped off 0 and 1, where the logit is infinite) is always inside.
    centre = float(logit(np.clip(s / n, 1e-12, 1 - 1e-12))) if n else 0.0
    centre = min(centre, 35.0)
    from scipy.optimize import brentq  # imported when needed: scipy.optimize adds ~0.2 s to every command's start

    lower = 0.0 if excess(-700.0) < 0 else float(expit(brentq(excess, -700.0, centre, xtol=1e-12)))
    upper = 1.0 if excess(36.0) < 0 else float(expit(brentq(excess, centre, 36.0, xtol=1e-12)))
    return lower, upper
