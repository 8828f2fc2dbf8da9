"""Significant-change detection on crafted pairs of releases: each kind of difference, and none."""

from __future__ import annotations

import pytest
import yaml

from relevo.demo import spec_resource
from relevo.governance import significant_differences
from relevo.governance.significance import outside_plan
from relevo.registry import parse_metadata
from relevo.services import parse_spec

from tests.conftest import demo_training


@pytest.fixture(scope="module")
def release():
    """The demo's v1 metadata and the demo spec."""
    v1 = demo_training()[0]
    metadata = yaml.safe_load(v1.metadata_path.read_text(encoding="utf-8"))
    spec = yaml.safe_load(spec_resource().read_text(encoding="utf-8"))
    return metadata, spec


def differences(release, change_metadata=None, change_spec=None):
    metadata, spec = release
    before_m, before_s = parse_metadata(metadata, "v1"), parse_spec(spec, "spec")
    after_meta, after_spec = yaml.safe_load(yaml.safe_dump(metadata)), yaml.safe_load(yaml.safe_dump(spec))
    (change_metadata or (lambda m: None))(after_meta)
    (change_spec or (lambda s: None))(after_spec)
    found = significant_differences(before_m, before_s, parse_metadata(after_meta, "v2"), parse_spec(after_spec, "s"))
    return [d.kind for d in found], found


def test_an_identical_release_or_a_retraining_is_no_significant_change(release):
    assert differences(release)[0] == []

    def retrained(m):
        m["training_data"]["sha256"] = "0" * 64  # newer data from the same source
        m["hyperparameters"]["C"] = 0.5
        m["trained_at"] = "2026-12-01"
    assert differences(release, retrained)[0] == []


def _first_input(m):
    return m["signature"]["inputs"][0]


@pytest.mark.parametrize("kind,change_metadata,change_spec", [
    ("input_fields", lambda m: m["signature"]["inputs"].pop(), None),
    ("input_fields", lambda m: _first_input(m).update(type="boolean" if _first_input(m)["type"] != "boolean"
                                                      else "string"), None),
    ("personal_fields", None, lambda s: s["inputs"]["district"].update(personal=True)),
    ("protected_inputs", lambda m: _first_input(m).update(protected=True), None),
    ("decision_labels", None, lambda s: s.update(decisions=[*s["decisions"], "deferred"])),
    ("model_family", lambda m: m.update(family="random forest"), None),
    ("model_family", lambda m: m.pop("family"), None),
    ("training_data_source", lambda m: m["training_data"].update(reference="s3://other-bucket/applications.csv"),
     None),
])
def test_each_kind_of_difference_is_found_alone(release, kind, change_metadata, change_spec):
    kinds, found = differences(release, change_metadata, change_spec)
    assert set(kinds) == {kind}, found
    assert all(d.what for d in found)


def test_the_change_plan_decides_what_is_substantial(release):
    _, found = differences(release, lambda m: (m.update(family="random forest"),
                                               m["training_data"].update(reference="s3://b/a.csv")))
    assert {d.kind for d in found} == {"model_family", "training_data_source"}
    assert [d.kind for d in outside_plan(found, ["training_data_source"])] == ["model_family"]
    assert outside_plan(found, ["training_data_source", "model_family"]) == []
