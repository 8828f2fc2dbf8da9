"""Tampered artifacts are caught by `verify` and refused by loading, naming the file."""

from __future__ import annotations

import os

import numpy as np
import pytest
from sqlalchemy import select

from relevo.errors import IntegrityFailure
from relevo.registry.load import load_version
from relevo.registry.register import register_version
from relevo.registry.verify import verify
from relevo.store import connect
from relevo.store.tables import audit_events

from tests.registry.conftest import FEATURES, training_rows


def _edit_byte(path):
    os.chmod(path, 0o644)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _delete(path):
    os.chmod(path.parent, 0o755)
    path.unlink()


def _add_beside(path):
    os.chmod(path.parent, 0o755)
    (path.parent / "extra.py").write_text("print('injected')\n")


@pytest.mark.parametrize(
    "tamper, expected",
    [(_edit_byte, "modified file: model.skops"), (_delete, "missing file: model.skops"),
     (_add_beside, "unexpected file: extra.py")],
    ids=["edit-byte", "delete-file", "add-file"],
)
def test_tampering_is_caught_by_verify_and_load(ctx, service, artifact, tamper, expected):
    folder, meta = artifact
    record = register_version(ctx, service, folder, meta)
    _, model = load_version(ctx, service, "v1")  # intact: loads and answers
    assert len(model.predict([dict(zip(FEATURES, r)) for r in training_rows(20, seed=3)])) == 20

    tamper(ctx.blobs.local_path(record.blob_uri) / "model.skops")

    [result] = verify(ctx, service, "v1")
    assert not result.ok and any(expected in p for p in result.problems)
    with pytest.raises(IntegrityFailure, match=expected.replace(".", r"\.")):
        load_version(ctx, service, "v1")
    with connect(ctx.engine) as conn:
        actions = conn.execute(select(audit_events.c.action)).scalars().all()
    assert actions.count("version.integrity_failed") == 2  # once by verify, once by the refused load


def test_loaded_version_predicts_like_the_original(ctx, service, artifact):
    from skops.io import load, get_untrusted_types

    folder, meta = artifact
    register_version(ctx, service, folder, meta)
    original = load(folder / "model.skops", trusted=get_untrusted_types(file=folder / "model.skops"))
    x = training_rows(50, seed=9)
    _, model = load_version(ctx, service, "v1")
    decisions = [p.decision for p in model.predict([dict(zip(FEATURES, r)) for r in x])]
    assert decisions == list(original.predict(x))
    assert np.mean([d == "admissible" for d in decisions]) not in (0.0, 1.0)
