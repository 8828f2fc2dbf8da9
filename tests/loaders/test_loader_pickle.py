"""Plain pickle/joblib artifacts: refused unless the service trusts them."""

from __future__ import annotations

import pickle

import joblib
import numpy as np
import pytest

from relevo.errors import Refused
from relevo.loaders import load_model
from tests.loaders.loader_testkit import (
    MIXED_NAMES,
    MIXED_SIGNATURE,
    NUMERIC_SIGNATURE,
    mixed_data,
    rows,
    spec,
)


def test_pickle_is_refused_without_trust(tmp_path, numeric_model):
    joblib.dump(numeric_model, tmp_path / "model.joblib")
    with pytest.raises(Refused) as refused:
        load_model(tmp_path, spec("pickle", "model.joblib"), NUMERIC_SIGNATURE)
    assert "arbitrary code" in str(refused.value)
    assert "trust_pickle: true" in str(refused.value)


@pytest.mark.parametrize("dump", [joblib.dump, lambda obj, path: path.write_bytes(pickle.dumps(obj))])
def test_trusted_pickle_answers_like_the_estimator(tmp_path, mixed_model, dump):
    dump(mixed_model, tmp_path / "model.pkl")
    model = load_model(tmp_path, spec("pickle", "model.pkl"), MIXED_SIGNATURE, trust_pickle=True)
    x, _ = mixed_data(seed=3)
    predictions = model.predict(rows(x, MIXED_NAMES))
    assert [p.decision for p in predictions] == mixed_model.predict(x).tolist()
    got = np.array([[p.probabilities[c] for c in mixed_model.classes_] for p in predictions])
    np.testing.assert_allclose(got, mixed_model.predict_proba(x), rtol=0, atol=1e-12)
