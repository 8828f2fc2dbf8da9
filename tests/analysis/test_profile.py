"""Reference profiles against brute-force counts and numpy's own quantiles on known data."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from scipy import stats

from relevo.analysis.profile import categorical_profile, numeric_profile
from relevo.registry.reference_data import profile_reference_data


def test_numeric_bins_hold_every_value_once_and_match_a_brute_force_count():
    rng = np.random.default_rng(1)
    values = rng.normal(10, 2, 5000)
    values[:250] = np.nan
    p = numeric_profile(values)
    present = values[~np.isnan(values)]
    assert p["missing_rate"] == 0.05 and p["count"] == 5000
    edges = np.array(p["edges"])
    brute = [int(np.sum(present <= edges[0]))]
    brute += [int(np.sum((present > lo) & (present <= hi))) for lo, hi in zip(edges[:-1], edges[1:])]
    brute.append(int(np.sum(present > edges[-1])))
    assert p["counts"] == brute and sum(brute) == present.size
    # deciles of a large normal sample sit near the true ones
    assert np.allclose(edges, stats.norm(10, 2).ppf(np.linspace(0.1, 0.9, 9)), atol=0.15)
    assert abs(p["quantiles"][50] - 10) < 0.1 and p["quantiles"][0] == present.min()


def test_discrete_columns_collapse_repeated_edges():
    values = np.array([0] * 60 + [1] * 30 + [2] * 10, dtype=float)
    p = numeric_profile(values)
    assert p["edges"] == [0.0, 1.0] and p["counts"] == [60, 30, 10]


def test_categorical_counts_and_identifier_like_columns_keep_no_values():
    p = categorical_profile(["a", "b", "a", None])
    assert p["categories"] == {"a": 2, "b": 1} and p["missing_rate"] == 0.25
    ids = categorical_profile([f"A-{i}" for i in range(500)])
    assert ids["high_cardinality"] and ids["categories"] == {} and ids["distinct"] == 500


def test_parquet_sample_profiles_like_csv(tmp_path):
    table = pa.table({"amount": [1.0, 2.0, None, 4.0], "zoning_compatible": [True, False, True, None],
                      "applicant_id": ["x1", "x2", "x3", "x4"]})
    path = tmp_path / "sample.parquet"
    pq.write_table(table, path)
    profile = profile_reference_data(path, personal={"applicant_id"})
    assert profile["rows"] == 4 and profile["skipped"] == ["applicant_id"]
    assert profile["features"]["amount"]["missing_rate"] == 0.25
    assert profile["features"]["zoning_compatible"]["categories"] == {"false": 1, "true": 2}
