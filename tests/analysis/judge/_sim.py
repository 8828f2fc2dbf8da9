"""Shared helpers for the judge's simulation tests: rates with intervals, and honest asserts."""

from __future__ import annotations

import numpy as np
from scipy.stats import binomtest

CHECK_LEVEL = 0.001  # a simulated rate fails only when it is clearly above its bound


def report(name: str, hits: int, runs: int) -> str:
    """Print and return a rate with its Clopper-Pearson 95% interval."""
    ci = binomtest(hits, runs).proportion_ci(0.95, method="exact")
    line = f"{name}: {hits}/{runs} = {hits / runs:.4f} (95% CI {ci.low:.4f}-{ci.high:.4f})"
    print(line)
    return line


def assert_rate_at_most(name: str, hits: int, runs: int, bound: float) -> None:
    """Fail when a one-sided binomial test says the true rate exceeds bound."""
    line = report(name, hits, runs)
    p = binomtest(hits, runs, bound, alternative="greater").pvalue
    assert p > CHECK_LEVEL, f"{line} exceeds {bound} (one-sided p = {p:.2g})"


def crossed_at_looks(log_e_path: np.ndarray, looks: np.ndarray, level: float) -> np.ndarray:
    """Per run: did the log e-process reach level at any of the given look indices (last axis)?"""
    return np.any(log_e_path[..., looks] >= level, axis=-1)


def first_crossing(log_e_path: np.ndarray, level: float) -> np.ndarray:
    """Per run: index of the first look where the path reached level, or -1 if never."""
    hit = log_e_path >= level
    return np.where(hit.any(axis=-1), hit.argmax(axis=-1), -1)
