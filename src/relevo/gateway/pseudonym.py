"""Keyed pseudonyms (HMAC-SHA256) for case ids and personal fields in the decision log.

The same value under the same key always gives the same pseudonym, so a case can be followed
through the log without its identifier being stored. The key comes from RELEVO_PSEUDONYM_KEY
(shared by every replica) or, on the embedded default, from a key file created in the home
folder with owner-only permissions.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from relevo.errors import InvalidInput


class Pseudonymiser:
    """HMAC-SHA256 under one secret key."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise InvalidInput("the pseudonym key must be at least 16 bytes")
        self._key = key

    def __call__(self, value: object) -> str:
        """A stable pseudonym of value (hex, 32 characters)."""
        return hmac.new(self._key, str(value).encode(), hashlib.sha256).hexdigest()[:32]


def load_key(configured: str | None, home: Path) -> bytes:
    """The configured key (hex), or the home folder's key file, created on first use."""
    if configured:
        try:
            return bytes.fromhex(configured)
        except ValueError:
            raise InvalidInput("RELEVO_PSEUDONYM_KEY must be hex (e.g. from `openssl rand -hex 32`)") from None
    path = home / "pseudonym.key"
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it a moment ago
            pass
        else:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32))
    return bytes.fromhex(path.read_text().strip())
