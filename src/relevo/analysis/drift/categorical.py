"""Drift of a categorical field, from category counts: PSI, the Jensen-Shannon distance, a chi-square
goodness-of-fit test against the reference's shares, and the values the reference never had."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np
from numpy.typing import ArrayLike

from relevo.analysis.drift.numeric import psi


@dataclass(frozen=True)
class CategoryShift:
    """How a field's categories moved from the reference to the current counts."""

    psi: float
    js: float  # Jensen-Shannon distance, natural logarithm (as scipy.spatial.distance.jensenshannon)
    chi_square: float | None  # over the reference's categories; None with fewer than two of them
    chi_square_p: float | None
    new: dict[str, int]  # values the reference never had, with their counts
    new_share: float
    shift_p: float | None  # a homogeneity test's p-value: could the two counts come from one distribution?


def aligned(reference: Mapping[str, int], current: Mapping[str, int]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(categories, reference counts, current counts) over the union of both, in a stable order."""
    names = sorted(set(reference) | set(current))
    return (names, np.array([reference.get(n, 0) for n in names], dtype=float),
            np.array([current.get(n, 0) for n in names], dtype=float))


def jensen_shannon(p: np.ndarray, q: np.ndarray) -> float:
    """The Jensen-Shannon distance between two count (or share) vectors, natural logarithm."""
    from scipy.special import rel_entr  # imported when needed: scipy.special adds ~0.1 s to every command's start

    p = np.asarray(p, dtype=float) / np.sum(p)
    q = np.asarray(q, dtype=float) / np.sum(q)
    m = (p + q) / 2
    divergence = (np.sum(rel_entr(p, m)) + np.sum(rel_entr(q, m))) / 2
    return float(np.sqrt(max(divergence, 0.0)))


def chi_square(reference: np.ndarray, current: np.ndarray) -> tuple[float, float] | None:
    """(statistic, p-value) of current counts against the reference's shares, or None with fewer than
    two categories or no current count."""
    from scipy.special import chdtrc  # imported when needed: scipy.special adds ~0.1 s to every command's start

    keep = reference > 0
    ref, cur = reference[keep], current[keep]
    if ref.size < 2 or cur.sum() == 0:
        return None
    expected = ref / ref.sum() * cur.sum()
    statistic = float(np.sum((cur - expected) ** 2 / expected))
    return statistic, float(chdtrc(ref.size - 1, statistic))


SPARSE = 5.0  # a cell expected to hold fewer cases is pooled, as the chi-square approximation needs


def homogeneity(reference: ArrayLike, current: ArrayLike) -> float | None:
    """The p-value of a chi-square test that two samples come from one distribution over the same bins
    or categories (each sample's own noise counted), or None when fewer than two cells remain.

    Cells expected to hold fewer than five cases in either sample are pooled into one, so the
    test's chi-square approximation holds at small counts (a few cases never look like drift).
    """
    from scipy.special import chdtrc  # imported when needed: scipy.special adds ~0.1 s to every command's start

    ref = np.asarray(reference, dtype=float)
    cur = np.asarray(current, dtype=float)
    n_ref, n_cur = ref.sum(), cur.sum()
    if n_ref <= 0 or n_cur <= 0:
        return None
    cells = ref + cur
    keep = np.minimum(cells * n_ref, cells * n_cur) / (n_ref + n_cur) >= SPARSE
    table = np.vstack([ref[keep], cur[keep]])
    if (~keep).any():
        pooled = np.array([[ref[~keep].sum()], [cur[~keep].sum()]])
        if table.shape[1] and pooled.sum() * min(n_ref, n_cur) / (n_ref + n_cur) < SPARSE:
            # Still too few: the pooled cell joins the smallest kept one.
            smallest = int(np.argmin(table.sum(axis=0)))
            table[:, smallest] += pooled[:, 0]
        else:
            table = np.hstack([table, pooled])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return None
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    statistic = float(np.sum((table - expected) ** 2 / expected))
    return float(chdtrc(table.shape[1] - 1, statistic))


def category_shift(reference: Mapping[str, int], current: Mapping[str, int]) -> CategoryShift:
    """Every statistic of a categorical field's move from reference to current counts."""
    names, ref, cur = aligned(reference, current)
    if ref.sum() == 0 or cur.sum() == 0:
        raise ValueError("a category shift needs counts on both sides")
    new = {n: int(c) for n, r, c in zip(names, ref, cur) if r == 0 and c > 0}
    tested = chi_square(ref, cur)
    return CategoryShift(psi=psi(ref, cur), js=jensen_shannon(ref, cur),
                         chi_square=None if tested is None else tested[0],
                         chi_square_p=None if tested is None else tested[1],
                         new=new, new_share=sum(new.values()) / float(cur.sum()), shift_p=homogeneity(ref, cur))
