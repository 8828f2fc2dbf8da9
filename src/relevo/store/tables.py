"""Table definitions. Migrations in migrations/versions must produce exactly this schema."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from relevo.store.types import JSONDoc, UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

services = Table(
    "services",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("spec", JSONDoc, nullable=False),
    Column("spec_sha256", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

versions = Table(
    "versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("service", String(100), ForeignKey("services.name"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("manifest", JSONDoc, nullable=False),
    Column("metadata", JSONDoc, nullable=False),
    Column("format", String(20), nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("file_count", Integer, nullable=False),
    Column("blob_uri", Text, nullable=False),
    Column("registered_at", UTCDateTime, nullable=False),
    Column("registered_by", String(200), nullable=False),
    UniqueConstraint("service", "number", name="uq_versions_service_number"),
    UniqueConstraint("service", "sha256", name="uq_versions_service_sha256"),
)

profiles = Table(
    "profiles",
    metadata,
    Column("version_id", Integer, ForeignKey("versions.id"), primary_key=True),
    Column("source_name", Text, nullable=False),
    Column("source_sha256", String(64), nullable=False),
    Column("row_count", Integer, nullable=False),
    Column("profile", JSONDoc, nullable=False),
)

annotations = Table(
    "annotations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("version_id", Integer, ForeignKey("versions.id"), nullable=False, index=True),
    Column("field", String(200), nullable=True),
    Column("note", Text, nullable=False),
    Column("author", String(200), nullable=False),
    Column("at", UTCDateTime, nullable=False),
)

tags = Table(
    "tags",
    metadata,
    Column("service", String(100), ForeignKey("services.name"), primary_key=True),
    Column("tag", String(100), primary_key=True),
    Column("version_id", Integer, ForeignKey("versions.id"), nullable=False),
    Column("moved_at", UTCDateTime, nullable=False),
    Column("moved_by", String(200), nullable=False),
)

tag_moves = Table(
    "tag_moves",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("service", String(100), nullable=False, index=True),
    Column("tag", String(100), nullable=False),
    Column("from_version_id", Integer, ForeignKey("versions.id"), nullable=True),
    Column("to_version_id", Integer, ForeignKey("versions.id"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
)

# Append-only. Each row carries the sha256 of its own canonical content so that a later
# hash chain (prev_hash) and signed checkpoints can be added without rewriting history.
audit_events = Table(
    "audit_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(100), nullable=False, index=True),
    Column("subject", String(300), nullable=False, index=True),
    Column("details", JSONDoc, nullable=False),
    Column("content_sha256", String(64), nullable=False),
)
