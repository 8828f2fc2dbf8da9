"""Governance's tables: a service's regulatory records, its releases' checklist marks, and vendors."""

from __future__ import annotations

from sqlalchemy import Column, Date, ForeignKey, Index, Integer, String, Table, Text

from relevo.store.metadata import metadata
from relevo.store.types import JSONDoc, UTCDateTime

# A service's governance records (DPIA, FRIA, AI Act role and classification, EU database
# registration, record of processing, automated decisions): each change a new row, the newest
# of a kind the one in force.
service_records = Table(
    "service_records",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("service", String(100), ForeignKey("services.name"), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("body", JSONDoc, nullable=False),
    Column("recorded_by", String(200), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Index("ix_service_records_service_kind", "service", "kind"),
)

# People's marks on a release's pre-deployment checklist: an attestation by the item's role, or
# a waiver by the accountable role with a reason. A release here is a version under a spec
# (its hash) in one environment: marks never carry over to another release.
checklist_marks = Table(
    "checklist_marks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("service", String(100), ForeignKey("services.name"), nullable=False),
    Column("environment", String(20), nullable=False),
    Column("version_id", Integer, ForeignKey("versions.id"), nullable=False),
    Column("spec_sha256", String(64), nullable=False),
    Column("item", String(40), nullable=False),
    Column("mark", String(10), nullable=False),  # attested | waived
    Column("note", Text, nullable=False),
    Column("link", Text, nullable=True),
    Column("marked_by", String(200), nullable=False),
    Column("marked_at", UTCDateTime, nullable=False),
    Index("ix_checklist_marks_service_version", "service", "version_id"),
)

# Suppliers of models or services, their contract and SLA terms, and when it must be renewed.
vendors = Table(
    "vendors",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("services", JSONDoc, nullable=False),  # the services it supplies, by name
    Column("contract_reference", String(200), nullable=False),
    Column("sla", JSONDoc, nullable=False),
    Column("renewal_date", Date, nullable=False),
    Column("recorded_by", String(200), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("reminded_for", Date, nullable=True),  # the renewal date a reminder was last sent for
)
