"""Sticky assignment of cases to arms: a hash of the case id, so a case sees one version."""

from __future__ import annotations

import hashlib


def case_bucket(case_id: str, salt: str = "") -> float:
    """A number in [0, 1) that depends only on (salt, case id), uniform across cases."""
    digest = hashlib.blake2b(f"{salt}\x00{case_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def goes_to_candidate(case_id: str, weight_percent: float, salt: str = "") -> bool:
    """True when the case falls in the candidate's share of a canary at weight_percent."""
    if weight_percent <= 0:
        return False
    if weight_percent >= 100:
        return True
    return case_bucket(case_id, salt) < weight_percent / 100.0
