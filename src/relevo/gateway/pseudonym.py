"""Keyed pseudonyms (HMAC-SHA256) for case ids and personal fields in the decision log.

The same value under the same key always gives the same pseudonym, so a case can be followed
through the log without its identifier being stored. The current key comes from
RELEVO_PSEUDONYM_KEY (shared by every replica) or, on the embedded default, from a key file
created in the home folder with owner-only permissions.

Keys rotate: the current one pseudonymises new decisions, earlier ones (RELEVO_PSEUDONYM_KEYS,
and the files in the home folder's pseudonym-keys/) are kept only to find the decisions made
under them, until those are purged and the key retires. Each key has an id derived from the key
itself (a key check value), stored with every decision: every replica holding a key gives it the
same id, with nothing to agree on, and the id tells nothing of the key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path
from typing import Iterable

from relevo.errors import InvalidInput
from relevo.settings import Settings

KEY_FILE = "pseudonym.key"
EARLIER_KEYS = "pseudonym-keys"  # the home folder's earlier keys, one file each: <id>.key
KEY_ID = re.compile(r"^[0-9a-f]{12}$")
CONFIGURED, CONFIGURED_EARLIER = "RELEVO_PSEUDONYM_KEY", "RELEVO_PSEUDONYM_KEYS"


def key_id(key: bytes) -> str:
    """The key's public id: 12 hex digits of an HMAC of a fixed text under the key."""
    return hmac.new(key, b"relevo pseudonym key id", hashlib.sha256).hexdigest()[:12]


class Pseudonymiser:
    """HMAC-SHA256 under one secret key."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise InvalidInput("the pseudonym key must be at least 16 bytes")
        self._key = key
        self.key_id = key_id(key)

    def __call__(self, value: object) -> str:
        """A stable pseudonym of value (hex, 32 characters)."""
        return hmac.new(self._key, str(value).encode(), hashlib.sha256).hexdigest()[:32]


class Keyring:
    """The current key, which pseudonymises new decisions, and the earlier ones, which only find
    the decisions made under them; where each came from, by id."""

    def __init__(self, current: bytes, earlier: Iterable[bytes] = (), sources: dict[str, str] | None = None) -> None:
        self.current = Pseudonymiser(current)
        self.earlier: list[Pseudonymiser] = []
        for key in earlier:
            held = Pseudonymiser(key)
            if held.key_id not in self.ids:
                self.earlier.append(held)
        self.sources = sources or {}

    @property
    def key_id(self) -> str:
        """The current key's id."""
        return self.current.key_id

    @property
    def ids(self) -> list[str]:
        """Every key's id, the current one first."""
        return [self.current.key_id] + [k.key_id for k in self.earlier]

    def __call__(self, value: object) -> str:
        """value's pseudonym under the current key."""
        return self.current(value)

    def pseudonyms(self, value: object) -> dict[str, str]:
        """value's pseudonym under every key held, by key id: what a decision made under any of them holds."""
        return {held.key_id: held(value) for held in (self.current, *self.earlier)}


def _hex_key(text: str, where: str) -> bytes:
    try:
        return bytes.fromhex(text.strip())
    except ValueError:
        raise InvalidInput(f"{where} must be hex (e.g. from `openssl rand -hex 32`)") from None


def write_key_file(path: Path, key_hex: str) -> None:
    """A new key file, readable by its owner alone; FileExistsError if there is one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key_hex)


def load_key(configured: str | None, home: Path) -> bytes:
    """The configured key (hex), or the home folder's key file, created on first use."""
    if configured:
        return _hex_key(configured, CONFIGURED)
    path = home / KEY_FILE
    if not path.exists():
        try:
            write_key_file(path, secrets.token_hex(32))
        except FileExistsError:  # another process created it a moment ago
            pass
    return _hex_key(path.read_text(), str(path))


def earlier_key_files(home: Path) -> list[Path]:
    """The home folder's earlier key files, by name."""
    folder = home / EARLIER_KEYS
    return sorted(folder.glob("*.key")) if folder.is_dir() else []


def load_keyring(settings: Settings) -> Keyring:
    """The keys settings name: the current one (RELEVO_PSEUDONYM_KEY, or the home folder's key
    file, created on first use) and the earlier ones (RELEVO_PSEUDONYM_KEYS, comma- or
    space-separated, and the home folder's pseudonym-keys/*.key)."""
    current = load_key(settings.pseudonym_key, settings.home)
    sources = {key_id(current): CONFIGURED if settings.pseudonym_key else str(settings.home / KEY_FILE)}
    earlier: list[bytes] = []
    for text in filter(None, re.split(r"[\s,]+", settings.pseudonym_keys or "")):
        earlier.append(_hex_key(text, CONFIGURED_EARLIER))
        sources.setdefault(key_id(earlier[-1]), CONFIGURED_EARLIER)
    for path in earlier_key_files(settings.home):
        earlier.append(_hex_key(path.read_text(), str(path)))
        sources.setdefault(key_id(earlier[-1]), str(path))
    return Keyring(current, earlier, sources)
