"""Who may work a case, and what they see of it.

With identities, the case worker is the caller (its token's identity), never a name in a body,
and must hold the case_worker role for the decision's service; personal and protected inputs are
shown only to case workers and the data-protection officer of that service. On a store without
identities the reviewer named by the caller stands, as before.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from relevo.context import Context, note_role
from relevo.errors import NotFound, Refused
from relevo.identity import holds
from relevo.services.catalogue import get_spec
from relevo.store.tables import decisions

SEE_PERSONAL = ("case_worker", "dpo")
WITHHELD = "(withheld)"


def may(ctx: Context, roles: tuple[str, ...], service: str) -> bool:
    """Whether the caller holds one of roles for service (always, on a store without identities)."""
    return ctx.grants is None or any(holds(ctx.grants, role, service) for role in roles)


def require(ctx: Context, roles: tuple[str, ...], service: str) -> None:
    """Refused unless the caller holds one of roles for service."""
    if not may(ctx, roles, service):
        raise Refused(f"{ctx.actor} does not hold the {' or '.join(roles)} role for {service}")
    if ctx.grants is not None:
        note_role(ctx.actor, next(r for r in roles if holds(ctx.grants, r, service)))


def acting_reviewer(conn: Connection, ctx: Context, decision_id: str, given: str | None) -> str:
    """The case worker answering decision_id: the caller, who must be a case worker of its service."""
    if ctx.grants is None:
        return given if given is not None else ctx.actor
    service = conn.execute(select(decisions.c.service).where(decisions.c.id == decision_id)).scalar()
    if service is None:
        raise NotFound(f"no decision with id {decision_id!r}")
    require(ctx, ("case_worker",), service)
    if given is not None and given != ctx.actor:
        raise Refused(f"the case worker is the caller ({ctx.actor}), not {given!r}: leave reviewer out")
    return ctx.actor


def visible_inputs(conn: Connection, ctx: Context, service: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """inputs as the caller may see them: personal and protected fields withheld unless it is a
    case worker or the data-protection officer of the service."""
    if may(ctx, SEE_PERSONAL, service):
        return inputs
    fields = get_spec(conn, service).inputs
    return {k: WITHHELD if k in fields and (fields[k].personal or fields[k].protected) else v
            for k, v in inputs.items()}
