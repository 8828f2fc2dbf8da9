"""A service's governance records: its DPIA, its fundamental-rights impact assessment, its role
and classification under the AI Act, its EU database registration, its entry in the record of
processing activities, and whether its decisions are solely automated with legal effect.

Each record is a document with required fields, kept as a new row each time it changes (the
newest of a kind is in force; the older ones stay as history). The data-protection officer
keeps the data-protection records; the accountable approver keeps the AI Act ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import Connection, select

from relevo.audit import record_change
from relevo.context import Context
from relevo.documents import validated
from relevo.errors import InvalidInput
from relevo.identity import require_grant
from relevo.services.catalogue import get_spec
from relevo.services.roles import require_role
from relevo.store import connect
from relevo.store.tables import service_records

# The kinds of change a significant-change check tells apart (relevo.governance.significance);
# a service's pre-determined change plan names those it covers.
ChangeKind = Literal["input_fields", "personal_fields", "protected_inputs", "decision_labels", "model_family",
                     "training_data_source"]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Dpia(_Record):
    """The data-protection impact assessment (GDPR Art. 35)."""

    reference: str = Field(min_length=1, max_length=200, description="the DPIA's reference in the body's register",
                           examples=["DPIA-2026-014"])
    completed_on: date = Field(description="when it was completed or last reviewed", examples=["2026-10-01"])
    data_categories: list[str] = Field(min_length=1, description="the categories of personal data processed",
                                       examples=[["identification", "address", "age band"]])
    legal_basis: str = Field(min_length=1, max_length=500, description="the GDPR Art. 6 basis (and Art. 9 "
                             "condition where special categories are processed)",
                             examples=["Art. 6(1)(e): public task (Ley 39/2015)"])
    reviewer: str = Field(min_length=1, max_length=200, description="who reviewed it (the DPO's name or office)",
                          examples=["Data Protection Office"])
    link: str | None = Field(default=None, max_length=500, description="where the document lives")


class Fria(_Record):
    """The fundamental-rights impact assessment of a public body's high-risk system (AI Act Art. 27)."""

    reference: str = Field(min_length=1, max_length=200, examples=["FRIA-2026-003"])
    completed_on: date = Field(examples=["2026-10-15"])
    assessor: str = Field(min_length=1, max_length=200, description="who carried it out",
                          examples=["Licensing Department with the DPO"])
    affected_groups: list[str] = Field(min_length=1, description="the people and groups likely to be affected",
                                       examples=[["licence applicants", "neighbours of licensed premises"]])
    notified_authority_on: date | None = Field(default=None, description="when the market surveillance "
                                               "authority was notified of its results (Art. 27(3))")
    link: str | None = Field(default=None, max_length=500)


class AiActRole(_Record):
    """The service's role and classification under the AI Act."""

    role: Literal["deployer", "provider"] = Field(
        description="deployer, or provider once the body retrains or substantially modifies a vendor's system "
        "(Art. 25)", examples=["deployer"])
    provider: str = Field(min_length=1, max_length=200, description="who provides the system (the body itself "
                          "when it is the provider)", examples=["Ayuntamiento, IT department"])
    high_risk_annex_iii_5a: bool = Field(description="whether it is a high-risk system of Annex III 5(a): used by "
                                         "public authorities to evaluate eligibility for public benefits and "
                                         "services", examples=[True])
    reason: str = Field(min_length=10, max_length=2000, description="why it is, or is not, of that class",
                        examples=["decides which licence applications go straight to approval"])
    change_plan: list[ChangeKind] = Field(
        default_factory=list, description="the kinds of change the pre-determined change plan covers (Annex IV "
        "2(f)); a release changing anything else is a substantial modification (Art. 3(23))",
        examples=[["training_data_source"]])


class EuRegistration(_Record):
    """The system's entry in the EU database for high-risk systems (Art. 49, 71)."""

    registration_id: str = Field(min_length=1, max_length=200, examples=["EU-HR-2026-000123"])
    registered_on: date = Field(examples=["2026-11-02"])


class ProcessingRecord(_Record):
    """The service's entry in the record of processing activities (GDPR Art. 30)."""

    entry: str = Field(min_length=1, max_length=200, description="the entry's reference", examples=["RAT-URB-07"])
    controller: str = Field(min_length=1, max_length=200, examples=["Ayuntamiento, Urban Planning"])
    purposes: str = Field(min_length=1, max_length=2000, examples=["pre-filtering of activity licence applications"])


class AutomatedDecisions(_Record):
    """Whether its decisions are solely automated with legal effect (GDPR Art. 22), and if so the
    human step and the way to contest that must exist."""

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra={
        "if": {"properties": {"solely_automated_legal_effect": {"const": True}}},
        # both then say something (not blank)
        "then": {"required": ["human_step", "contest"], "properties": {
            "human_step": {"type": "string", "pattern": "\\S"}, "contest": {"type": "string", "pattern": "\\S"}}}})

    solely_automated_legal_effect: bool = Field(examples=[False])
    human_step: str | None = Field(default=None, max_length=2000, description="how a person intervenes",
                                   examples=["a case worker reviews every rejection before it is notified"])
    contest: str | None = Field(default=None, max_length=2000, description="how a citizen contests a decision",
                                examples=["recurso de reposición at the electronic office"])

    @model_validator(mode="after")
    def _safeguards(self) -> "AutomatedDecisions":
        if self.solely_automated_legal_effect and not ((self.human_step or "").strip() and (self.contest or "").strip()):
            raise ValueError("solely automated decisions with legal effect need human_step and contest (GDPR Art. 22(3))")
        return self


class ServiceRecords(_Record):
    """A records file: any of the sections; those given replace the ones in force."""

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra={"minProperties": 1})

    # Absent when not given (never null): a section is given in full or left alone.
    dpia: Dpia = None  # type: ignore[assignment]
    fria: Fria = None  # type: ignore[assignment]
    ai_act: AiActRole = None  # type: ignore[assignment]
    eu_registration: EuRegistration = None  # type: ignore[assignment]
    processing_record: ProcessingRecord = None  # type: ignore[assignment]
    automated_decisions: AutomatedDecisions = None  # type: ignore[assignment]


KINDS = tuple(ServiceRecords.model_fields)
# Who keeps which record: the DPO the data-protection ones, the accountable approver the others.
KEEPER = {"dpia": "dpo", "processing_record": "dpo", "automated_decisions": "dpo",
          "fria": "approvers", "ai_act": "approvers", "eu_registration": "approvers"}


def parse_records(data: Any, source: str) -> ServiceRecords:
    """A records document, validated: InvalidInput naming each missing or wrong field."""
    return validated(ServiceRecords, data, "records", source, "of sections: " + ", ".join(KINDS))


@dataclass(frozen=True)
class RecordEntry:
    """One record in force: its kind, body, and who recorded it when."""

    kind: str
    body: dict[str, Any]
    recorded_by: str
    recorded_at: datetime


def records_in_force(conn: Connection, service: str) -> dict[str, RecordEntry]:
    """The newest record of each kind the service has."""
    rows = conn.execute(select(service_records).where(service_records.c.service == service)
                        .order_by(service_records.c.id)).mappings()
    return {r["kind"]: RecordEntry(r["kind"], r["body"], r["recorded_by"], r["recorded_at"]) for r in rows}


def set_records(ctx: Context, service: str, records: ServiceRecords) -> dict[str, RecordEntry]:
    """Record the sections given (each by its keeper's role), audited; returns the records in force."""
    given = {kind: section for kind in KINDS if (section := getattr(records, kind)) is not None}
    if not given:
        raise InvalidInput(f"the records name no section; give one or more of {', '.join(KINDS)}")
    with connect(ctx.engine) as conn:
        get_spec(conn, service)
        for kind in given:
            if KEEPER[kind] == "dpo":
                require_grant(ctx, "dpo", service)
            else:
                require_role(conn, ctx, service, "approvers")
        current = records_in_force(conn, service)
        now = ctx.clock.now()
        changed = []
        for kind, section in given.items():
            body = section.model_dump(mode="json")
            if kind in current and current[kind].body == body:
                continue
            conn.execute(service_records.insert().values(service=service, kind=kind, body=body,
                                                         recorded_by=ctx.actor, recorded_at=now))
            changed.append(kind)
        if changed:
            record_change(conn, ctx, at=now, action="records.changed", subject=service,
                          details={kind: given[kind].model_dump(mode="json") for kind in changed})
        return records_in_force(conn, service)


def service_records_of(ctx: Context, service: str) -> dict[str, RecordEntry]:
    """The records a service has in force, by kind."""
    with connect(ctx.engine) as conn:
        get_spec(conn, service)
        return records_in_force(conn, service)
