"""Tokens verified a moment ago, remembered so a request need not pay argon2 or the store again."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Principal:
    """Who a verified token speaks for, with the roles it may use."""

    name: str
    kind: str
    grants: frozenset[tuple[str, str | None]]
    token_id: str


# token id -> (the secret's sha256, trusted until (monotonic), the token's expiry, who it is)
_REMEMBERED: dict[str, tuple[bytes, float, datetime, Principal]] = {}
_LOCK = threading.Lock()


def forget_tokens() -> None:
    """Drop every remembered verification (after a token, an identity or its roles change here)."""
    with _LOCK:
        _REMEMBERED.clear()
