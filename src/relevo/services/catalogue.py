"""Declaring services and reading their specs back."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from relevo.audit import record_change
from relevo.context import Context
from relevo.identity import require_grant
from relevo.errors import NotFound
from relevo.store.announcements import announce
from relevo.services.communication_policy import CommunicationPolicy
from relevo.services.monitoring_policy import MonitoringPolicy
from relevo.services.runbook_policy import RunbookPolicy
from relevo.services.spec import RETENTION_FIELDS, Logging, ServiceSpec
from relevo.store import connect
from relevo.store.tables import services


def spec_digest(spec: ServiceSpec) -> str:
    """sha256 of the spec's canonical JSON form."""
    # A spec naming no suite, or keeping the default monitoring, hashes as it did before specs
    # could say either: stored hashes (of releases an incident blocks, say) keep matching the
    # specs they were taken of.
    # Nor does a spec keeping the default retention of its decisions (logging.retention and max_retention).
    later: dict[str, Any] = {"tests": True} if spec.tests is None else {}
    if spec.monitoring == MonitoringPolicy():
        later["monitoring"] = True
    if spec.runbook == RunbookPolicy():  # nor one keeping the runbook's default targets and no sections
        later["runbook"] = True
    if spec.windows is None:  # nor one without maintenance windows
        later["windows"] = True
    if spec.communication == CommunicationPolicy():  # nor one keeping the default communication
        later["communication"] = True
    defaults = {name for name in RETENTION_FIELDS
                if getattr(spec.logging, name) == Logging.model_fields[name].get_default()}
    if defaults:
        later["logging"] = defaults
    body = spec.model_dump(mode="json", exclude=later or None)
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


# The parts of a spec that decide what a citizen is answered: a change to any of them changes
# decisions (a rule, a threshold, what is accepted), unlike its description, owner or roles.
DECISION_RULES = ("inputs", "decisions", "fallback", "threshold", "review", "timeout_ms", "circuit_breaker",
                  "logging", "trust_pickle")


def decision_rules(spec: ServiceSpec) -> dict[str, Any]:
    """The spec's decision rules alone (DECISION_RULES), as JSON data: of its logging, what is kept
    of a request, not for how long (retention decides no answer)."""
    return spec.model_dump(mode="json", include=set(DECISION_RULES), exclude={"logging": set(RETENTION_FIELDS)})


def rules_digest(spec: ServiceSpec) -> str:
    """sha256 of the spec's decision rules alone (DECISION_RULES), canonically."""
    body = decision_rules(spec)
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def apply_spec(ctx: Context, spec: ServiceSpec) -> str:
    """Create or update a service from its spec (publishers); returns 'created', 'updated' or 'unchanged'."""
    require_grant(ctx, "publisher", spec.name)
    with connect(ctx.engine) as conn:
        return write_spec(conn, ctx, spec)


def write_spec(conn: Connection, ctx: Context, spec: ServiceSpec, **why) -> str:
    """apply_spec inside the caller's transaction; why (e.g. the promoted rollout) is audited too."""
    digest = spec_digest(spec)
    now = ctx.clock.now()
    row = conn.execute(
        select(services.c.spec_sha256).where(services.c.name == spec.name).with_for_update()
    ).first()
    if row is not None and row.spec_sha256 == digest:
        return "unchanged"
    body = spec.model_dump(mode="json")
    if row is None:
        conn.execute(services.insert().values(
            name=spec.name, spec=body, spec_sha256=digest, created_at=now, updated_at=now))
        outcome = "created"
    else:
        conn.execute(services.update().where(services.c.name == spec.name).values(
            spec=body, spec_sha256=digest, updated_at=now))
        outcome = "updated"
    announce(conn, spec.name)
    record_change(conn, ctx, at=now, action=f"service.{outcome}",
                 subject=spec.name, details={"spec_sha256": digest, "spec": body,
                                             "before_sha256": None if row is None else row.spec_sha256} | why)
    return outcome


# Validating a stored spec costs about a millisecond, and every judgement, feedback and
# transition reads one: specs are kept by their hash (a spec never changes under its hash, and
# ServiceSpec is frozen).
_SPECS: dict[str, ServiceSpec] = {}
_SPECS_KEPT = 256


def get_spec(conn: Connection, name: str) -> ServiceSpec:
    """The spec of a declared service, or NotFound listing the known ones."""
    digest = conn.execute(select(services.c.spec_sha256).where(services.c.name == name)).scalar()
    if digest is None:
        known = conn.execute(select(services.c.name).order_by(services.c.name)).scalars().all()
        hint = f"; known services: {', '.join(known)}" if known else "; no service is declared yet (relevo service apply SPEC)"
        raise NotFound(f"unknown service {name!r}{hint}")
    spec = _SPECS.get(digest)
    if spec is None or spec.name != name:
        spec = ServiceSpec.model_validate(conn.execute(select(services.c.spec).where(services.c.name == name)).scalar_one())
        if len(_SPECS) >= _SPECS_KEPT:
            _SPECS.clear()
        _SPECS[digest] = spec
    return spec


def spec_digests(conn: Connection) -> dict[str, str]:
    """Every declared service's spec hash, by name: what a gateway polls to see a spec change."""
    return dict(conn.execute(select(services.c.name, services.c.spec_sha256)).all())


def stored_spec(conn: Connection, name: str) -> tuple[dict, str]:
    """(the spec as stored, its hash) of a declared service."""
    row = conn.execute(select(services.c.spec, services.c.spec_sha256).where(services.c.name == name)).one()
    return row.spec, row.spec_sha256


@dataclass(frozen=True)
class DeclaredService:
    """A declared service, as listed."""

    name: str
    owner: str
    spec_sha256: str
    created_at: datetime
    updated_at: datetime


def list_services(ctx: Context) -> list[DeclaredService]:
    """Every declared service with its owner, spec hash and times."""
    with connect(ctx.engine) as conn:
        rows = conn.execute(select(services).order_by(services.c.name)).mappings().all()
    return [DeclaredService(r["name"], r["spec"].get("owner", ""), r["spec_sha256"], r["created_at"], r["updated_at"])
            for r in rows]
