"""Drift statistics from stored profiles: numeric fields (PSI, KS and Wasserstein from quantile
sketches, with error bounds), categorical fields (PSI, Jensen-Shannon, chi-square, new values),
and one field's comparison with a status that says why it was not compared."""

from relevo.analysis.drift.categorical import CategoryShift, category_shift, chi_square, homogeneity, jensen_shannon
from relevo.analysis.drift.field import (
    COMPARED,
    NO_REFERENCE,
    NOT_ENOUGH,
    PERSONAL,
    TOO_MANY,
    FieldDrift,
    Shares,
    compare_field,
)
from relevo.analysis.drift.numeric import (
    dkw,
    ks_against_sketch,
    ks_between_sketches,
    psi,
    sketch_bound,
    sketch_cdf,
    wasserstein_normed,
)

__all__ = ["COMPARED", "CategoryShift", "FieldDrift", "NOT_ENOUGH", "NO_REFERENCE", "PERSONAL", "Shares", "TOO_MANY",
           "category_shift", "chi_square", "compare_field", "dkw", "homogeneity", "jensen_shannon", "ks_against_sketch",
           "ks_between_sketches", "psi", "sketch_bound", "sketch_cdf", "wasserstein_normed"]
