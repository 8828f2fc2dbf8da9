"""The synthetic licence applications: deterministic, documented rule, a drift knob that drifts."""

from __future__ import annotations

import re

import numpy as np
import pytest
from scipy import stats

from relevo.demo import applications as apps


def _rule_logit(cols):
    return apps.admissible_logit(
        cols["documents_complete"],
        cols["zoning_compatible"],
        cols["prior_infractions"],
        cols["licence_type"],
    )


def test_same_seed_same_rows_other_seed_other_rows():
    assert apps.generate(400, 3) == apps.generate(400, 3)
    assert apps.generate(400, 3) != apps.generate(400, 4)
    assert apps.generate(400, 3) != apps.generate(400, 3, form_version=2)


def test_rows_have_every_field_with_its_type_and_domain():
    rows = apps.generate(2000, 5)
    ids = [r["applicant_id"] for r in rows]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"A-\d{6}", i) for i in ids)
    for row in rows:
        assert list(row) == list(apps.FIELDS)
        assert row["licence_type"] in apps.LICENCE_TYPES
        assert row["district"] in apps.DISTRICTS
        assert row["applicant_kind"] in apps.APPLICANT_KINDS
        assert row["submission_channel"] in apps.CHANNELS
        assert row["age_band"] in apps.AGE_BANDS
        assert row["nationality_group"] in apps.NATIONALITY_GROUPS
        assert row["outcome"] in apps.LABELS
        assert isinstance(row["documents_complete"], float)
        assert 0.0 <= row["documents_complete"] <= 1.0
        assert isinstance(row["zoning_compatible"], bool)
        assert isinstance(row["prior_infractions"], int) and row["prior_infractions"] >= 0
    # every category shows up in a sample this size
    cols = apps.columns(rows)
    assert set(cols["licence_type"]) == set(apps.LICENCE_TYPES)
    assert set(cols["age_band"]) == set(apps.AGE_BANDS)


def test_edge_cases():
    assert apps.generate(0, 1) == []
    with pytest.raises(ValueError):
        apps.generate(10, 1, form_version=3)
    with pytest.raises(ValueError):
        apps.generate(-1, 1)


def test_columns_and_matrix():
    rows = apps.generate(50, 1)
    cols = apps.columns(rows)
    assert cols["documents_complete"].dtype == np.float64
    assert cols["zoning_compatible"].dtype == np.bool_
    assert cols["prior_infractions"].dtype == np.int64
    assert cols["district"].dtype == object and len(cols["district"]) == 50
    m = apps.matrix(rows, ["district", "prior_infractions"])
    assert m.shape == (50, 2) and m.dtype == object
    assert m[7, 1] == rows[7]["prior_infractions"]


def test_csv_round_trip_is_exact_and_byte_stable(tmp_path):
    rows = apps.generate(300, 9)
    a = apps.write_csv(rows, tmp_path / "a.csv")
    b = apps.write_csv(apps.generate(300, 9), tmp_path / "sub" / "b.csv")
    assert a.read_bytes() == b.read_bytes()
    assert apps.read_csv(a) == rows
    header = a.read_text(encoding="utf-8").splitlines()[0]
    assert header == ",".join(apps.FIELDS)
    partial = apps.write_csv(rows, tmp_path / "c.csv", ["district", "outcome"])
    first = rows[0]
    assert apps.read_csv(partial)[0] == {"district": first["district"], "outcome": first["outcome"]}


def test_form_version_2_shifts_documents_up_and_channels_online():
    old = apps.columns(apps.generate(3000, 11))
    new = apps.columns(apps.generate(3000, 11, form_version=2))
    ks = stats.ks_2samp(old["documents_complete"], new["documents_complete"])
    assert ks.pvalue < 1e-6
    assert new["documents_complete"].mean() > old["documents_complete"].mean() + 0.05
    online_old = (old["submission_channel"] == "online").mean()
    online_new = (new["submission_channel"] == "online").mean()
    assert online_new > online_old + 0.15
    assert (new["outcome"] == "rejected").mean() < (old["outcome"] == "rejected").mean()
    # same form version, another seed: no shift
    other = apps.columns(apps.generate(3000, 12))
    assert stats.ks_2samp(old["documents_complete"], other["documents_complete"]).pvalue > 0.01


def test_label_follows_the_documented_rule():
    cols = apps.columns(apps.generate(20000, 21))
    rejected = cols["outcome"] == "rejected"
    z = _rule_logit(cols)
    p_rejected = 1.0 / (1.0 + np.exp(z))
    assert abs(rejected.mean() - p_rejected.mean()) < 0.01
    assert 0.2 < rejected.mean() < 0.35
    docs, infractions = cols["documents_complete"], cols["prior_infractions"]
    clean = (docs == 1.0) & cols["zoning_compatible"] & (infractions == 0)
    assert rejected[clean].mean() < 0.1
    assert rejected[docs < 0.6].mean() > 0.7
    assert rejected[infractions >= 2].mean() > rejected[infractions == 0].mean()


RULE_FREE = ["age_band", "nationality_group", "applicant_kind", "district", "submission_channel"]


@pytest.mark.parametrize("attribute", RULE_FREE)
def test_label_has_no_direct_dependence_beyond_the_rule(attribute):
    """Given the rule's inputs, an attribute adds nothing: mean residual is ~0 in every group."""
    cols = apps.columns(apps.generate(20000, 22))
    z = _rule_logit(cols)
    residual = (cols["outcome"] == "rejected") - 1.0 / (1.0 + np.exp(z))
    for group in set(cols[attribute]):
        in_group = cols[attribute] == group
        assert abs(residual[in_group].mean()) < 4 / np.sqrt(in_group.sum()), (attribute, group)


def test_channel_links_protected_attributes_mildly():
    cols = apps.columns(apps.generate(20000, 23))
    online = cols["submission_channel"] == "online"
    young, old = cols["age_band"] == "18-29", cols["age_band"] == "65+"
    assert online[young].mean() > online[old].mean() + 0.2
    rejected = cols["outcome"] == "rejected"
    gap = rejected[old].mean() - rejected[young].mean()
    assert 0.0 < gap < 0.12
