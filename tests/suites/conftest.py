"""A small service and versions made to fail one check each: Python entry points over one rule."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import yaml

from relevo.rollouts import route_by_hand
from relevo.registry import register_version
from relevo.services import parse_spec
from relevo.services.catalogue import apply_spec
from relevo.suites import apply_suite, parse_suite

SERVICE = "eligibility"
SPEC = {
    "name": SERVICE, "decisions": ["yes", "no"], "timeout_ms": 1000,
    "inputs": {"x": {"type": "number", "minimum": 0, "maximum": 1}, "s": {"type": "string", "max_length": 20},
               "group": {"type": "string", "enum": ["a", "b"], "protected": True, "required": False}},
}
# The stable rule says yes from x = 0.4, though the truth is yes from 0.5: wrong on a tenth of
# each group alike, so a version can be as accurate and still unfair (it moves the errors).
RULE = 'def decide(row):\n    return "yes" if row["x"] >= 0.4 else "no"\n'
VERSIONS = {
    "good": "def predict(row):\n    return decide(row)\n",
    "wrong_golden": 'def predict(row):\n    return "no" if row["s"] == "golden" else decide(row)\n',
    "worse": 'def predict(row):\n    return "no" if 0.6 <= row["x"] < 0.7 else decide(row)\n',
    "slow": 'import time\n\ndef predict(row):\n    if row["s"] == "golden":\n        time.sleep(0.03)\n    return decide(row)\n',
    "long_string": 'def predict(row):\n    if len(row["s"]) > 10:\n        raise ValueError("text too long")\n'
                   '    return decide(row)\n',
    # Kills its process on a text past ten characters: only generated cases carry one.
    "exits": 'import os\n\ndef predict(row):\n    if len(row["s"]) > 10:\n        os._exit(3)\n    return decide(row)\n',
    "unfair": 'def predict(row):\n    if row.get("group") == "b":\n        return "yes" if row["x"] >= 0.6 else "no"\n'
              '    return decide(row)\n',
}
SUITE = {
    "golden": [{"name": "clear-yes", "inputs": {"x": 0.95, "s": "golden", "group": "a"}, "expect": "yes"}],
    "reference": {"file": "reference.csv", "label": "truth"},
    "regression": {"metrics": [{"metric": "accuracy", "margin": 0.05}]},
    "latency": {"calls": 40, "p95_ms": 10},
    "robustness": {"examples": 60},
    "fairness": [{"attribute": "group", "label": "yes", "min_ratio": 0.8}],
}


def write_reference(folder: Path) -> Path:
    """1,000 cases per group, x evenly spread over (0, 1), truly yes from 0.5."""
    path = folder / "reference.csv"
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["x", "s", "group", "truth"])
        for group in ("a", "b"):
            for i in range(1000):
                x = (i + 0.5) / 1000
                out.writerow([x, "ref", group, "yes" if x >= 0.5 else "no"])
    return path


def version_folder(root: Path, name: str) -> tuple[Path, Path]:
    """An entry-point artifact and its metadata for one of VERSIONS."""
    folder = root / name / "artifact"
    folder.mkdir(parents=True)
    (folder / "model.py").write_text(RULE + "\n\n" + VERSIONS[name])
    meta = {
        "description": f"the {name} rule", "model": {"format": "entrypoint", "entry": "model:predict"},
        "signature": {"inputs": [{"name": "x", "type": "number"}, {"name": "s", "type": "string"},
                                 {"name": "group", "type": "string"}], "outputs": {"labels": ["yes", "no"]}},
        "training_data": {"reference": "file://none.csv", "sha256": "0" * 64}, "trained_at": "2026-11-01",
        "hyperparameters": {}, "metrics": {}, "code_revision": "abc123",
        "datasets": [{"name": "rule", "role": "training", "reference": "file://none.csv", "rows": 1}], "author": "Test Team", "intended_use": "tests", "limitations": "a test rule",
    }
    (root / name / "metadata.yaml").write_text(yaml.safe_dump(meta))
    return folder, root / name / "metadata.yaml"


@pytest.fixture
def eligibility(ctx, tmp_path) -> dict[str, str]:
    """The service with its suite, every version registered (good as v1, stable in production): name -> version."""
    spec = parse_spec(SPEC, "eligibility.yaml")
    apply_spec(ctx, spec)
    write_reference(tmp_path)
    apply_suite(ctx, SERVICE, parse_suite(SUITE, "eligibility.tests.yaml", spec, tmp_path))
    names = {}
    for name in VERSIONS:
        folder, meta = version_folder(tmp_path / "versions", name)
        names[name] = register_version(ctx, SERVICE, folder, meta).name
    route_by_hand(ctx, SERVICE, "production", stable=names["good"], mode="stable",
                  override="the first version of the test service, nothing to roll it out against")
    return names
