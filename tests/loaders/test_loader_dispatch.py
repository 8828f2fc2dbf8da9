"""load_model's dispatch: formats it does not know, and entry files that are not there."""

from __future__ import annotations

import pytest

from relevo.errors import InvalidInput, NotFound, RelevoError
from relevo.loaders import load_model
from relevo.loaders.signature import ModelSpec
from tests.loaders.loader_testkit import NUMERIC_SIGNATURE, spec


@pytest.mark.parametrize("format", ["skops", "onnx"])
def test_a_missing_entry_file_is_not_found(tmp_path, format):
    with pytest.raises(NotFound, match="absent.bin"):
        load_model(tmp_path, spec(format, "absent.bin"), NUMERIC_SIGNATURE)


def test_a_missing_trusted_pickle_is_not_found(tmp_path):
    with pytest.raises(NotFound, match="model.pkl"):
        load_model(tmp_path, spec("pickle", "model.pkl"), NUMERIC_SIGNATURE, trust_pickle=True)


def test_an_entry_outside_the_artifact_is_invalid(tmp_path):
    (tmp_path / "secret.skops").write_bytes(b"")
    artifact = tmp_path / "artifact"
    artifact.mkdir()
    with pytest.raises(InvalidInput, match="not a file inside the artifact"):
        load_model(artifact, spec("skops", "../secret.skops"), NUMERIC_SIGNATURE)


def test_an_unsupported_format_is_named(tmp_path):
    # The metadata schema rejects unknown formats; model_construct skips it to reach load_model.
    unknown = ModelSpec.model_construct(format="tensorflow", entry="saved_model")
    with pytest.raises(RelevoError, match="unsupported model format 'tensorflow'"):
        load_model(tmp_path, unknown, NUMERIC_SIGNATURE)
