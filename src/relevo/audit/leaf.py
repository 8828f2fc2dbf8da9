"""What one audit event's leaf in the Merkle tree holds, byte for byte.

The leaf names the event's place, time, actor, action and subject, and holds its details only
as a salted SHA-256: the details (which may name a person) can later be purged under a retention
rule and every proof stays valid, while no one can guess them back from the hash. The format is
versioned (`v`) so a verifier written today reads the leaves of any later release.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from typing import Any

LEAF_FORMAT = 1


def canonical_json(value: Any) -> bytes:
    """The one JSON form that is hashed: sorted keys, no spaces, ASCII."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()


def details_digest(salt: bytes, details: dict[str, Any]) -> str:
    """The salted hash that stands in a leaf for the event's details."""
    return hashlib.sha256(salt + canonical_json(details)).hexdigest()


def leaf_data(seq: int, at: datetime, actor: str, action: str, subject: str, details_sha256: str) -> bytes:
    """The leaf's data (hashed as RFC 9162 leaves are)."""
    return canonical_json({"v": LEAF_FORMAT, "seq": seq, "at": at.astimezone(timezone.utc).isoformat(),
                           "actor": actor, "action": action, "subject": subject, "details": details_sha256})
