"""Owners' confirmations of a runbook version: an operator or approver of the service says they
read this version (the spec's hash) and stand by it; the checklist reads them."""

from __future__ import annotations

from sqlalchemy import Connection, select

from relevo.audit import record_change
from relevo.context import Context
from relevo.errors import Conflict, InvalidInput, Refused
from relevo.continuity.runbook import Confirmation, Runbook, runbook_from_spec
from relevo.services.catalogue import get_spec, spec_digest
from relevo.services.roles import require_role
from relevo.services.spec import ServiceSpec
from relevo.store import connect
from relevo.store.tables import runbook_confirmations

OWNER_ROLES = ("operators", "approvers")


def confirmations_of(conn: Connection, service: str, spec_sha256: str) -> list[Confirmation]:
    """Who confirmed the runbook of this spec version, oldest first, inside the caller's transaction."""
    t = runbook_confirmations
    rows = conn.execute(select(t.c.confirmed_by, t.c.role, t.c.confirmed_at).where(
        t.c.service == service, t.c.spec_sha256 == spec_sha256).order_by(t.c.id)).all()
    return [Confirmation(r.confirmed_by, r.role, r.confirmed_at) for r in rows]


def _spec(conn: Connection, service: str, spec: ServiceSpec | None) -> ServiceSpec:
    current = get_spec(conn, service)  # NotFound for an unknown service
    if spec is not None and spec.name != service:
        raise InvalidInput(f"the spec describes service {spec.name!r}, not {service!r}")
    return spec or current


def runbook_of(ctx: Context, service: str, spec: ServiceSpec | None = None) -> Runbook:
    """The runbook of the service's spec (or of a changed spec a release rolls out with), with its confirmations."""
    with connect(ctx.engine) as conn:
        chosen = _spec(conn, service, spec)
        return runbook_from_spec(chosen, confirmations_of(conn, service, spec_digest(chosen)))


def _owner_role(conn: Connection, ctx: Context, service: str) -> str:
    refusals = []
    for role in OWNER_ROLES:
        try:
            require_role(conn, ctx, service, role)
            return role
        except Refused as exc:
            refusals.append(str(exc))
    raise Refused(f"only an owner of {service} (an operator or an approver named in its spec's roles) confirms its "
                  f"runbook: {'; '.join(refusals)}")


def confirm_runbook(ctx: Context, service: str, spec: ServiceSpec | None = None) -> Runbook:
    """Confirm, as an owner (an operator or approver of the service), the runbook of its spec (or of a
    changed spec a release rolls out with): audited, and what the checklist's runbook item needs."""
    with connect(ctx.engine) as conn:
        chosen = _spec(conn, service, spec)
        role = _owner_role(conn, ctx, service)
        digest = spec_digest(chosen)
        if any(c.by == ctx.actor for c in confirmations_of(conn, service, digest)):
            raise Conflict(f"{ctx.actor} already confirmed the runbook of {service} (spec sha256 {digest[:12]})")
        now = ctx.clock.now()
        conn.execute(runbook_confirmations.insert().values(
            service=service, spec_sha256=digest, role=role, confirmed_by=ctx.actor, confirmed_at=now))
        record_change(conn, ctx, "runbook.confirmed", service, {"spec_sha256": digest, "as": role}, at=now)
        return runbook_from_spec(chosen, confirmations_of(conn, service, digest))
