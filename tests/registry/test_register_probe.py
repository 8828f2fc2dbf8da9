"""Registration loads the artifact and makes it answer before anything is recorded: a file that is
not what its format says, or a model that cannot answer the service's requests, is refused."""

from __future__ import annotations

import pickle

import pytest
import yaml
from sklearn.linear_model import LogisticRegression
from skops.io import dump
from sqlalchemy import func, select

from relevo.errors import InvalidInput
from relevo.registry.register import register_version
from relevo.services.catalogue import apply_spec
from relevo.services.spec import ServiceSpec
from relevo.store import connect
from relevo.store.tables import audit_events, versions

from tests.registry.conftest import FEATURES, labels_for, metadata_dict, training_rows


def _count(ctx, table) -> int:
    with connect(ctx.engine) as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar()


def _nothing_recorded(ctx) -> None:
    assert _count(ctx, versions) == 0 and _count(ctx, audit_events) == 1  # the service's declaration only
    assert list((ctx.blobs.root / "staging").iterdir()) == []


def _write(folder, meta_path, **metadata) -> None:
    meta_path.write_text(yaml.safe_dump(metadata_dict() | metadata))


@pytest.fixture
def numeric_service(ctx) -> ServiceSpec:
    """A service whose requests carry the three numeric inputs and decide admissible or rejected."""
    spec = ServiceSpec.model_validate({
        "name": "licence-prefilter",
        "inputs": {name: {"type": "number"} for name in FEATURES},
        "decisions": ["admissible", "rejected"],
    })
    apply_spec(ctx, spec)
    return spec


def _skops_artifact(tmp_path, save):
    """(folder, metadata file) of an artifact whose model.skops save(model, path) wrote."""
    x = training_rows()
    folder = tmp_path / "artifact"
    folder.mkdir()
    save(x, folder / "model.skops")
    meta = tmp_path / "meta.yaml"
    _write(folder, meta)
    return folder, meta


def test_a_pickle_named_skops_is_refused_at_registration(ctx, numeric_service, tmp_path):
    folder, meta = _skops_artifact(tmp_path, lambda x, path: path.write_bytes(
        pickle.dumps(LogisticRegression().fit(x, labels_for(x)))))
    with pytest.raises(InvalidInput, match="cannot be loaded as skops.*cannot read skops file"):
        register_version(ctx, "licence-prefilter", folder, meta)
    _nothing_recorded(ctx)


def test_a_model_fitted_on_other_inputs_is_refused(ctx, numeric_service, tmp_path):
    folder, meta = _skops_artifact(tmp_path, lambda x, path: dump(  # two of the three inputs
        LogisticRegression().fit(x[:, :2], labels_for(x)), path))
    with pytest.raises(InvalidInput, match="expects 2 features, but the signature lists 3 inputs"):
        register_version(ctx, "licence-prefilter", folder, meta)
    _nothing_recorded(ctx)


def test_a_model_reading_an_input_the_service_does_not_send_is_refused(ctx, tmp_path, artifact):
    folder, meta = artifact
    apply_spec(ctx, ServiceSpec.model_validate({
        "name": "licence-prefilter", "inputs": {"documents_complete": {"type": "number"}},
        "decisions": ["admissible", "rejected"]}))
    with pytest.raises(InvalidInput, match="reads prior_infractions, zoning_score, which the licence-prefilter spec "
                                           "does not declare"):
        register_version(ctx, "licence-prefilter", folder, meta)
    _nothing_recorded(ctx)


def _entrypoint(tmp_path, body: str, labels=("admissible", "rejected")):
    folder = tmp_path / "artifact"
    folder.mkdir()
    (folder / "model.py").write_text(body)
    meta = tmp_path / "meta.yaml"
    data = metadata_dict(entry="model:predict", fmt="entrypoint")
    data["signature"]["outputs"]["labels"] = list(labels)
    meta.write_text(yaml.safe_dump(data))
    return folder, meta


def test_a_model_that_cannot_answer_is_refused_with_the_reason(ctx, numeric_service, tmp_path):
    folder, meta = _entrypoint(tmp_path, "def predict(row):\n    return 1 / 0\n")
    with pytest.raises(InvalidInput, match="cannot answer a probe row .*ZeroDivisionError"):
        register_version(ctx, "licence-prefilter", folder, meta)
    _nothing_recorded(ctx)


def test_a_model_answering_labels_the_spec_does_not_list_is_refused(ctx, numeric_service, tmp_path):
    folder, meta = _entrypoint(tmp_path, 'def predict(row):\n    return "deferred"\n',
                               labels=("admissible", "rejected", "deferred"))
    with pytest.raises(InvalidInput, match="answered deferred, which the licence-prefilter spec does not list"):
        register_version(ctx, "licence-prefilter", folder, meta)
    _nothing_recorded(ctx)


def test_a_model_that_hangs_is_refused(ctx, numeric_service, tmp_path, monkeypatch):
    from relevo.registry import probe

    monkeypatch.setattr(probe, "PROBE_TIMEOUT_S", 0.2)
    folder, meta = _entrypoint(tmp_path, "import time\n\ndef predict(row):\n    time.sleep(2)\n    return 'rejected'\n")
    with pytest.raises(InvalidInput, match="did not answer .* probe rows within 0.2 s"):
        register_version(ctx, "licence-prefilter", folder, meta)
    _nothing_recorded(ctx)


def test_a_good_model_registers_after_answering_reference_rows(ctx, numeric_service, artifact, reference_csv):
    folder, meta = artifact
    record = register_version(ctx, "licence-prefilter", folder, meta, reference_data=reference_csv)
    assert record.name == "v1"
