"""Tiny scikit-learn models trained once per session."""

from __future__ import annotations

import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from tests.loaders.loader_testkit import mixed_data, numeric_data


@pytest.fixture(scope="session")
def numeric_model() -> LogisticRegression:
    """A logistic regression on three numeric inputs."""
    x, y = numeric_data()
    return LogisticRegression().fit(x, y)


@pytest.fixture(scope="session")
def mixed_model() -> Pipeline:
    """Scaling and one-hot encoding into a logistic regression, on numeric + categorical inputs."""
    x, y = mixed_data()
    encode = ColumnTransformer([
        ("numbers", StandardScaler(), [0, 1]),
        ("region", OneHotEncoder(handle_unknown="ignore"), [2]),
    ])
    return make_pipeline(encode, LogisticRegression()).fit(x, y)
