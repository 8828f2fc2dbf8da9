"""The instance's audit signing key: an Ed25519 key in a file only its owner can read.

The key file holds the key in the signed-note text form; beside it, `audit.pub` (or KEY.pub)
holds the public key an auditor is given. Replicas of one instance share the key file.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from relevo.audit.note import NoteError, Signer, Verifier
from relevo.errors import InvalidInput, NotFound, Refused


def public_key_file(path: Path) -> Path:
    """Where the public half of the key at path is written."""
    return path.with_suffix(".pub")


def load_signer(path: Path) -> Signer:
    """The signing key at path, refused when anyone but its owner can read or write it."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        raise NotFound(f"no audit signing key at {path}; `relevo init` creates one") from None
    if mode & 0o077:
        raise Refused(f"the audit signing key {path} can be read or written by others (mode {mode:o}); "
                      f"run `chmod 600 {path}`")
    try:
        return Signer.parse(path.read_text())
    except (NoteError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"the audit signing key {path} is not a signing key: {exc}") from None


def write_signer(path: Path, signer: Signer) -> None:
    """Write a key file (mode 600) and its public key beside it; refuses to overwrite one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise Refused(f"an audit signing key already exists at {path}") from None
    with os.fdopen(fd, "w") as f:
        f.write(signer.text() + "\n")
    public_key_file(path).write_text(signer.verifier().text() + "\n")


def read_verifier(text_or_path: str) -> Verifier:
    """A public key given as its text (name+hash+key) or as a file holding it."""
    candidate = Path(text_or_path)
    text = text_or_path
    if "+" not in text_or_path or candidate.is_file():
        try:
            text = candidate.read_text()
        except OSError:
            raise NotFound(f"--key takes a public key (name+hash+key) or a file holding one; "
                           f"cannot read {text_or_path}") from None
    try:
        return Verifier.parse(text)
    except NoteError as exc:
        raise InvalidInput(f"not a public key: {exc}") from None
