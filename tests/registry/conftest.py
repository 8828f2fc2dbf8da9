"""A small real artifact (a skops-saved scikit-learn model) with valid metadata."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import yaml
from sklearn.linear_model import LogisticRegression
from skops.io import dump

from relevo.services.catalogue import apply_spec
from relevo.services.spec import ServiceSpec

FEATURES = ["documents_complete", "prior_infractions", "zoning_score"]


def training_rows(n: int = 300, seed: int = 0) -> np.ndarray:
    """Numeric rows with a clear signal, so the model is not trivial."""
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.uniform(0, 1, n), rng.poisson(0.5, n), rng.normal(0, 1, n)])


def labels_for(x: np.ndarray) -> np.ndarray:
    """admissible when documents are mostly complete and zoning is fine."""
    score = 4 * x[:, 0] - x[:, 1] + x[:, 2] - 1.5
    return np.where(score > 0, "admissible", "rejected")


def metadata_dict(entry: str = "model.skops", fmt: str = "skops", data_sha: str = "0" * 64) -> dict:
    """Valid metadata for the test model."""
    return {
        "description": "test pre-filter",
        "model": {"format": fmt, "entry": entry},
        "signature": {
            "inputs": [{"name": n, "type": "number"} for n in FEATURES],
            "outputs": {"labels": ["admissible", "rejected"]},
        },
        "other_fields": [
            {"name": "applicant_id", "type": "string", "personal": True},
            {"name": "age_band", "type": "string", "protected": True},
        ],
        "training_data": {"reference": "file://train.csv", "sha256": data_sha},
        "trained_at": "2026-11-01",
        "hyperparameters": {"C": 1.0},
        "metrics": {"accuracy": 0.9},
        "datasets": [{"name": "train", "role": "training", "reference": "file://train.csv", "rows": 300}],
        "code_revision": "abc123",
        "author": "Test Team",
        "intended_use": "tests",
        "limitations": "synthetic data only",
    }


@pytest.fixture
def service(ctx) -> str:
    """A declared service."""
    apply_spec(ctx, ServiceSpec(name="licence-prefilter", owner="Urbanism"))
    return "licence-prefilter"


@pytest.fixture
def artifact(tmp_path: Path) -> tuple[Path, Path]:
    """(artifact folder, metadata file) for a freshly trained model."""
    x = training_rows()
    model = LogisticRegression().fit(x, labels_for(x))
    folder = tmp_path / "artifact"
    folder.mkdir()
    dump(model, folder / "model.skops")
    (folder / "README.txt").write_text("model card\n")
    train = tmp_path / "train.csv"
    lines = ["documents_complete,prior_infractions,zoning_score,applicant_id,age_band,outcome"]
    for i, (row, label) in enumerate(zip(x, labels_for(x))):
        lines.append(f"{row[0]:.4f},{int(row[1])},{row[2]:.4f},A-{i:06d},{['18-29', '30-44', '45-64', '65+'][i % 4]},{label}")
    train.write_text("\n".join(lines) + "\n")
    meta = tmp_path / "metadata.yaml"
    meta.write_text(yaml.safe_dump(metadata_dict(data_sha=hashlib.sha256(train.read_bytes()).hexdigest())))
    return folder, meta


@pytest.fixture
def reference_csv(artifact, tmp_path: Path) -> Path:
    """The training sample written beside the artifact."""
    return tmp_path / "train.csv"
