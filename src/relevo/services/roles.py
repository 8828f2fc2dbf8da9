"""Who may act on a service: the roles its spec names, checked on every change of state."""

from __future__ import annotations

from sqlalchemy import Connection

from relevo.context import Context, note_role
from relevo.errors import Refused
from relevo.identity import SPEC_ROLES, has_identities, holds
from relevo.services.catalogue import get_spec

ROLE_NAMES = {"operators": "operators", "approvers": "approvers", "incident_owners": "incident owners"}


def require_role(conn: Connection, ctx: Context, service: str, role: str) -> None:
    """Refused unless the acting identity holds the role for service (its grant), and is among the
    names the spec gives for it (a spec role naming nobody narrows nothing)."""
    roles = get_spec(conn, service).roles
    if ctx.grants is not None or has_identities(conn):
        needed = SPEC_ROLES[role]
        if ctx.grants is None or not holds(ctx.grants, needed, service):
            raise Refused(f"{ctx.actor} does not hold the {needed} role for {service}")
        note_role(ctx.actor, needed)
    if not roles.allows(role, ctx.actor):
        raise Refused(f"{ctx.actor} is not among the {ROLE_NAMES.get(role, role)} of {service} "
                      f"({', '.join(getattr(roles, role))})")
