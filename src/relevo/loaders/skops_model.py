"""Loading a scikit-learn estimator saved with skops.io, refusing types nobody reviewed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import skops.io

from relevo.errors import InvalidInput, Refused
from relevo.loaders.artifact import entry_path
from relevo.loaders.estimator_model import EstimatorModel
from relevo.loaders.parsing import ONE_AT_A_TIME
from relevo.loaders.signature import ModelSpec, Signature


def load_skops(artifact_dir: Path, spec: ModelSpec, signature: Signature) -> EstimatorModel:
    """Load a .skops file; Refused if it holds types not in skops' defaults nor spec.trusted_types."""
    path = entry_path(artifact_dir, spec)
    with ONE_AT_A_TIME:
        return _load(path, spec, signature)


def untrusted_types(path: Path) -> list[str]:
    """The types in a .skops file that skops does not trust by default; InvalidInput if it cannot be read."""
    try:
        return sorted(skops.io.get_untrusted_types(file=path))
    except Exception as exc:  # a corrupt or foreign file fails in many ways inside skops
        raise InvalidInput(f"cannot read skops file {path}: {type(exc).__name__}: {exc}") from None


def read_estimator(path: Path, trusted: list[str]) -> Any:
    """The object a .skops file holds, loading the types listed as trusted; InvalidInput when it cannot."""
    try:
        return skops.io.load(path, trusted=trusted)
    except Exception as exc:
        raise InvalidInput(f"cannot load skops file {path}: {type(exc).__name__}: {exc}") from None


def _load(path: Path, spec: ModelSpec, signature: Signature) -> EstimatorModel:
    untrusted = untrusted_types(path)
    unreviewed = sorted(set(untrusted) - set(spec.trusted_types))
    if unreviewed:
        raise Refused(
            f"skops file {path} contains types that are not trusted by default: "
            f"{', '.join(unreviewed)}. Loading them can run their code. After reviewing them, "
            f"list them under model.trusted_types in the version metadata."
        )
    return EstimatorModel(read_estimator(path, untrusted), signature, source=str(path))
