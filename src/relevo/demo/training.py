"""Train the three demo versions of ``licence-prefilter`` and write them as registrable folders.

Layout under ``workdir``::

    data/training.csv          the training applications (every field), pinned by sha256
    data/test.csv              the held-out applications every version is measured on
    v1/artifact/model.skops    the artifact folder: a scikit-learn Pipeline saved with skops
    v1/metadata.yaml           validates as relevo.registry.metadata.VersionMetadata
    v1/reference.csv           a sample of the training data (protected attributes and label,
                               no applicant_id): the baseline for drift and fairness checks
    v2/...  v3/...

The versions: v1 a sound logistic regression; v2 a gradient-boosted model that also learns the
rule's non-linear parts (a complete file, works without zoning) and is slightly better; v3 a
logistic regression whose class weights favour ``rejected``, so it rejects clearly more of the
same applications: the "bad candidate" a rollout must catch.

``skops.io.dump`` is not reproducible by itself: zip members carry the wall-clock time, numpy
members are named after ``id()`` of the array and schema.json records ``id()`` of objects as
``__id__``. ``_make_reproducible`` rewrites the file with sequential member names, sequential ids
(same id, same object: the sharing skops relies on is kept) and a fixed timestamp, so the same
seed gives the same bytes. Fitting runs on one thread (``fit_pipeline``): with more threads
HistGradientBoosting's results, and so v2's bytes, depend on the machine's core count.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import skops.io as sio
import yaml
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    log_loss,
    roc_auc_score,
)
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

import relevo
from relevo.demo import SERVICE_NAME
from relevo.demo import applications as apps
from relevo.registry import parse_metadata

SERVICE = SERVICE_NAME
MODEL_FILE = "model.skops"
METADATA_FILE = "metadata.yaml"
FAMILIES = {"LogisticRegression": "logistic regression", "HistGradientBoostingClassifier": "gradient boosting"}
REFERENCE_FILE = "reference.csv"

TRAINING_ROWS = 6000
TEST_ROWS = 3000
REFERENCE_ROWS = 1000

# What the models read, in column order. No applicant_id, no protected attribute.
MODEL_INPUTS = (
    "licence_type",
    "district",
    "documents_complete",
    "zoning_compatible",
    "prior_infractions",
    "applicant_kind",
    "submission_channel",
)
CATEGORICAL = [i for i, name in enumerate(MODEL_INPUTS) if apps.FIELDS[name] == "string"]
NUMERIC = [i for i, name in enumerate(MODEL_INPUTS) if apps.FIELDS[name] != "string"]
REFERENCE_FIELDS = tuple(f for f in apps.FIELDS if f not in apps.PERSONAL)

# Types beyond skops' defaults that these pipelines need, reviewed for the demo: the tree
# predictor of HistGradientBoostingClassifier (plain arrays of nodes, no code). save_model
# refuses anything else, so a new scikit-learn or skops cannot widen the trust silently.
REVIEWED_TRUSTED_TYPES = frozenset(
    {"sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"}
)

INPUT_DESCRIPTIONS = {
    "licence_type": "kind of licence applied for",
    "district": "district of the premises or works",
    "documents_complete": "share (0..1) of the required documents that are attached",
    "zoning_compatible": "the activity is compatible with the zoning plan",
    "prior_infractions": "number of recorded infractions of the applicant",
    "applicant_kind": "individual, company or association",
    "submission_channel": "online, in_person or post",
}

INTENDED_USE = (
    "Synthetic demonstration only. Pre-filters municipal licence applications: flags each as "
    "admissible (it goes on to a case worker) or rejected as incomplete. A case worker reviews "
    "every rejection before the applicant is notified; the model never decides alone."
)
LIMITATIONS = (
    "Trained on synthetic data from relevo.demo.applications (form version 1); not valid for "
    "real applications. Does not read age band or nationality, but submission channel correlates "
    "mildly with both, so rejection rates per group must be monitored. Expect drift when the "
    "application form changes (form version 2 shifts document completeness and channel mix)."
)


@dataclass(frozen=True)
class TrainedVersion:
    """One trained demo version, ready to register."""

    name: str
    artifact_dir: Path
    metadata_path: Path
    reference_data_path: Path
    rejection_rate: float


@dataclass(frozen=True)
class _Recipe:
    name: str
    description: str
    hyperparameters: dict[str, Any]


RECIPES = (
    _Recipe(
        "v1",
        "Logistic regression on one-hot categoricals and standardised numerics.",
        {"algorithm": "LogisticRegression", "C": 1.0, "class_weight": None, "max_iter": 1000},
    ),
    _Recipe(
        "v2",
        "Histogram gradient boosting: also learns the non-linear parts of the rule.",
        {
            "algorithm": "HistGradientBoostingClassifier",
            "learning_rate": 0.08,
            "max_iter": 150,
            "max_leaf_nodes": 15,
            "min_samples_leaf": 40,
            "l2_regularization": 1.0,
            "early_stopping": False,
            "random_state": 0,
        },
    ),
    _Recipe(
        "v3",
        "Logistic regression weighted towards 'rejected': rejects clearly more applications.",
        {
            "algorithm": "LogisticRegression",
            "C": 1.0,
            "class_weight": {"admissible": 1.0, "rejected": 8.0},
            "max_iter": 1000,
        },
    ),
)


def build_pipeline(hyperparameters: dict[str, Any]) -> Pipeline:
    """The untrained Pipeline for a recipe; it reads a 2-D array in MODEL_INPUTS order."""
    params = dict(hyperparameters)
    algorithm = params.pop("algorithm")
    encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
    if algorithm == "LogisticRegression":
        numeric: Any = StandardScaler()
        classifier: Any = LogisticRegression(**params)
    elif algorithm == "HistGradientBoostingClassifier":
        numeric = "passthrough"
        classifier = HistGradientBoostingClassifier(**params)
    else:
        raise ValueError(f"unknown algorithm {algorithm!r}")
    features = ColumnTransformer(
        [("categorical", encoder, CATEGORICAL), ("numeric", numeric, NUMERIC)],
        sparse_threshold=0.0,
    )
    return Pipeline([("features", features), ("classifier", classifier)])


def fit_pipeline(hyperparameters: dict[str, Any], x: np.ndarray, y: np.ndarray) -> Pipeline:
    """Fit on one thread: HistGradientBoosting's OpenMP sums differ with the thread count."""
    with threadpool_limits(limits=1):
        return build_pipeline(hyperparameters).fit(x, y)


def model_matrix(rows: Sequence[dict[str, Any]]) -> np.ndarray:
    """The 2-D object array the demo models read: one column per MODEL_INPUTS name."""
    return apps.matrix(rows, MODEL_INPUTS)


def _labels(rows: Sequence[dict[str, Any]]) -> np.ndarray:
    return np.array([row[apps.LABEL] for row in rows], dtype=object)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


_FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def _canonical_schema(node: Any, files: dict[str, str], ids: dict[int, int]) -> Any:
    """Rename member files and renumber object ids (1, 2, ...; skops treats id 0 as unset)."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "file" and isinstance(value, str):
                out[key] = files.get(value, value)
            elif key == "__id__" and isinstance(value, int):
                out[key] = ids.setdefault(value, len(ids) + 1)
            else:
                out[key] = _canonical_schema(value, files, ids)
        return out
    if isinstance(node, list):
        return [_canonical_schema(value, files, ids) for value in node]
    return node


def _make_reproducible(path: Path) -> None:
    """Rewrite a skops file so equal models give equal bytes (see the module docstring)."""
    with zipfile.ZipFile(path) as src:
        members = [(info.filename, src.read(info)) for info in src.infolist()]
    data_members = [(name, data) for name, data in members if name != "schema.json"]
    names = {name: f"{i:04d}{Path(name).suffix}" for i, (name, _) in enumerate(data_members)}
    schema = _canonical_schema(json.loads(dict(members)["schema.json"]), names, {})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as out:
        for name, data in [(names[n], d) for n, d in data_members] + [
            ("schema.json", json.dumps(schema, indent=2).encode("utf-8"))
        ]:
            info = zipfile.ZipInfo(name, date_time=_FIXED_ZIP_TIME)
            info.external_attr = 0o644 << 16
            out.writestr(info, data)
    path.write_bytes(buffer.getvalue())


def save_model(model: Any, path: Path) -> list[str]:
    """Save with skops, reproducibly; return the (reviewed) types skops loads only when trusted."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sio.dump(model, path)
    _make_reproducible(path)
    untrusted = sorted(sio.get_untrusted_types(file=path))
    unreviewed = sorted(set(untrusted) - REVIEWED_TRUSTED_TYPES)
    if unreviewed:
        raise RuntimeError(f"{path}: skops reports unreviewed types {unreviewed}")
    return untrusted


def _share(flags: np.ndarray) -> float:
    return float(flags.mean()) if flags.size else 0.0


def _metrics(model: Pipeline, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Held-out metrics; ``rejected`` is the positive class."""
    predicted = model.predict(x)
    p_rejected = model.predict_proba(x)[:, list(model.classes_).index("rejected")]
    is_rejected = y == "rejected"
    predicted_rejected = predicted == "rejected"
    metrics = {
        "accuracy": accuracy_score(y, predicted),
        "balanced_accuracy": balanced_accuracy_score(y, predicted),
        "auc": roc_auc_score(is_rejected, p_rejected),
        "log_loss": log_loss(is_rejected, p_rejected, labels=[False, True]),
        "rejection_rate": _share(predicted_rejected),
        "observed_rejection_rate": _share(is_rejected),
        "precision_rejected": _share(is_rejected[predicted_rejected]),
        "recall_rejected": _share(predicted_rejected[is_rejected]),
    }
    return {name: round(float(value), 6) for name, value in metrics.items()}


def _signature() -> dict[str, Any]:
    return {
        "inputs": [
            {"name": name, "type": apps.FIELDS[name], "description": INPUT_DESCRIPTIONS[name]}
            for name in MODEL_INPUTS
        ],
        "outputs": {"labels": list(apps.LABELS), "probabilities": True},
    }


def _other_fields() -> list[dict[str, Any]]:
    # Fields of an application the model does not read, declared so the registry knows which
    # are personal data (never profiled) and which are protected (kept for fairness checks).
    return [
        {"name": name, "type": apps.FIELDS[name], "personal": name in apps.PERSONAL,
         "protected": name in apps.PROTECTED}
        for name in (*apps.PERSONAL, *apps.PROTECTED)
    ]


def _dataset(name: str, role: str, path: Path, rows: int) -> dict[str, Any]:
    return {
        "name": name,
        "role": role,
        "reference": str(path),
        "sha256": sha256_file(path),
        "rows": rows,
    }


def train_versions(
    workdir: Path, seed: int = 7, *, trained_at: datetime | None = None
) -> list[TrainedVersion]:
    """Generate the data, train v1, v2 and v3, and write each version's folder under workdir.

    Same seed, same bytes: data CSVs, model.skops files and reference CSVs are reproducible;
    metadata differs only in trained_at (default: now, UTC) and the absolute data paths.
    """
    workdir = Path(workdir).resolve()
    trained_at = trained_at or datetime.now(timezone.utc).replace(microsecond=0)

    train_rows = apps.generate(TRAINING_ROWS, seed)
    test_rows = apps.generate(TEST_ROWS, seed + 1)
    training_csv = apps.write_csv(train_rows, workdir / "data" / "training.csv")
    test_csv = apps.write_csv(test_rows, workdir / "data" / "test.csv")
    datasets = [
        _dataset(f"{SERVICE}-training", "training", training_csv, len(train_rows)),
        _dataset(f"{SERVICE}-test", "test", test_csv, len(test_rows)),
    ]
    sample_size = min(REFERENCE_ROWS, len(train_rows))
    picks = np.random.default_rng(seed).choice(len(train_rows), size=sample_size, replace=False)
    reference_rows = [train_rows[i] for i in np.sort(picks)]

    x_train, y_train = model_matrix(train_rows), _labels(train_rows)
    x_test, y_test = model_matrix(test_rows), _labels(test_rows)

    trained = []
    for recipe in RECIPES:
        folder = workdir / recipe.name
        model = fit_pipeline(recipe.hyperparameters, x_train, y_train)
        untrusted = save_model(model, folder / "artifact" / MODEL_FILE)
        metrics = _metrics(model, x_test, y_test)
        metadata = {
            "description": f"{SERVICE} {recipe.name}: {recipe.description}",
            "model": {"format": "skops", "entry": MODEL_FILE, "trusted_types": untrusted},
            "family": FAMILIES[recipe.hyperparameters["algorithm"]],
            "signature": _signature(),
            "other_fields": _other_fields(),
            "training_data": {"reference": str(training_csv), "sha256": datasets[0]["sha256"]},
            "trained_at": trained_at,
            "hyperparameters": {**recipe.hyperparameters, "seed": seed},
            "metrics": metrics,
            "datasets": datasets,
            "code_revision": f"relevo-demo {relevo.__version__}",
            "author": "Relevo demo (synthetic data)",
            "intended_use": INTENDED_USE,
            "limitations": LIMITATIONS,
        }
        metadata_path = folder / METADATA_FILE
        parse_metadata(metadata, str(metadata_path))
        metadata_path.write_text(
            yaml.safe_dump(metadata, sort_keys=False, allow_unicode=True), encoding="utf-8"
        )
        reference_path = apps.write_csv(reference_rows, folder / REFERENCE_FILE, REFERENCE_FIELDS)
        trained.append(
            TrainedVersion(
                name=recipe.name,
                artifact_dir=folder / "artifact",
                metadata_path=metadata_path,
                reference_data_path=reference_path,
                rejection_rate=metrics["rejection_rate"],
            )
        )
    return trained
