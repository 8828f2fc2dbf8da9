"""Locating the entry file inside an artifact directory."""

from __future__ import annotations

from pathlib import Path

from relevo.errors import InvalidInput, NotFound
from relevo.loaders.signature import ModelSpec


def entry_path(artifact_dir: Path, spec: ModelSpec) -> Path:
    """The entry file of a file-based model; NotFound if it is not in the artifact."""
    root = artifact_dir.resolve()
    path = (root / (spec.entry or "")).resolve()
    # The entry comes from metadata; it must not reach files outside the hashed artifact.
    if not path.is_relative_to(root) or path == root:
        raise InvalidInput(f"model entry {spec.entry!r} is not a file inside the artifact {artifact_dir}")
    if not path.is_file():
        raise NotFound(f"model entry file {path} does not exist (model.entry is {spec.entry!r})")
    return path
