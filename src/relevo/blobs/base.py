"""The blob store interface: stage (copy and hash), publish under the hash, read back."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from relevo.blobs.manifest import FileEntry, Manifest, Progress


@dataclass(frozen=True)
class Staged:
    """An artifact copied aside and hashed, not yet visible under its hash."""

    manifest: Manifest
    location: Path
    files: Path  # a local folder holding the staged files as the artifact lays them out


class BlobStore(Protocol):
    """Content-addressed, write-once storage of artifact files."""

    def stage(self, source: Path, progress: Progress | None = None) -> Staged:
        """Copy the file or folder at source aside, hashing it in the same pass."""
        ...

    def publish(self, staged: Staged) -> tuple[str, bool]:
        """Make staged content read-only under its hash; returns (uri, newly created)."""
        ...

    def discard(self, staged: Staged) -> None:
        """Forget staged content."""
        ...

    def remove(self, uri: str) -> None:
        """Delete published content (only to undo a registration that did not commit)."""
        ...

    def local_path(self, uri: str) -> Path:
        """A local folder holding the content's files, for loading."""
        ...

    def scan(self, uri: str, progress: Progress | None = None) -> dict[str, FileEntry]:
        """Re-hash the stored files, keyed by relative path."""
        ...
