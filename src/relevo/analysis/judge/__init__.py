"""The canary judge's statistics: anytime-valid tests and confidence sequences, pure functions.

No I/O and no database: states are small frozen dataclasses fed batch by batch, and every
number they report stays valid however often it is read (Ville's inequality). The method
follows the project's judge note (JUDGE.md); one idea per module:

- beta_mixture: closed-form Beta mixtures of Bernoulli likelihood ratios
- ratio: candidate/stable event-rate ratio from events only (rare events, changing weights)
- betting: betting confidence sequences for bounded means
- difference: absolute difference of rates from all decisions (inverse-probability contrast)
- paired: shadow/replay pairs (difference, sequential McNemar, agreement, flip table)
- proportion: one-sample rates and fairness intervals
- verdict: pass / fail / not yet / not applicable, with alpha split across metrics
"""

from .betting import BettingMean
from .difference import DifferenceState
from .paired import PairedState, mcnemar_log_e
from .proportion import (RateState, disparate_impact_interval, group_rate_bounds, rate_interval,
                         ratio_interval)
from .ratio import RatioState, constant_weight_interval, constant_weight_log_e
from .verdict import Evidence, MetricVerdict, Verdict, combine, evidence_from, judge_metric, split_alpha

__all__ = [
    "BettingMean", "DifferenceState", "Evidence", "MetricVerdict", "PairedState",
    "RateState", "RatioState", "Verdict", "constant_weight_interval", "constant_weight_log_e",
    "combine", "disparate_impact_interval", "evidence_from", "group_rate_bounds", "judge_metric",
    "mcnemar_log_e", "rate_interval", "ratio_interval", "split_alpha",
]
