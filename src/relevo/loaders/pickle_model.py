"""Loading a plain pickle/joblib estimator, only where the service spec allows it."""

from __future__ import annotations

from pathlib import Path

import joblib

from relevo.errors import InvalidInput, Refused
from relevo.loaders.artifact import entry_path
from relevo.loaders.estimator_model import EstimatorModel
from relevo.loaders.parsing import ONE_AT_A_TIME
from relevo.loaders.signature import ModelSpec, Signature


def load_pickle(
    artifact_dir: Path, spec: ModelSpec, signature: Signature, *, trust_pickle: bool
) -> EstimatorModel:
    """Load a pickle or joblib file; Refused unless the service trusts pickles."""
    if not trust_pickle:
        raise Refused(
            f"model entry {spec.entry!r} is a pickle: loading a pickle runs arbitrary code from the "
            f"file. Prefer the skops format; to load it anyway, the service spec must set "
            f"'trust_pickle: true'."
        )
    path = entry_path(artifact_dir, spec)
    try:
        with ONE_AT_A_TIME:  # see relevo.loaders.parsing
            estimator = joblib.load(path)  # joblib.load also reads plain pickles
    except Exception as exc:
        raise InvalidInput(f"cannot load pickle file {path}: {type(exc).__name__}: {exc}") from exc
    return EstimatorModel(estimator, signature, source=str(path))
