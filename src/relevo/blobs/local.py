"""A blob store in a local folder: <root>/sha256/<first two hex>/<hash>/<files>.

Files are written to a staging folder while being hashed, then the folder is renamed into
place (atomic on one file system) and made read-only. A crash before the rename leaves only a
staging folder, which no version row points to and the next staging clears.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from pathlib import Path

from relevo.blobs.base import Staged
from relevo.errors import IntegrityFailure, InvalidInput, NotFound
from relevo.blobs.manifest import (
    FileEntry,
    Manifest,
    Progress,
    artifact_files,
    compare,
    hash_file,
)

SCHEME = "local:"
READ_ONLY_FILE = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH
READ_ONLY_DIR = READ_ONLY_FILE | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH


def _make_writable(root: Path) -> None:
    for dirpath, _dirs, _files in os.walk(root):
        os.chmod(dirpath, stat.S_IRWXU)
        for name in _files:
            os.chmod(Path(dirpath, name), stat.S_IRUSR | stat.S_IWUSR)


def _make_read_only(root: Path) -> None:
    for dirpath, _dirs, files in os.walk(root, topdown=False):
        for name in files:
            os.chmod(Path(dirpath, name), READ_ONLY_FILE)
        os.chmod(dirpath, READ_ONLY_DIR)


class LocalBlobStore:
    """Content-addressed artifact storage in a folder on this machine."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.staging = self.root / "staging"

    def _content_dir(self, digest: str) -> Path:
        return self.root / "sha256" / digest[:2] / digest

    def stage(self, source: Path, progress: Progress | None = None) -> Staged:
        """Copy source aside while hashing it (one read of each byte)."""
        self.staging.mkdir(parents=True, exist_ok=True)
        files = list(artifact_files(source))  # validates before any copy
        location = Path(tempfile.mkdtemp(prefix="stage-", dir=self.staging))
        try:
            entries = []
            for rel, path in files:
                target = location / "files" / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                entry = hash_file(path, progress, copy_to=target)
                entries.append(FileEntry(rel, entry.size, entry.sha256))
            if not entries:
                raise InvalidInput(f"artifact folder is empty: {source}")
        except BaseException:
            shutil.rmtree(location, ignore_errors=True)
            raise
        return Staged(Manifest.of(entries), location, location / "files")

    def publish(self, staged: Staged) -> tuple[str, bool]:
        """Move staged files under their hash, read-only; reuse identical content already there."""
        digest = staged.manifest.digest()
        target = self._content_dir(digest)
        uri = f"{SCHEME}sha256/{digest}"
        if target.exists():
            # Left by an earlier registration that did not commit: reuse it only if intact.
            if self._problems(staged.manifest, target) == []:
                self.discard(staged)
                return uri, False
            _make_writable(target)
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged.location / "files", target)
        shutil.rmtree(staged.location, ignore_errors=True)
        _make_read_only(target)
        return uri, True

    def discard(self, staged: Staged) -> None:
        """Delete a staging folder."""
        shutil.rmtree(staged.location, ignore_errors=True)

    def remove(self, uri: str) -> None:
        """Delete published content."""
        path = self.local_path(uri, must_exist=False)
        if path.exists():
            _make_writable(path)
            shutil.rmtree(path)

    def local_path(self, uri: str, must_exist: bool = True) -> Path:
        """The folder holding the files of uri."""
        if not uri.startswith(SCHEME + "sha256/"):
            raise NotFound(f"not a local blob URI: {uri}")
        path = self._content_dir(uri.rsplit("/", 1)[1])
        if must_exist and not path.is_dir():
            raise IntegrityFailure(f"artifact folder is missing from the blob store: {path}")
        return path

    def scan(self, uri: str, progress: Progress | None = None) -> dict[str, FileEntry]:
        """Re-hash every file found under uri."""
        return _scan_dir(self.local_path(uri), progress)

    def _problems(self, manifest: Manifest, root: Path) -> list[str]:
        return compare(manifest, _scan_dir(root))


def _scan_dir(root: Path, progress: Progress | None = None) -> dict[str, FileEntry]:
    found = {}
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            path = Path(dirpath, name)
            rel = path.relative_to(root).as_posix()
            entry = hash_file(path, progress)
            found[rel] = FileEntry(rel, entry.size, entry.sha256)
    return found
