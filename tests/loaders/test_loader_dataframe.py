"""A pipeline fitted on a pandas DataFrame (the usual habit: a ColumnTransformer naming its columns)
answers: rows travel as a DataFrame with the columns it was fitted on, in its order."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import skops.io
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from relevo.errors import InvalidInput
from relevo.loaders import load_model
from tests.loaders.loader_testkit import MIXED_NAMES, mixed_data, rows, signature, spec


def _frame_pipeline() -> tuple[Pipeline, pd.DataFrame]:
    x, y = mixed_data(seed=3)
    # Columns in another order than the signature lists them: matched by name.
    frame = pd.DataFrame({"region": x[:, 2], "income": x[:, 0].astype(float), "household": x[:, 1].astype(int)})
    pipeline = Pipeline([
        ("columns", ColumnTransformer([("numbers", StandardScaler(), ["income", "household"]),
                                       ("region", OneHotEncoder(handle_unknown="ignore"), ["region"])])),
        ("model", LogisticRegression()),
    ]).fit(frame, y)
    return pipeline, frame


def test_a_dataframe_pipeline_answers_like_the_estimator(tmp_path):
    pipeline, frame = _frame_pipeline()
    skops.io.dump(pipeline, tmp_path / "model.skops")
    trusted = skops.io.get_untrusted_types(file=tmp_path / "model.skops")
    model = load_model(tmp_path, spec("skops", "model.skops", trusted_types=trusted),
                       signature(MIXED_NAMES, ["number", "integer", "string"]))
    x, _ = mixed_data(seed=9)
    predictions = model.predict(rows(x, MIXED_NAMES))
    expected = pipeline.predict_proba(pd.DataFrame({"income": x[:, 0].astype(float),
                                                    "household": x[:, 1].astype(int), "region": x[:, 2]}))
    got = np.array([[p.probabilities[c] for c in pipeline.classes_] for p in predictions])
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    assert [p.decision for p in predictions] == list(pipeline.classes_[expected.argmax(axis=1)])


def test_columns_the_signature_lacks_are_named(tmp_path):
    pipeline, _ = _frame_pipeline()
    skops.io.dump(pipeline, tmp_path / "model.skops")
    trusted = skops.io.get_untrusted_types(file=tmp_path / "model.skops")
    with pytest.raises(InvalidInput, match="add to the inputs: region; the model does not read: debt"):
        load_model(tmp_path, spec("skops", "model.skops", trusted_types=trusted),
                   signature(["income", "household", "debt"], ["number", "integer", "number"]))
