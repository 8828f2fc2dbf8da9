"""Loading a model artifact into a Model, one module per format."""

from __future__ import annotations

from pathlib import Path

from relevo.errors import RelevoError
from relevo.loaders.base import Model, Prediction
from relevo.loaders.errors import ModelFailure
from relevo.loaders.signature import ModelSpec, Signature

__all__ = ["Model", "ModelFailure", "Prediction", "load_model"]


def load_model(
    artifact_dir: Path, spec: ModelSpec, signature: Signature, *, trust_pickle: bool = False
) -> Model:
    """Load the model an artifact holds, as its spec's format says."""
    # Imports are per format so that, e.g., an ONNX-only deployment never imports skops.
    match spec.format:
        case "skops":
            from relevo.loaders.skops_model import load_skops

            return load_skops(Path(artifact_dir), spec, signature)
        case "onnx":
            from relevo.loaders.onnx_model import load_onnx

            return load_onnx(Path(artifact_dir), spec, signature)
        case "entrypoint":
            from relevo.loaders.entrypoint_model import load_entrypoint

            return load_entrypoint(Path(artifact_dir), spec, signature)
        case "remote":
            from relevo.loaders.remote_model import load_remote

            return load_remote(spec, signature)
        case "pickle":
            from relevo.loaders.pickle_model import load_pickle

            return load_pickle(Path(artifact_dir), spec, signature, trust_pickle=trust_pickle)
    raise RelevoError(
        f"unsupported model format {spec.format!r}; relevo loads skops, onnx, entrypoint, remote and pickle"
    )
