"""People and service accounts, and the roles they hold."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, select

from relevo.audit import record_change
from relevo.context import Context, note_role
from relevo.errors import Conflict, InvalidInput, NotFound, Refused
from relevo.identity.roles import Grant, holds
from relevo.identity.verified import forget_tokens
from relevo.store import connect
from relevo.store.tables import identities, role_grants

NAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,199}$")
KINDS = ("person", "service")


@dataclass(frozen=True)
class Identity:
    """Someone (or some system) Relevo knows, with its roles."""

    id: int
    name: str
    kind: str
    description: str
    grants: tuple[Grant, ...]
    created_at: datetime
    created_by: str
    disabled_at: datetime | None

    @property
    def grant_set(self) -> frozenset[tuple[str, str | None]]:
        """The grants as the Context carries them."""
        return frozenset((g.role, g.service) for g in self.grants)


def has_identities(conn: Connection) -> bool:
    """Whether the store has any identity: from then on every change needs one."""
    return bool(conn.execute(select(func.count()).select_from(identities)).scalar())


def _grants(conn: Connection, identity_id: int) -> tuple[Grant, ...]:
    rows = conn.execute(select(role_grants.c.role, role_grants.c.service)
                        .where(role_grants.c.identity_id == identity_id).order_by(role_grants.c.id))
    return tuple(Grant(r.role, r.service) for r in rows)


def _identity(conn: Connection, row) -> Identity:
    return Identity(row.id, row.name, row.kind, row.description, _grants(conn, row.id), row.created_at,
                    row.created_by, row.disabled_at)


def find_identity(conn: Connection, name: str) -> Identity:
    """The identity of that name."""
    row = conn.execute(select(identities).where(identities.c.name == name)).first()
    if row is None:
        raise NotFound(f"no identity named {name!r}")
    return _identity(conn, row)


def identity_by_id(conn: Connection, identity_id: int) -> Identity:
    """The identity with that id."""
    return _identity(conn, conn.execute(select(identities).where(identities.c.id == identity_id)).one())


def require_admin(conn: Connection, ctx: Context) -> None:
    """Refused unless the acting identity is an admin (anyone may create the first identity)."""
    if not has_identities(conn):
        return
    if ctx.grants is None or not holds(ctx.grants, "admin", None):
        raise Refused("managing identities and tokens needs the admin role")
    note_role(ctx.actor, "admin")


def add_identity(ctx: Context, name: str, *, kind: str = "person", grants: list[Grant] | None = None,
                 description: str = "") -> Identity:
    """A new identity with its roles (an admin's act, but for the very first identity)."""
    if not NAME.match(name):
        raise InvalidInput(f"an identity's name is lower-case letters, digits and . _ @ - (got {name!r})")
    if kind not in KINDS:
        raise InvalidInput(f"an identity is a {' or a '.join(KINDS)}, not {kind!r}")
    now = ctx.clock.now()
    with connect(ctx.engine) as conn:
        require_admin(conn, ctx)
        if not has_identities(conn) and Grant("admin") not in (grants or []):
            # Otherwise nobody could ever manage identities or make a token again.
            raise Refused("a store's first identity must be an admin: `relevo init --admin NAME` makes them "
                          "and shows their token")
        if conn.execute(select(identities.c.id).where(identities.c.name == name)).first() is not None:
            raise Conflict(f"an identity named {name!r} already exists")
        identity_id = conn.execute(identities.insert().values(
            name=name, kind=kind, description=description, created_at=now, created_by=ctx.actor)
            .returning(identities.c.id)).scalar_one()
        for grant in dict.fromkeys(grants or []):
            conn.execute(role_grants.insert().values(identity_id=identity_id, role=grant.role, service=grant.service))
        record_change(conn, ctx, "identity.created", f"identity/{name}",
                      {"kind": kind, "roles": [str(g) for g in grants or []]})
        return identity_by_id(conn, identity_id)


def change_grants(ctx: Context, name: str, *, add: list[Grant] | None = None,
                  remove: list[Grant] | None = None) -> Identity:
    """Grant or withdraw roles (an admin's act)."""
    add, remove = add or [], remove or []
    with connect(ctx.engine) as conn:
        require_admin(conn, ctx)
        identity = find_identity(conn, name)
        for grant in add:
            if grant not in identity.grants:
                conn.execute(role_grants.insert().values(identity_id=identity.id, role=grant.role, service=grant.service))
        for grant in remove:
            service = role_grants.c.service.is_(None) if grant.service is None else role_grants.c.service == grant.service
            conn.execute(role_grants.delete().where(role_grants.c.identity_id == identity.id,
                                                    role_grants.c.role == grant.role, service))
        if name == ctx.actor and not holds(identity_by_id(conn, identity.id).grant_set, "admin", None):
            raise Refused("an admin cannot withdraw their own admin role (another admin can)")
        forget_tokens()
        after = identity_by_id(conn, identity.id)
        record_change(conn, ctx, "identity.roles_changed", f"identity/{name}",
                      {"added": [str(g) for g in add], "removed": [str(g) for g in remove],
                       "before": sorted(map(str, identity.grants)), "after": sorted(map(str, after.grants))})
        return after


def disable_identity(ctx: Context, name: str) -> Identity:
    """Stop an identity acting at all (its tokens with it); kept for the record, never deleted."""
    with connect(ctx.engine) as conn:
        require_admin(conn, ctx)
        identity = find_identity(conn, name)
        if name == ctx.actor:
            raise Refused("an admin cannot disable themselves (another admin can)")
        conn.execute(identities.update().where(identities.c.id == identity.id).values(disabled_at=ctx.clock.now()))
        forget_tokens()
        record_change(conn, ctx, "identity.disabled", f"identity/{name}", {})
        return identity_by_id(conn, identity.id)


def list_identities(ctx: Context) -> list[Identity]:
    """Every identity, in the order they were created."""
    with connect(ctx.engine) as conn:
        return [_identity(conn, r) for r in conn.execute(select(identities).order_by(identities.c.id))]
