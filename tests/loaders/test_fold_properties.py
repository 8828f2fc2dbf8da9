"""Folds of randomly built pipelines answer as scikit-learn does (hypothesis picks the pipelines)."""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from relevo.loaders.fold import checked_fold


@st.composite
def pipelines(draw):
    """A random mix of categorical and numeric inputs, each column sent to some transformer."""
    n_inputs = draw(st.integers(2, 6))
    kinds = draw(st.lists(st.sampled_from(["words", "codes", "number"]), min_size=n_inputs, max_size=n_inputs))
    if "number" not in kinds:
        kinds[0] = "number"
    routes = {i: draw(st.sampled_from(["scale", "scale_no_mean", "pass", "drop"])) for i, k in enumerate(kinds)
              if k == "number"}
    if all(k == "number" for k in kinds) and all(r == "drop" for r in routes.values()):
        routes[0] = "scale"  # the model needs at least one column
    classifier = draw(st.sampled_from(["linear", "trees"]))
    n_classes = draw(st.integers(2, 3))
    missing = classifier == "trees" and draw(st.booleans())
    seed = draw(st.integers(0, 2**16))
    return kinds, routes, classifier, n_classes, missing, seed


def _data(kinds, n, rng, missing):
    x = np.empty((n, len(kinds)), dtype=object)
    for j, kind in enumerate(kinds):
        if kind == "words":
            x[:, j] = rng.choice(["a", "b", "c", "d"][: rng.integers(2, 5)], n)
        elif kind == "codes":
            x[:, j] = rng.choice([1, 2, 5, 10], n).tolist()
        else:
            column = rng.normal(rng.uniform(-50, 50), rng.uniform(0.1, 20), n)
            if missing:
                column[rng.random(n) < 0.1] = np.nan
            x[:, j] = column.tolist()
    return x


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pipelines())
def test_a_fold_answers_as_scikit_learn_does(pipeline_spec):
    kinds, routes, classifier, n_classes, missing, seed = pipeline_spec
    rng = np.random.default_rng(seed)
    names = [f"input_{j}" for j in range(len(kinds))]
    x = _data(kinds, 400, rng, missing)
    y = rng.integers(0, n_classes, 400).astype(str)
    y[: n_classes] = [str(k) for k in range(n_classes)]  # every class present
    transformers = [("categories", OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                     [j for j, k in enumerate(kinds) if k != "number"])]
    for route, make in (("scale", StandardScaler), ("scale_no_mean", lambda: StandardScaler(with_mean=False))):
        columns = [j for j, r in routes.items() if r == route]
        if columns:
            transformers.append((route, make(), columns))
    passed = [j for j, r in routes.items() if r == "pass"]
    if passed:
        transformers.append(("pass", "passthrough", passed))
    model = (LogisticRegression(max_iter=500) if classifier == "linear"
             else HistGradientBoostingClassifier(max_iter=15, random_state=seed))
    pipeline = make_pipeline(ColumnTransformer(transformers), model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence warnings on random labels are beside the point
        pipeline.fit(x, y)
    folded = checked_fold(pipeline, names, "property")
    assert folded is not None
    x_new = _data(kinds, 300, np.random.default_rng(seed + 1), missing)
    got = np.array([folded.probabilities(dict(zip(names, row))) for row in x_new.tolist()])
    np.testing.assert_allclose(got, pipeline.predict_proba(x_new), rtol=0, atol=1e-12)
