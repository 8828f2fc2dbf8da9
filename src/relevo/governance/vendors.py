"""Vendors: who supplies a service's model or platform, under which contract and SLA, until when.

The checklist's "contracts and SLAs current" item reads them: every vendor of the service must
have a contract in force whose SLA supports versioning, rollback and access to logs, with a
response time. A reminder goes to the services' channels before a contract must be renewed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection, select

from relevo.audit import record_change
from relevo.context import Context
from relevo.documents import validated
from relevo.services.catalogue import get_spec
from relevo.services.roles import require_role
from relevo.store import connect
from relevo.store.tables import vendors

REMIND_BEFORE = timedelta(days=60)  # time enough to renegotiate before the contract lapses


class Sla(BaseModel):
    """The terms that make a vendor's model safe to change: each a yes or no, and a response time."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    versioning: bool = Field(description="the vendor delivers versioned, immutable releases", examples=[True])
    rollback: bool = Field(description="the vendor supports going back to the previous release", examples=[True])
    log_access: bool = Field(description="the body has access to the system's logs (AI Act Art. 26(6))",
                             examples=[True])
    response_hours: float = Field(gt=0, le=8760, description="how soon the vendor answers an incident, in hours",
                                  examples=[4])

    def gaps(self) -> list[str]:
        """The terms the SLA lacks."""
        return [term for term, held in (("versioning", self.versioning), ("rollback support", self.rollback),
                                        ("access to logs", self.log_access)) if not held]


class VendorRecord(BaseModel):
    """A vendor as recorded: what it supplies, under which contract, until when."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=200, examples=["Acme Analytics S.L."])
    services: list[str] = Field(min_length=1, description="the services it supplies, by name",
                                examples=[["licence-prefilter"]])
    contract_reference: str = Field(min_length=1, max_length=200, examples=["CONTR-2025-118"])
    sla: Sla
    renewal_date: date = Field(description="when the contract must be renewed", examples=["2027-06-30"])


def parse_vendor(data: Any, source: str) -> VendorRecord:
    """A vendor document, validated: InvalidInput naming each missing or wrong field."""
    return validated(VendorRecord, data, "vendor", source, "name, services, contract_reference, sla, renewal_date")


@dataclass(frozen=True)
class Vendor:
    """A vendor in the store."""

    name: str
    services: list[str]
    contract_reference: str
    sla: dict[str, Any]
    renewal_date: date
    recorded_by: str
    recorded_at: datetime


def _vendor(row: Any) -> Vendor:
    return Vendor(row.name, list(row.services), row.contract_reference, dict(row.sla), row.renewal_date,
                  row.recorded_by, row.recorded_at)


def vendors_of(conn: Connection, service: str) -> list[Vendor]:
    """The vendors that supply service."""
    return [_vendor(r) for r in conn.execute(select(vendors).order_by(vendors.c.name)) if service in r.services]


def record_vendor(ctx: Context, vendor: VendorRecord) -> Vendor:
    """Record a vendor, or change its record (an approver of every service it supplies), audited."""
    with connect(ctx.engine) as conn:
        for service in vendor.services:
            get_spec(conn, service)
            require_role(conn, ctx, service, "approvers")
        now = ctx.clock.now()
        values = dict(services=sorted(set(vendor.services)), contract_reference=vendor.contract_reference,
                      sla=vendor.sla.model_dump(mode="json"), renewal_date=vendor.renewal_date,
                      recorded_by=ctx.actor, recorded_at=now)
        existing = conn.execute(select(vendors.c.id).where(vendors.c.name == vendor.name)).scalar()
        if existing is None:
            conn.execute(vendors.insert().values(name=vendor.name, **values))
        else:
            conn.execute(vendors.update().where(vendors.c.id == existing).values(**values))
        record_change(conn, ctx, at=now, action="vendor.recorded", subject=f"vendor/{vendor.name}",
                      details=vendor.model_dump(mode="json"))
        return _vendor(conn.execute(select(vendors).where(vendors.c.name == vendor.name)).one())


def list_vendors(ctx: Context, service: str | None = None) -> list[Vendor]:
    """Every vendor, or those of one service."""
    with connect(ctx.engine) as conn:
        if service:
            get_spec(conn, service)
            return vendors_of(conn, service)
        return [_vendor(r) for r in conn.execute(select(vendors).order_by(vendors.c.name))]


def remind_renewals(ctx: Context) -> list[str]:
    """Tell each service's people, once per renewal date, of a contract that must be renewed within
    REMIND_BEFORE (or has lapsed); returns the vendors reminded of."""
    today = ctx.clock.now().date()
    reminded = []
    with connect(ctx.engine) as conn:
        due = conn.execute(select(vendors).where(vendors.c.renewal_date <= today + REMIND_BEFORE)).all()
        for row in due:
            if row.reminded_for == row.renewal_date:
                continue
            left = (row.renewal_date - today).days
            when = f"lapsed {-left} days ago" if left < 0 else f"must be renewed within {left} days"
            conn.execute(vendors.update().where(vendors.c.id == row.id).values(reminded_for=row.renewal_date))
            informed = sorted({name for service in row.services for name in get_spec(conn, service).roles.informed})
            record_change(conn, ctx, action="vendor.renewal_due", subject=f"vendor/{row.name}",
                          details={"contract_reference": row.contract_reference,
                                   "renewal_date": row.renewal_date.isoformat(), "services": list(row.services)},
                          notice=f"the contract {row.contract_reference} with {row.name} ({', '.join(row.services)}) "
                                 f"{when} ({row.renewal_date.isoformat()})", informed=informed)
            reminded.append(row.name)
    return reminded
