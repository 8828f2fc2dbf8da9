"""skops artifacts: faithful predictions, and refusal of types nobody reviewed."""

from __future__ import annotations

import numpy as np
import pytest
import skops.io

from relevo.errors import InvalidInput, Refused
from relevo.loaders import ModelFailure, load_model
from tests.loaders.loader_testkit import (
    MIXED_NAMES,
    MIXED_SIGNATURE,
    NUMERIC_NAMES,
    NUMERIC_SIGNATURE,
    ThresholdClassifier,
    mixed_data,
    numeric_data,
    rows,
    signature,
    spec,
)

CUSTOM_TYPE = "tests.loaders.loader_testkit.ThresholdClassifier"


def _dump(estimator, tmp_path, name="model.skops"):
    skops.io.dump(estimator, tmp_path / name)
    return tmp_path


def _assert_same_as(model, estimator, x, names):
    predictions = model.predict(rows(x, names))
    assert [p.decision for p in predictions] == [str(label) for label in estimator.predict(x)]
    expected = estimator.predict_proba(x)
    got = np.array([[p.probabilities[str(c)] for c in estimator.classes_] for p in predictions])
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def test_numeric_model_answers_like_the_estimator(tmp_path, numeric_model):
    model = load_model(_dump(numeric_model, tmp_path), spec("skops", "model.skops"), NUMERIC_SIGNATURE)
    x, _ = numeric_data(seed=7)
    _assert_same_as(model, numeric_model, x, NUMERIC_NAMES)


def test_one_hot_pipeline_loads_without_extra_trusted_types(tmp_path, mixed_model):
    artifact = _dump(mixed_model, tmp_path)
    assert skops.io.get_untrusted_types(file=artifact / "model.skops") == []
    model = load_model(artifact, spec("skops", "model.skops"), MIXED_SIGNATURE)
    x, _ = mixed_data(seed=8)
    _assert_same_as(model, mixed_model, x, MIXED_NAMES)


def test_untrusted_type_is_refused_until_listed(tmp_path):
    x, y = numeric_data()
    artifact = _dump(ThresholdClassifier().fit(x, y), tmp_path)
    assert CUSTOM_TYPE in skops.io.get_untrusted_types(file=artifact / "model.skops")

    with pytest.raises(Refused) as refused:
        load_model(artifact, spec("skops", "model.skops"), NUMERIC_SIGNATURE)
    assert CUSTOM_TYPE in str(refused.value)
    assert "model.trusted_types" in str(refused.value)

    trusted = spec("skops", "model.skops", trusted_types=[CUSTOM_TYPE])
    model = load_model(artifact, trusted, NUMERIC_SIGNATURE)
    rich, poor = {"income": 45.0, "household": 2, "debt": 1.0}, {"income": 12.0, "household": 2, "debt": 1.0}
    predictions = model.predict([rich, poor])
    assert [(p.decision, p.probabilities) for p in predictions] == [("grant", None), ("deny", None)]


def test_label_outside_the_signature_is_a_model_failure(tmp_path):
    x, y = numeric_data()
    artifact = _dump(ThresholdClassifier(above="maybe").fit(x, y), tmp_path)
    model = load_model(artifact, spec("skops", "model.skops", trusted_types=[CUSTOM_TYPE]), NUMERIC_SIGNATURE)
    assert model.predict([{"income": 10.0, "household": 1, "debt": 0.0}])[0].decision == "deny"
    with pytest.raises(ModelFailure, match="'maybe'"):
        model.predict([{"income": 50.0, "household": 1, "debt": 0.0}])


def test_classes_missing_from_the_signature_fail_at_predict(tmp_path, numeric_model):
    other_labels = signature(NUMERIC_NAMES, ["number"] * 3, labels=["approve", "reject"])
    model = load_model(_dump(numeric_model, tmp_path), spec("skops", "model.skops"), other_labels)
    with pytest.raises(ModelFailure, match="not among the signature's labels"):
        model.predict(rows(numeric_data(n=3)[0], NUMERIC_NAMES))


def test_probabilities_are_left_out_when_the_signature_has_none(tmp_path, numeric_model):
    labels_only = signature(NUMERIC_NAMES, ["number"] * 3, probabilities=False)
    model = load_model(_dump(numeric_model, tmp_path), spec("skops", "model.skops"), labels_only)
    predictions = model.predict(rows(numeric_data(n=5)[0], NUMERIC_NAMES))
    assert all(p.probabilities is None for p in predictions)


def test_signature_and_estimator_must_agree_on_input_count(tmp_path, numeric_model):
    two_inputs = signature(["income", "household"], ["number", "integer"])
    with pytest.raises(InvalidInput, match="expects 3 features"):
        load_model(_dump(numeric_model, tmp_path), spec("skops", "model.skops"), two_inputs)


def test_rows_missing_an_input_are_invalid_input(tmp_path, numeric_model):
    model = load_model(_dump(numeric_model, tmp_path), spec("skops", "model.skops"), NUMERIC_SIGNATURE)
    with pytest.raises(InvalidInput, match="row 1 has no value for input.*debt"):
        model.predict([{"income": 1, "household": 1, "debt": 1}, {"income": 1, "household": 1}])
    assert model.predict([]) == []


def test_a_corrupt_file_is_invalid_input(tmp_path):
    (tmp_path / "model.skops").write_bytes(b"not a zip file")
    with pytest.raises(InvalidInput, match="cannot read skops file"):
        load_model(tmp_path, spec("skops", "model.skops"), NUMERIC_SIGNATURE)
