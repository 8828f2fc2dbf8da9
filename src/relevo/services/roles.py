"""Who may act on a service: the roles its spec names, checked on every change of state."""

from __future__ import annotations

from sqlalchemy import Connection

from relevo.context import Context
from relevo.errors import Refused
from relevo.services.catalogue import get_spec

ROLE_NAMES = {"operators": "operators", "approvers": "approvers", "incident_owners": "incident owners"}


def require_role(conn: Connection, ctx: Context, service: str, role: str) -> None:
    """Refused unless the acting person holds role for service (a role naming nobody lets anyone)."""
    roles = get_spec(conn, service).roles
    if not roles.allows(role, ctx.actor):
        raise Refused(f"{ctx.actor} is not among the {ROLE_NAMES.get(role, role)} of {service} "
                      f"({', '.join(getattr(roles, role))})")
