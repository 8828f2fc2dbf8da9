"""The three demo versions: valid metadata, loadable reproducible artifacts, v3 rejects more."""

from __future__ import annotations

import hashlib
import zipfile
from datetime import datetime, timezone

import numpy as np
import pytest
import skops.io as sio
import yaml

from relevo.demo import SERVICE_NAME, spec_resource
from relevo.demo import applications as apps
from relevo.demo import training
from relevo.registry.metadata import load_metadata
from relevo.services.spec import parse_spec

TRAINED_AT = datetime(2025, 3, 1, 9, 30, tzinfo=timezone.utc)
HGB_PREDICTOR = "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("first")


@pytest.fixture(scope="module")
def versions(workdir):
    return {v.name: v for v in training.train_versions(workdir, seed=7, trained_at=TRAINED_AT)}


@pytest.fixture(scope="module")
def metadata(versions):
    return {name: load_metadata(v.metadata_path) for name, v in versions.items()}


@pytest.fixture(scope="module")
def test_rows(workdir, versions):
    return apps.read_csv(workdir / "data" / "test.csv")


def _sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _load(version, meta):
    return sio.load(version.artifact_dir / meta.model.entry, trusted=meta.model.trusted_types)


def test_three_versions_in_their_own_folders(workdir, versions):
    assert list(versions) == ["v1", "v2", "v3"]
    for name, v in versions.items():
        assert v.artifact_dir == workdir / name / "artifact"
        assert sorted(p.name for p in v.artifact_dir.iterdir()) == ["model.skops"]
        assert v.metadata_path.is_file() and v.reference_data_path.is_file()
        assert not v.metadata_path.is_relative_to(v.artifact_dir)


def test_metadata_validates_and_describes_the_model(workdir, metadata):
    training_csv = workdir / "data" / "training.csv"
    test_csv = workdir / "data" / "test.csv"
    for meta in metadata.values():
        assert meta.model.format == "skops" and meta.model.entry == "model.skops"
        assert meta.signature.names == list(training.MODEL_INPUTS)
        assert "applicant_id" not in meta.signature.names
        assert not any(f.protected or f.personal for f in meta.signature.inputs)
        assert not set(apps.PROTECTED) & set(meta.signature.names)
        assert meta.signature.outputs.labels == ["admissible", "rejected"]
        assert meta.training_data.sha256 == _sha256(training_csv)
        roles = {d.role: d for d in meta.datasets}
        assert roles["training"].sha256 == _sha256(training_csv)
        assert roles["training"].rows == training.TRAINING_ROWS
        assert roles["test"].sha256 == _sha256(test_csv)
        assert roles["test"].rows == training.TEST_ROWS
        assert meta.trained_at == TRAINED_AT
        assert meta.hyperparameters["seed"] == 7
        for key in ("accuracy", "auc", "rejection_rate", "balanced_accuracy"):
            assert 0.0 <= meta.metrics[key] <= 1.0
        assert meta.code_revision.startswith("relevo-demo ")
        assert meta.author and meta.intended_use and meta.limitations
    assert metadata["v1"].hyperparameters["algorithm"] == "LogisticRegression"
    assert metadata["v2"].hyperparameters["algorithm"] == "HistGradientBoostingClassifier"


def test_trusted_types_are_exactly_what_skops_reports(versions, metadata):
    for name, v in versions.items():
        reported = sorted(sio.get_untrusted_types(file=v.artifact_dir / "model.skops"))
        assert metadata[name].model.trusted_types == reported
    assert metadata["v1"].model.trusted_types == []
    assert metadata["v3"].model.trusted_types == []
    assert metadata["v2"].model.trusted_types == [HGB_PREDICTOR]


def test_artifacts_load_and_reproduce_the_recorded_metrics(versions, metadata, test_rows):
    x = training.model_matrix(test_rows)
    y = np.array([r["outcome"] for r in test_rows])
    for name, v in versions.items():
        model = _load(v, metadata[name])
        predicted = model.predict(x)
        assert list(model.classes_) == ["admissible", "rejected"]
        assert (predicted == "rejected").mean() == pytest.approx(v.rejection_rate, abs=1e-6)
        accuracy = metadata[name].metrics["accuracy"]
        assert (predicted == y).mean() == pytest.approx(accuracy, abs=1e-6)
        assert metadata[name].metrics["rejection_rate"] == v.rejection_rate


def test_unknown_categories_are_ignored(versions, metadata):
    model = _load(versions["v1"], metadata["v1"])
    row = dict(apps.generate(1, 3)[0], district="a-new-district", submission_channel="fax")
    proba = model.predict_proba(training.model_matrix([row]))
    assert proba.shape == (1, 2) and np.isfinite(proba).all()


def test_v2_is_slightly_better_and_v3_rejects_clearly_more(versions, metadata):
    assert metadata["v2"].metrics["accuracy"] > metadata["v1"].metrics["accuracy"]
    assert metadata["v2"].metrics["auc"] > metadata["v1"].metrics["auc"]
    assert abs(versions["v2"].rejection_rate - versions["v1"].rejection_rate) < 0.05
    assert versions["v3"].rejection_rate >= versions["v1"].rejection_rate + 0.08


def test_reference_data_is_a_sample_with_protected_attributes_and_label(versions, workdir):
    training_rows = {
        tuple(sorted((k, v) for k, v in r.items() if k != "applicant_id"))
        for r in apps.read_csv(workdir / "data" / "training.csv")
    }
    for v in versions.values():
        rows = apps.read_csv(v.reference_data_path)
        assert len(rows) == training.REFERENCE_ROWS
        assert list(rows[0]) == list(training.REFERENCE_FIELDS)
        assert "applicant_id" not in rows[0]
        assert {"age_band", "nationality_group", "outcome"} <= set(rows[0])
        assert all(tuple(sorted(r.items())) in training_rows for r in rows)


def test_metadata_yaml_is_plain_yaml(versions):
    data = yaml.safe_load(versions["v3"].metadata_path.read_text(encoding="utf-8"))
    assert data["hyperparameters"]["class_weight"] == {"admissible": 1.0, "rejected": 8.0}


def test_retraining_gives_identical_bytes(tmp_path, workdir, versions):
    again = {v.name: v for v in training.train_versions(tmp_path, seed=7, trained_at=TRAINED_AT)}
    for rel in ("data/training.csv", "data/test.csv"):
        assert (tmp_path / rel).read_bytes() == (workdir / rel).read_bytes()
    for name, v in versions.items():
        model_bytes = (v.artifact_dir / "model.skops").read_bytes()
        assert (again[name].artifact_dir / "model.skops").read_bytes() == model_bytes
        assert again[name].reference_data_path.read_bytes() == v.reference_data_path.read_bytes()
        first = v.metadata_path.read_text(encoding="utf-8")
        first = first.replace(str(workdir.resolve()), "WORKDIR")
        second = again[name].metadata_path.read_text(encoding="utf-8")
        second = second.replace(str(tmp_path.resolve()), "WORKDIR")
        assert first == second


def test_saved_zip_has_fixed_timestamps_and_no_memory_addresses(versions):
    with zipfile.ZipFile(versions["v2"].artifact_dir / "model.skops") as zf:
        assert {info.date_time for info in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert all(len(name) < 12 for name in zf.namelist())


def test_unreviewed_types_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(training, "REVIEWED_TRUSTED_TYPES", frozenset())
    model = training.build_pipeline(training.RECIPES[1].hyperparameters)
    rows = apps.generate(200, 1)
    model.fit(training.model_matrix(rows), [r["outcome"] for r in rows])
    with pytest.raises(RuntimeError, match="unreviewed"):
        training.save_model(model, tmp_path / "model.skops")


def test_service_spec_is_package_data_and_valid():
    resource = spec_resource()
    assert resource.is_file()
    spec = parse_spec(yaml.safe_load(resource.read_text(encoding="utf-8")), str(resource))
    assert spec.name == SERVICE_NAME == "licence-prefilter"
    assert spec.owner and spec.description
    assert spec.trust_pickle is False
