"""Folds answer as scikit-learn does, or are not used."""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from relevo.loaders import ModelFailure
from relevo.loaders.estimator_model import EstimatorModel
from relevo.loaders.fold import NotFoldable, RowNotFoldable, checked_fold, fold
from tests.loaders.loader_testkit import MIXED_NAMES, MIXED_SIGNATURE, mixed_data, rows, signature

TRIAGE_NAMES = ["age_days", "channel", "topic", "pages", "urgent"]
TRIAGE_LABELS = ["housing", "permits", "taxes"]
TRIAGE_SIGNATURE = signature(TRIAGE_NAMES, ["number", "string", "string", "integer", "boolean"], TRIAGE_LABELS)


def triage_data(n: int = 600, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """A three-class problem with two categorical, two numeric and one boolean input."""
    rng = np.random.default_rng(seed)
    x = np.empty((n, 5), dtype=object)
    x[:, 0] = rng.exponential(20, n)
    x[:, 1] = rng.choice(["web", "phone", "desk"], n)
    x[:, 2] = rng.choice(["rent", "noise", "terrace", "ibi", "waste"], n)
    x[:, 3] = rng.integers(1, 40, n)
    x[:, 4] = rng.random(n) < 0.2
    topic = x[:, 2]
    y = np.where(np.isin(topic, ["rent", "noise"]), "housing", np.where(topic == "terrace", "permits", "taxes"))
    flip = rng.random(n) < 0.25
    y[flip] = rng.choice(TRIAGE_LABELS, flip.sum())
    return x, y


def triage_pipeline(**scaler):
    """Multinomial logistic regression behind every kind of column a fold reads."""
    x, y = triage_data()
    features = ColumnTransformer([
        ("categorical", OneHotEncoder(handle_unknown="ignore", sparse_output=False), [1, 2]),
        ("scaled", StandardScaler(**scaler), [0, 3]),
    ], remainder="passthrough")
    return make_pipeline(features, LogisticRegression(max_iter=2000)).fit(x, y)


def _probabilities(folded, x, names):
    return np.array([folded.probabilities(row) for row in rows(x, names)])


def test_demo_style_binary_pipeline_matches_scikit_learn(mixed_model):
    folded = checked_fold(mixed_model, MIXED_NAMES, "test")
    assert folded is not None
    x, _ = mixed_data(n=5000, seed=21)
    np.testing.assert_allclose(_probabilities(folded, x, MIXED_NAMES), mixed_model.predict_proba(x), rtol=0, atol=1e-12)


@pytest.mark.parametrize("scaler", [{}, {"with_mean": False}, {"with_std": False}])
def test_multinomial_pipeline_with_passthrough_matches_scikit_learn(scaler):
    pipeline = triage_pipeline(**scaler)
    folded = checked_fold(pipeline, TRIAGE_NAMES, "test")
    assert folded is not None and not folded.binary
    x, _ = triage_data(n=3000, seed=9)
    expected = pipeline.predict_proba(x)
    got = _probabilities(folded, x, TRIAGE_NAMES)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    model = EstimatorModel(pipeline, TRIAGE_SIGNATURE, "test")
    assert [p.decision for p in model.predict(rows(x, TRIAGE_NAMES))] == list(pipeline.predict(x))


def test_unknown_category_counts_as_zeros_like_the_encoder(mixed_model):
    folded = fold(mixed_model, MIXED_NAMES)
    x = np.array([[31.0, 2, "atlantis"]], dtype=object)
    np.testing.assert_allclose(_probabilities(folded, x, MIXED_NAMES), mixed_model.predict_proba(x), atol=1e-12)


def test_extreme_inputs_stay_finite(mixed_model):
    folded = fold(mixed_model, MIXED_NAMES)
    for income in (1e300, -1e300):
        p = folded.probabilities({"income": income, "household": 2, "region": "north"})
        assert all(math.isfinite(v) for v in p) and sum(p) == pytest.approx(1)


def test_rows_the_fold_cannot_read_go_through_scikit_learn(mixed_model):
    folded = fold(mixed_model, MIXED_NAMES)
    for odd in ({"income": None}, {"income": float("nan")}, {"income": "31"}, {"region": float("nan")}):
        with pytest.raises(RowNotFoldable):
            folded.probabilities({"income": 31.0, "household": 2, "region": "north"} | odd)
    model = EstimatorModel(mixed_model, MIXED_SIGNATURE, "test")
    assert model.folded is not None
    # scikit-learn converts "31" as a number, as it always did; NaN still fails as it always did.
    [answer] = model.predict([{"income": "31", "household": 2, "region": "north"}])
    x = np.array([[31.0, 2, "north"]], dtype=object)
    assert answer.probabilities["grant"] == pytest.approx(mixed_model.predict_proba(x)[0, 1], abs=1e-12)
    with pytest.raises(ModelFailure, match="NaN"):
        model.predict([{"income": float("nan"), "household": 2, "region": "north"}])


@pytest.mark.parametrize("encoder, reason", [
    (OneHotEncoder(drop="first"), "dropped"),
    (OneHotEncoder(handle_unknown="error"), "refused"),
    (OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=50), "infrequent"),
])
def test_encoders_with_other_settings_are_not_folded(encoder, reason):
    x, y = mixed_data()
    pipeline = make_pipeline(ColumnTransformer([("numbers", StandardScaler(), [0, 1]), ("region", encoder, [2])]),
                             LogisticRegression()).fit(x, y)
    with pytest.raises(NotFoldable, match=reason):
        fold(pipeline, MIXED_NAMES)
    model = EstimatorModel(pipeline, MIXED_SIGNATURE, "test")
    assert model.folded is None and not model.bounded
    x_new, _ = mixed_data(n=50, seed=5)
    got = [p.probabilities["grant"] for p in model.predict(rows(x_new, MIXED_NAMES))]
    np.testing.assert_allclose(got, pipeline.predict_proba(x_new)[:, 1], atol=1e-12)


def test_other_classifiers_are_not_folded():
    x, y = mixed_data()
    pipeline = make_pipeline(ColumnTransformer([("region", OneHotEncoder(handle_unknown="ignore"), [2])],
                                               remainder="passthrough"),
                             RandomForestClassifier(n_estimators=3)).fit(x, y)
    with pytest.raises(NotFoldable, match="RandomForestClassifier is not a LogisticRegression"):
        fold(pipeline, MIXED_NAMES)


def _with_missing(x: np.ndarray, columns: list[int], share: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = x.copy()
    for column in columns:
        gone = rng.random(len(x)) < share
        x[gone, column] = np.where(rng.random(gone.sum()) < 0.5, None, float("nan"))
    return x


@pytest.mark.parametrize("n_classes", [2, 3])
def test_boosted_trees_match_scikit_learn_missing_values_included(n_classes):
    # Missing numbers in training teach each split a side for them; None reads as NaN, as in scikit-learn.
    x, y = triage_data(n=2000, seed=4)
    if n_classes == 2:
        y = np.where(y == "housing", "housing", "other")
    x = _with_missing(x, [0, 3], 0.1, seed=5)
    features = ColumnTransformer([
        ("categorical", OneHotEncoder(handle_unknown="ignore", sparse_output=False), [1, 2]),
        ("scaled", StandardScaler(), [3]),
    ], remainder="passthrough")
    pipeline = make_pipeline(features, HistGradientBoostingClassifier(max_iter=60, random_state=0)).fit(x, y)
    folded = checked_fold(pipeline, TRIAGE_NAMES, "test")
    assert folded is not None and folded.binary == (n_classes == 2)
    x_new, _ = triage_data(n=3000, seed=12)
    x_new = _with_missing(x_new, [0, 3], 0.1, seed=13)
    x_new[:50, 2] = None  # a missing category encodes as zeros
    np.testing.assert_allclose(_probabilities(folded, x_new, TRIAGE_NAMES), pipeline.predict_proba(x_new),
                               rtol=0, atol=1e-12)


def test_boosted_trees_with_native_categories_are_not_folded():
    x, y = triage_data(n=400)
    numeric = np.column_stack([x[:, 0].astype(float), x[:, 3].astype(float)])
    model = HistGradientBoostingClassifier(max_iter=5, categorical_features=[1]).fit(numeric, y)
    with pytest.raises(NotFoldable, match="native categorical"):
        fold(model, ["age_days", "pages"])


def test_a_fold_that_disagrees_on_the_probe_rows_is_not_used(monkeypatch, caplog, mixed_model):
    # Whatever goes wrong in a fold (a new scikit-learn computing otherwise, a bug here), the
    # check at load compares it with the estimator itself and keeps scikit-learn's path.
    monkeypatch.setattr("relevo.loaders.fold.link.expit", lambda z: 1 / (1 + math.exp(-1.001 * z)))
    with caplog.at_level(logging.WARNING, logger="relevo.loaders.fold"):
        assert checked_fold(mixed_model, MIXED_NAMES, "skewed") is None
    assert "skewed keeps scikit-learn's path: the fold differs by" in caplog.text
    model = EstimatorModel(mixed_model, MIXED_SIGNATURE, "test")
    assert model.folded is None and not model.bounded
    x, _ = mixed_data(n=50, seed=8)
    got = [p.probabilities["grant"] for p in model.predict(rows(x, MIXED_NAMES))]
    np.testing.assert_allclose(got, mixed_model.predict_proba(x)[:, 1], atol=1e-12)
