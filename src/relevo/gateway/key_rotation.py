"""Rotating the pseudonym key: a new key pseudonymises new decisions, the old one is kept to find
the decisions made under it, and retires once none is left (they are purged past retention).

On the embedded default the keys are files in the home folder: rotation writes the new key file
and keeps the old one under pseudonym-keys/<id>.key; retirement deletes it. Where
RELEVO_PSEUDONYM_KEY sets the key, the replicas' configuration rotates it (the new key there, the
old one added to RELEVO_PSEUDONYM_KEYS, on every replica) and `rotate` records that rotation; a
retired key is then removed from RELEVO_PSEUDONYM_KEYS. Either way the audit log has each
rotation and retirement, by key id, never a key. A running `relevo serve` takes a rotated key up
when it restarts.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, select

from relevo.audit import list_events, record_change
from relevo.context import Context, note_role
from relevo.errors import Conflict, NotFound, Refused
from relevo.gateway.pseudonym import (CONFIGURED, CONFIGURED_EARLIER, EARLIER_KEYS, KEY_FILE, Keyring, key_id,
                                      load_keyring, write_key_file)
from relevo.settings import Settings
from relevo.store import connect
from relevo.store.tables import decisions

ROTATED, RETIRED = "pseudonym.key-rotated", "pseudonym.key-retired"


@dataclass(frozen=True)
class PseudonymKey:
    """A pseudonym key by its id: whether this machine holds it (and where from), and the decisions made under it."""

    key_id: str | None  # None: decisions made before keys had ids
    current: bool
    source: str | None  # RELEVO_PSEUDONYM_KEY(S) or the key file; None: not held here
    decisions: int
    oldest: datetime | None  # the oldest decision made under it


@dataclass(frozen=True)
class KeyChange:
    """A rotation or a retirement, as recorded: the key ids, and what is left to do by hand."""

    action: str
    key_id: str
    previous: str | None  # on a rotation: the key it replaced, when known
    event_id: int
    todo: str | None = None  # e.g. what to change in every replica's configuration


def _require_admin(ctx: Context) -> None:
    if ctx.grants is not None:
        if ("admin", None) not in ctx.grants:
            raise Refused("rotating or retiring the pseudonym key needs the admin role")
        note_role(ctx.actor, "admin")


def _decisions(n: int, oldest: datetime | None) -> str:
    return f"{n:,} decision{'s' if n != 1 else ''} (the oldest of {oldest:%Y-%m-%d})"


def _by_key(conn: Connection) -> dict[str | None, tuple[int, datetime | None]]:
    rows = conn.execute(select(decisions.c.pseudonym_key, func.count(), func.min(decisions.c.created_at))
                        .group_by(decisions.c.pseudonym_key)).all()
    return {row[0]: (row[1], row[2]) for row in rows}


def pseudonym_keys(ctx: Context, settings: Settings) -> list[PseudonymKey]:
    """The keys this machine holds, the current one first, and every key the decision log names,
    with the decisions made under each (a key the log names but this machine lacks cannot find them)."""
    keyring = load_keyring(settings)
    with connect(ctx.engine) as conn:
        counts = _by_key(conn)
    found = [PseudonymKey(kid, kid == keyring.key_id, keyring.sources.get(kid), *counts.get(kid, (0, None)))
             for kid in keyring.ids]
    return found + [PseudonymKey(kid, False, None, n, oldest) for kid, (n, oldest) in sorted(
        counts.items(), key=lambda item: (item[0] is None, item[0] or "")) if kid not in keyring.ids]


def _recorded(conn: Connection, kid: str) -> bool:
    """True when a rotation to the key is in the audit log (rotations are few: the newest thousand are read)."""
    return any(e.subject == f"pseudonym-key/{kid}" for e in list_events(conn, action=ROTATED, limit=1000))


def rotate_pseudonym_key(ctx: Context, settings: Settings) -> KeyChange:
    """A new current key (admins): on key files, made here, the old one kept for lookups; with
    RELEVO_PSEUDONYM_KEY, the rotation the configuration made, recorded. Audited by key id."""
    _require_admin(ctx)
    keyring = load_keyring(settings)
    if settings.pseudonym_key:
        return _record_configured(ctx, keyring)
    home = settings.home
    path, staged = home / KEY_FILE, home / f"{KEY_FILE}.new"
    new_hex = secrets.token_hex(32)
    new_id = key_id(bytes.fromhex(new_hex))
    staged.unlink(missing_ok=True)  # left by a rotation that failed before it was recorded
    write_key_file(staged, new_hex)
    try:
        with connect(ctx.engine) as conn:
            change = record_change(conn, ctx, ROTATED, f"pseudonym-key/{new_id}",
                                   {"key_id": new_id, "previous": keyring.key_id, "source": "key file"})
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    # Recorded: the old key is kept under its id first, so there is always a key file in place.
    kept = home / EARLIER_KEYS / f"{keyring.key_id}.key"
    if not kept.exists():
        write_key_file(kept, path.read_text().strip())
    os.replace(staged, path)
    return KeyChange(ROTATED, new_id, keyring.key_id, change.event_id,
                     "restart `relevo serve` (every replica sharing this home folder) to take the new key up")


def _record_configured(ctx: Context, keyring: Keyring) -> KeyChange:
    how = (f"set {CONFIGURED} to a new key (`openssl rand -hex 32`) and add the old one to {CONFIGURED_EARLIER}, "
           f"on every replica, then run this again to record it")
    if not keyring.earlier:
        raise Conflict(f"{CONFIGURED_EARLIER} names no earlier key, so no rotation happened: {how}")
    with connect(ctx.engine) as conn:
        if _recorded(conn, keyring.key_id):
            raise Conflict(f"the rotation to key {keyring.key_id} is already recorded; to rotate again, {how}")
        change = record_change(conn, ctx, ROTATED, f"pseudonym-key/{keyring.key_id}", {
            "key_id": keyring.key_id, "earlier": [k.key_id for k in keyring.earlier], "source": CONFIGURED})
    return KeyChange(ROTATED, keyring.key_id, None, change.event_id)


def retire_pseudonym_key(ctx: Context, settings: Settings, key: str) -> KeyChange:
    """Retire an earlier key (admins) once no decision made under it is left: its key file is
    deleted (or, configured, it is to be removed from RELEVO_PSEUDONYM_KEYS). Audited by key id."""
    _require_admin(ctx)
    keyring = load_keyring(settings)
    if key == keyring.key_id:
        raise Conflict(f"{key} is the current pseudonym key: rotate it first (relevo pseudonym-key rotate)")
    if key not in keyring.ids:
        held = ", ".join(k.key_id for k in keyring.earlier) or "none"
        raise NotFound(f"no earlier pseudonym key {key!r} is held here (earlier keys: {held})")
    with connect(ctx.engine) as conn:
        counts = _by_key(conn)
        left, unknown = counts.get(key, (0, None)), counts.get(None, (0, None))
        if left[0]:
            raise Conflict(f"key {key} still finds {_decisions(*left)} made under it: it retires once they are "
                           f"purged (relevo purge SERVICE, when they are past retention)")
        if unknown[0]:
            raise Conflict(f"{_decisions(*unknown)} were made before keys had ids, perhaps under key {key}: it "
                           f"retires once they are purged")
        source = keyring.sources.get(key, "")
        change = record_change(conn, ctx, RETIRED, f"pseudonym-key/{key}", {
            "key_id": key, "source": CONFIGURED_EARLIER if source == CONFIGURED_EARLIER else "key file"})
    if source == CONFIGURED_EARLIER:
        return KeyChange(RETIRED, key, None, change.event_id,
                         f"remove it from {CONFIGURED_EARLIER} on every replica")
    os.remove(source)
    return KeyChange(RETIRED, key, None, change.event_id)
