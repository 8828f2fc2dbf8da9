"""Content addressing: a canonical manifest of an artifact's files and its sha256.

The manifest lists every file by relative POSIX path (sorted), size and sha256. Its canonical
JSON form (sorted keys, no spaces) is hashed to give the version's identity, so the same files
always give the same hash whatever the order they were written in, and any change to a byte, a
name, a missing or an extra file changes it.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from relevo.errors import InvalidInput, NotFound

MANIFEST_FORMAT = 1
CHUNK = 4 * 1024 * 1024

Progress = Callable[[int], None]  # called with the number of bytes just processed


@dataclass(frozen=True)
class FileEntry:
    """One file of an artifact."""

    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    """The files of an artifact, in canonical order."""

    files: tuple[FileEntry, ...]

    @classmethod
    def of(cls, entries: list[FileEntry]) -> "Manifest":
        """A manifest with entries sorted by path."""
        return cls(tuple(sorted(entries, key=lambda e: e.path)))

    def to_dict(self) -> dict:
        """The manifest as stored in the database."""
        return {
            "format": MANIFEST_FORMAT,
            "files": [{"path": f.path, "size": f.size, "sha256": f.sha256} for f in self.files],
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Manifest":
        """Read back a stored manifest."""
        return cls.of([FileEntry(f["path"], int(f["size"]), f["sha256"]) for f in data["files"]])

    def canonical_bytes(self) -> bytes:
        """The exact bytes whose sha256 is the artifact's identity."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":")).encode()

    def digest(self) -> str:
        """The artifact's content hash."""
        return hashlib.sha256(self.canonical_bytes()).hexdigest()

    @property
    def size(self) -> int:
        """Total bytes over all files."""
        return sum(f.size for f in self.files)


def artifact_files(root: Path) -> Iterator[tuple[str, Path]]:
    """(relative POSIX path, absolute path) of every regular file under root, or root itself.

    Symbolic links and special files are refused: an artifact must be exactly its bytes.
    """
    if not root.exists():
        raise NotFound(f"artifact path not found: {root}")
    if root.is_symlink():
        raise InvalidInput(f"artifact path is a symbolic link: {root}; give the real file or folder")
    if root.is_file():
        yield root.name, root
        return
    if not root.is_dir():
        raise InvalidInput(f"artifact path is neither a file nor a folder: {root}")
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames + [d for d in dirnames if Path(dirpath, d).is_symlink()]):
            path = Path(dirpath, name)
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                raise InvalidInput(f"artifact contains a symbolic link: {rel}; copy the real file in")
            if not path.is_file():
                raise InvalidInput(f"artifact contains a special file: {rel}")
            yield rel, path


def hash_file(path: Path, progress: Progress | None = None, copy_to: Path | None = None) -> FileEntry:
    """sha256 and size of one file, optionally copying it to copy_to in the same single pass."""
    digest = hashlib.sha256()
    size = 0
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    try:
        with open(path, "rb", buffering=0) as src:
            out = open(copy_to, "wb") if copy_to is not None else None
            try:
                while n := src.readinto(buffer):
                    digest.update(view[:n])
                    if out is not None:
                        out.write(view[:n])
                    size += n
                    if progress:
                        progress(n)
            finally:
                if out is not None:
                    out.close()
    except PermissionError:
        raise InvalidInput(f"cannot read artifact file {path}: permission denied") from None
    return FileEntry(path.name, size, digest.hexdigest())


def compare(expected: Manifest, actual: dict[str, FileEntry]) -> list[str]:
    """Human-readable differences between the recorded manifest and the files found."""
    problems = []
    recorded = {f.path: f for f in expected.files}
    for path, entry in recorded.items():
        found = actual.get(path)
        if found is None:
            problems.append(f"missing file: {path}")
        elif found.size != entry.size or found.sha256 != entry.sha256:
            problems.append(
                f"modified file: {path} (recorded sha256 {entry.sha256[:12]}…, "
                f"{entry.size} bytes; found {found.sha256[:12]}…, {found.size} bytes)"
            )
    for path in sorted(set(actual) - set(recorded)):
        problems.append(f"unexpected file: {path}")
    return problems
