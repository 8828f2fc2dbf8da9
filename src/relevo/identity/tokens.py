"""Bearer tokens: random, shown once, kept as an argon2 hash, expiring, revocable, scoped to services.

A token reads `rlv_<id>_<secret>`: the id finds its row, the secret is checked against the argon2
hash (constant time). Checking argon2 on every request would cost tens of milliseconds, so a
verified token is remembered for a short while as the SHA-256 of its secret (compared in constant
time); a revocation takes effect at once in the process that made it and within `REMEMBER` in
the others.
"""

from __future__ import annotations

import functools

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import PlainSerializer, WithJsonSchema
from sqlalchemy import Engine, select

from relevo.audit import record_change
from relevo.context import Context
from relevo.errors import InvalidInput, NotFound, Refused
from relevo.identity.identities import Identity, find_identity, has_identities, identity_by_id, require_admin
from relevo.store import connect
from relevo.identity.verified import _LOCK, _REMEMBERED, Principal
from relevo.store.tables import identities, tokens

_CHECKING: dict[str, threading.Lock] = {}  # token id -> the lock of its check in progress
PREFIX = "rlv_"
REMEMBER = 30.0  # seconds a verified token is trusted without argon2 again
HASHER = PasswordHasher()  # argon2id, the library's recommended parameters


@functools.cache
def _dummy() -> str:
    """A hash to verify against when no token matches (the same time spent either way); made on
    first need, not at import: argon2 takes ~0.1 s, which every command would pay."""
    return HASHER.hash("relevo: no such token")


@dataclass(frozen=True)
class TokenInfo:
    """A token as listed: never its secret."""

    id: str
    identity: str
    label: str
    services: list[str] | None
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


def _info(row, identity: str) -> TokenInfo:
    return TokenInfo(row.id, identity, row.label, row.services, row.created_at, row.expires_at, row.revoked_at)


MAX_LIFETIME = timedelta(days=400)
# A token's lifetime travels as seconds, which the published schema can bound (an ISO 8601
# duration such as P1Y2M cannot be, and months have no fixed length).
Lifetime = Annotated[timedelta, PlainSerializer(timedelta.total_seconds, return_type=float, when_used="json"),
                     WithJsonSchema({"type": "number", "minimum": 1,
                                     "maximum": MAX_LIFETIME.total_seconds(),
                                     "description": "seconds until the token expires (at most 400 days)"})]


def create_token(ctx: Context, name: str, *, label: str = "", expires_in: Lifetime = timedelta(days=90),
                 services: list[str] | None = None) -> tuple[TokenInfo, str]:
    """A new token for the identity (an admin's act): (its record, the token
    itself, which is shown this once and never stored)."""
    if expires_in <= timedelta(0) or expires_in > MAX_LIFETIME:
        raise InvalidInput("a token expires after a positive time of at most 400 days")
    token_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    now = ctx.clock.now()
    with connect(ctx.engine) as conn:
        require_admin(conn, ctx)
        identity = find_identity(conn, name)
        if identity.disabled_at is not None:
            raise Refused(f"{name} is disabled")
        conn.execute(tokens.insert().values(
            id=token_id, identity_id=identity.id, label=label or f"token of {name}",
            secret_hash=HASHER.hash(secret), services=services, created_at=now, expires_at=now + expires_in))
        record_change(conn, ctx, "token.created", f"identity/{name}",
                      {"token": token_id, "expires_at": (now + expires_in).isoformat(), "services": services})
        row = conn.execute(select(tokens).where(tokens.c.id == token_id)).one()
        return _info(row, name), f"{PREFIX}{token_id}_{secret}"


def revoke_token(ctx: Context, token_id: str) -> TokenInfo:
    """Revoke a token (an admin's act, or its owner's)."""
    with connect(ctx.engine) as conn:
        row = conn.execute(select(tokens).where(tokens.c.id == token_id)).first()
        if row is None:
            raise NotFound(f"no token {token_id!r}")
        owner = identity_by_id(conn, row.identity_id)
        if owner.name != ctx.actor:
            require_admin(conn, ctx)
        if row.revoked_at is None:
            conn.execute(tokens.update().where(tokens.c.id == token_id).values(revoked_at=ctx.clock.now()))
            record_change(conn, ctx, "token.revoked", f"identity/{owner.name}", {"token": token_id})
        _REMEMBERED.pop(token_id, None)
        return _info(conn.execute(select(tokens).where(tokens.c.id == token_id)).one(), owner.name)


def list_tokens(ctx: Context, name: str | None = None) -> list[TokenInfo]:
    """Tokens (of one identity, or all), newest first; never their secrets."""
    query = (select(tokens, identities.c.name.label("owner")).join(identities, identities.c.id == tokens.c.identity_id)
             .order_by(tokens.c.created_at.desc()))
    if name:
        query = query.where(identities.c.name == name)
    with connect(ctx.engine) as conn:
        return [_info(r, r.owner) for r in conn.execute(query)]




def _parse(presented: str) -> tuple[str, str] | None:
    if not presented.startswith(PREFIX) or len(presented) > 200:
        return None
    token_id, _, secret = presented[len(PREFIX):].partition("_")
    if len(token_id) != 12 or not secret:
        return None
    return token_id, secret


def remembered(presented: str, now: datetime) -> Principal | None:
    """The principal of a token verified within the last REMEMBER seconds (no store, no argon2),
    or None: then `authenticate` decides."""
    parsed = _parse(presented)
    if parsed is None:
        return None
    with _LOCK:
        entry = _REMEMBERED.get(parsed[0])
    if entry is None or entry[1] < time.monotonic() or entry[2] <= now:
        return None
    if not hmac.compare_digest(entry[0], hashlib.sha256(parsed[1].encode()).digest()):
        return None
    return entry[3]


def authenticate(engine: Engine, presented: str, now: datetime) -> Principal | None:
    """The principal a token speaks for, or None when it is malformed, unknown, wrong, expired,
    revoked or its identity disabled (the caller says only "unauthorised", never which)."""
    parsed = _parse(presented)
    if parsed is None:
        return None
    # One check per token at a time: requests arriving together with a token not remembered
    # (after a restart, or once its memory lapsed) wait for the first one's check instead of
    # each paying argon2 and a store read at once.
    with _LOCK:
        if len(_CHECKING) > 10_000:  # ids an attacker made up must not pile up (a cleared lock costs a double check)
            _CHECKING.clear()
        lock = _CHECKING.setdefault(parsed[0], threading.Lock())
    with lock:
        again = remembered(presented, now)
        return again if again is not None else _verify(engine, *parsed, now)


def _verify(engine: Engine, token_id: str, secret: str, now: datetime) -> Principal | None:
    with connect(engine) as conn:
        row = conn.execute(select(tokens).where(tokens.c.id == token_id)).first()
        if row is None:
            _burn(secret)  # the same work as a real check
            return None
        identity: Identity = identity_by_id(conn, row.identity_id)
    if row.revoked_at is not None or row.expires_at <= now or identity.disabled_at is not None:
        return None
    try:
        HASHER.verify(row.secret_hash, secret)
    except (VerificationError, InvalidHashError):
        return None
    grants = identity.grant_set
    if row.services is not None:  # a token scoped to some services carries only their roles
        grants = frozenset((r, s) for r, s in grants if s in row.services) | frozenset(
            (r, svc) for r, s in grants if s is None for svc in row.services)
    principal = Principal(identity.name, identity.kind, grants, token_id)
    with _LOCK:
        _REMEMBERED[token_id] = (hashlib.sha256(secret.encode()).digest(), time.monotonic() + REMEMBER,
                                 row.expires_at, principal)
    return principal


def _burn(secret: str) -> None:
    """Spend an argon2 check on an unknown token, so its absence does not answer faster."""
    try:
        HASHER.verify(_dummy(), secret)
    except (VerificationError, InvalidHashError):
        pass


def sign_in(ctx: Context, presented: str) -> Principal:
    """The principal of a token presented to the CLI, or Refused (it does not say why)."""
    principal = remembered(presented, ctx.clock.now()) or authenticate(ctx.engine, presented, ctx.clock.now())
    if principal is None:
        raise Refused("RELEVO_TOKEN is not a valid token (wrong, expired or revoked)")
    return principal


def required(ctx: Context) -> bool:
    """Whether changes need a token here: the store has identities."""
    with connect(ctx.engine) as conn:
        return has_identities(conn)
