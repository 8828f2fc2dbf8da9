"""Entrypoints: a Python callable shipped in the artifact or importable."""

from __future__ import annotations

import sys

import pytest

from relevo.errors import InvalidInput, NotFound
from relevo.loaders import ModelFailure, Prediction, load_model
from tests.loaders.loader_testkit import NUMERIC_SIGNATURE, spec

SHIPPED = '''
def decide(row):
    return "grant" if row["income"] > 30 else "deny"

def with_probabilities(row):
    return "grant", {"grant": 0.75, "deny": 0.25}

def maybe(row):
    return "maybe"

def broken(row):
    raise ZeroDivisionError("division by zero")

def number(row):
    return 1
'''

ROWS = [{"income": 45.0, "household": 2, "debt": 0.0}, {"income": 10.0, "household": 1, "debt": 3.0}]


@pytest.fixture
def artifact(tmp_path):
    (tmp_path / "rules.py").write_text(SHIPPED)
    return tmp_path


def test_callable_from_a_file_in_the_artifact(artifact):
    model = load_model(artifact, spec("entrypoint", "rules:decide"), NUMERIC_SIGNATURE)
    assert model.predict(ROWS) == [Prediction("grant"), Prediction("deny")]
    assert str(artifact) not in sys.path
    assert "rules" not in sys.modules


def test_two_artifacts_with_the_same_module_name_stay_apart(tmp_path):
    first, second = tmp_path / "v1", tmp_path / "v2"
    for folder, label in ((first, "grant"), (second, "deny")):
        folder.mkdir()
        (folder / "rules.py").write_text(f"def decide(row):\n    return {label!r}\n")
    models = [load_model(f, spec("entrypoint", "rules:decide"), NUMERIC_SIGNATURE) for f in (first, second)]
    assert [m.predict(ROWS[:1])[0].decision for m in models] == ["grant", "deny"]


def test_label_and_probabilities_pair(artifact):
    model = load_model(artifact, spec("entrypoint", "rules:with_probabilities"), NUMERIC_SIGNATURE)
    assert model.predict(ROWS[:1]) == [Prediction("grant", {"grant": 0.75, "deny": 0.25})]


def test_callable_from_an_importable_module(tmp_path):
    entry = "tests.loaders.loader_testkit:approve_rich"
    model = load_model(tmp_path, spec("entrypoint", entry), NUMERIC_SIGNATURE)
    assert model.predict(ROWS) == [
        Prediction("grant", {"grant": 0.9, "deny": pytest.approx(0.1)}),
        Prediction("deny", {"grant": 0.2, "deny": 0.8}),
    ]
    entry = "tests.loaders.loader_testkit:approve_as_prediction"
    as_prediction = load_model(tmp_path, spec("entrypoint", entry), NUMERIC_SIGNATURE)
    assert [p.decision for p in as_prediction.predict(ROWS)] == ["grant", "deny"]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("rules:maybe", "'maybe', which is not among"),
        ("rules:broken", "ZeroDivisionError"),
        ("rules:number", "returned int"),
    ],
)
def test_bad_answers_are_model_failures(artifact, entry, message):
    model = load_model(artifact, spec("entrypoint", entry), NUMERIC_SIGNATURE)
    with pytest.raises(ModelFailure, match=message) as failure:
        model.predict(ROWS)
    assert entry in str(failure.value)


def test_missing_module_or_attribute_names_the_entry(artifact):
    with pytest.raises(NotFound, match="relevo_no_such_module:decide"):
        load_model(artifact, spec("entrypoint", "relevo_no_such_module:decide"), NUMERIC_SIGNATURE)
    with pytest.raises(NotFound, match="rules:absent.*no attribute 'absent'"):
        load_model(artifact, spec("entrypoint", "rules:absent"), NUMERIC_SIGNATURE)


def test_a_module_that_fails_to_import_names_the_entry(tmp_path):
    (tmp_path / "crashy.py").write_text("import relevo_not_installed_anywhere\n")
    with pytest.raises(InvalidInput, match="entrypoint crashy:decide: importing .*crashy.py failed"):
        load_model(tmp_path, spec("entrypoint", "crashy:decide"), NUMERIC_SIGNATURE)


def test_an_entry_that_is_not_a_dotted_name_is_invalid(tmp_path):
    with pytest.raises(InvalidInput, match="not module:callable"):
        load_model(tmp_path, spec("entrypoint", "../outside:decide"), NUMERIC_SIGNATURE)
