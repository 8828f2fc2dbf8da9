"""Safe retries of decision requests: the Idempotency-Key of the IETF HTTP APIs draft.

A client that sends `Idempotency-Key: "..."` with a decision request may send the same request
again (after a timeout, a 503, a dropped connection) and gets the decision first recorded for it,
never a second decision for the same case. The key is stored with a fingerprint of the request
(the service and environment, the case id and the inputs, as parsed JSON) in the decision's own commit, so a key
is on record exactly when its decision is. The same key with another request is refused as a
conflict with what is recorded under it (409; the draft suggests 422, but the request is well
formed: what it contradicts is the server's record, and a schema-valid request is never refused
for its form here), and a request whose key is still being answered gets 409 with Retry-After
until the first one is done. Keys are kept RETENTION (48 hours; the draft asks for at least 24),
then forgotten.
"""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import datetime, timedelta
from typing import Any, Mapping

from sqlalchemy import Connection, delete, select

from relevo.errors import Busy, Conflict, InvalidInput
from relevo.store.tables import decisions, idempotency_keys

RETENTION = timedelta(hours=48)
MAX_KEY_LENGTH = 255


def parse_key(header: str) -> str:
    """The key from an Idempotency-Key header (a structured-field string, quotes optional)."""
    value = header.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    if not value or len(value) > MAX_KEY_LENGTH or not all(" " <= ch <= "~" for ch in value):
        raise InvalidInput(f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable ASCII characters, "
                           f'e.g. Idempotency-Key: "8e03978e-40d5-43e8-bc93-6894a57f9324"')
    return value


def fingerprint(service: str, environment: str, case_id: str, inputs: Mapping[str, Any]) -> str:
    """sha256 of the request a key stands for (in its environment), independent of key order and spacing."""
    body = json.dumps({"service": service, "environment": environment, "case_id": case_id, "inputs": inputs},
                      sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def stored_decision_id(conn: Connection, service: str, key: str, request_sha256: str) -> str | None:
    """The decision already recorded for this key and request, None for a new key; Conflict
    when the key was used for another request."""
    row = conn.execute(select(idempotency_keys.c.decision_id, idempotency_keys.c.request_sha256)
                       .where(idempotency_keys.c.service == service, idempotency_keys.c.key == key)).first()
    if row is None:
        return None
    if row.request_sha256 != request_sha256:
        raise Conflict("this Idempotency-Key was already used for another request (another case id or other "
                           "inputs); use a new key for a new request")
    return row.decision_id


def replayed_row(conn: Connection, decision_id: str) -> Any:
    """The decision log's row of a decision answered earlier under a key, to replay it."""
    return conn.execute(select(decisions).where(decisions.c.id == decision_id)).mappings().one()


def key_row(service: str, key: str, request_sha256: str, decision_id: str, at: datetime) -> dict[str, Any]:
    """The row that records a key, written in its decision's commit."""
    return {"service": service, "key": key, "request_sha256": request_sha256, "decision_id": decision_id,
            "created_at": at}


def forget_old_keys(conn: Connection, now: datetime) -> int:
    """Delete the keys older than RETENTION; how many went."""
    return conn.execute(delete(idempotency_keys).where(idempotency_keys.c.created_at < now - RETENTION)).rowcount


class InFlight:
    """Keys being answered in this process: a second request with one waits its turn as a 409."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: set[tuple[str, str]] = set()

    def enter(self, service: str, key: str) -> None:
        """Mark the key as being answered; Conflict when it already is."""
        with self._lock:
            if (service, key) in self._keys:
                raise Busy("a request with this Idempotency-Key is still being answered; retry in a moment")
            self._keys.add((service, key))

    def leave(self, service: str, key: str) -> None:
        """The key's request is answered (or failed)."""
        with self._lock:
            self._keys.discard((service, key))
