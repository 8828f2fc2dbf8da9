"""Reading versions back: by number, by tag, with their tags, annotations and profile."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from relevo.blobs.manifest import Manifest
from relevo.context import Context
from relevo.errors import NotFound
from relevo.registry.metadata import VersionMetadata
from relevo.services.catalogue import get_spec
from relevo.store import connect
from relevo.store.tables import annotations, profiles, tag_moves, tags, versions

VERSION_NAME = re.compile(r"^v?(\d+)$")


def name_of(number: int) -> str:
    """A version's short name from its number: the one place that spells it (v3)."""
    return f"v{number}"


@dataclass(frozen=True)
class VersionRecord:
    """A registered version as stored."""

    id: int
    service: str
    number: int
    sha256: str
    format: str
    size_bytes: int
    file_count: int
    blob_uri: str
    registered_at: datetime
    registered_by: str
    metadata: VersionMetadata
    manifest: Manifest
    tags: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The version's short name, e.g. v3."""
        return name_of(self.number)

    def summary(self) -> dict[str, Any]:
        """A JSON-ready summary for listings."""
        return {
            "service": self.service,
            "version": self.name,
            "sha256": self.sha256,
            "format": self.format,
            "size_bytes": self.size_bytes,
            "file_count": self.file_count,
            "registered_at": self.registered_at.isoformat(),
            "registered_by": self.registered_by,
            "tags": list(self.tags),
        }


def version_name(conn: Connection, version_id: int) -> str:
    """The short name (v3) of a version, by its id."""
    number = conn.execute(select(versions.c.number).where(versions.c.id == version_id)).scalar()
    if number is None:
        raise NotFound(f"no version with id {version_id}")
    return name_of(number)


def version_by_id(conn: Connection, version_id: int) -> VersionRecord:
    """A version by its id, or NotFound."""
    row = conn.execute(select(versions).where(versions.c.id == version_id)).first()
    if row is None:
        raise NotFound(f"no version with id {version_id}")
    return _record(row, _tags_by_version(conn, row.service).get(row.id, []))


def version_names(conn: Connection, ids: set[int | None]) -> dict[int | None, str]:
    """Short names of the versions with these ids (None and unknown ids are left out)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = conn.execute(select(versions.c.id, versions.c.number).where(versions.c.id.in_(wanted)))
    return {r.id: name_of(r.number) for r in rows}  # looked up by a nullable id: None is never a key


def _tags_by_version(conn: Connection, service: str) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for row in conn.execute(select(tags.c.tag, tags.c.version_id).where(tags.c.service == service).order_by(tags.c.tag)):
        out.setdefault(row.version_id, []).append(row.tag)
    return out


def _record(row: Any, tag_names: list[str]) -> VersionRecord:
    return VersionRecord(
        id=row.id, service=row.service, number=row.number, sha256=row.sha256, format=row.format,
        size_bytes=row.size_bytes, file_count=row.file_count, blob_uri=row.blob_uri,
        registered_at=row.registered_at, registered_by=row.registered_by,
        metadata=VersionMetadata.model_validate(row.metadata),
        manifest=Manifest.from_dict(row.manifest), tags=tuple(tag_names),
    )


def list_versions(conn: Connection, service: str) -> list[VersionRecord]:
    """All versions of a service, oldest first."""
    get_spec(conn, service)  # unknown service -> NotFound
    tag_map = _tags_by_version(conn, service)
    rows = conn.execute(select(versions).where(versions.c.service == service).order_by(versions.c.number))
    return [_record(r, tag_map.get(r.id, [])) for r in rows]


def resolve_version(conn: Connection, service: str, ref: str) -> VersionRecord:
    """The version named by ref: 'v3', '3', or a tag such as 'stable'."""
    get_spec(conn, service)
    match = VERSION_NAME.match(ref)
    if match:
        query = select(versions).where(versions.c.service == service, versions.c.number == int(match.group(1)))
    else:
        query = select(versions).join(tags, tags.c.version_id == versions.c.id).where(
            tags.c.service == service, tags.c.tag == ref)
    row = conn.execute(query).first()
    if row is None:
        known = [name_of(n) for n in conn.execute(
            select(versions.c.number).where(versions.c.service == service).order_by(versions.c.number)).scalars()]
        hint = f"; it has {', '.join(known)}" if known else "; it has no versions yet"
        raise NotFound(f"service {service!r} has no version or tag {ref!r}{hint}")
    return _record(row, _tags_by_version(conn, service).get(row.id, []))


@dataclass(frozen=True)
class Annotation:
    """A note added to a version after registration (its metadata never changes)."""

    field: str | None
    note: str
    author: str
    at: datetime


@dataclass(frozen=True)
class TagMove:
    """A tag moved onto or off a version."""

    tag: str
    from_version: str | None
    to_version: str | None  # None: the tag was removed
    at: datetime
    actor: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (from/to, as the tag history reads)."""
        return {"tag": self.tag, "from": self.from_version, "to": self.to_version, "at": self.at.isoformat(),
                "actor": self.actor}


@dataclass(frozen=True)
class ProfileSummary:
    """The reference profile of a version's training data: per feature, what drift is measured against."""

    source_name: str
    source_sha256: str
    rows: int
    features: dict[str, dict[str, Any]]
    skipped: list[str]


@dataclass(frozen=True)
class VersionDetails:
    """Everything about one version: the record, its annotations, tag history and profile."""

    record: VersionRecord
    annotations: list[Annotation]
    tag_history: list[TagMove]
    profile: ProfileSummary | None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form: the summary's fields, then metadata, manifest and the rest."""
        return self.record.summary() | {
            "metadata": self.record.metadata.model_dump(mode="json"), "manifest": self.record.manifest.to_dict(),
            "annotations": self.annotations, "tag_history": self.tag_history, "profile": self.profile}


def version_details(conn: Connection, record: VersionRecord) -> VersionDetails:
    """Everything about one version: summary, metadata, manifest, annotations, tag history, profile."""
    notes = conn.execute(
        select(annotations).where(annotations.c.version_id == record.id).order_by(annotations.c.id)
    ).mappings().all()
    moves = conn.execute(
        select(tag_moves).where((tag_moves.c.to_version_id == record.id) | (tag_moves.c.from_version_id == record.id))
        .order_by(tag_moves.c.id)
    ).mappings().all()
    profile = conn.execute(select(profiles).where(profiles.c.version_id == record.id)).mappings().first()
    number_of = dict(conn.execute(select(versions.c.id, versions.c.number).where(versions.c.service == record.service)).all())
    return VersionDetails(
        record=record,
        annotations=[Annotation(n["field"], n["note"], n["author"], n["at"]) for n in notes],
        tag_history=[TagMove(m["tag"], name_of(number_of[m["from_version_id"]]) if m["from_version_id"] else None,
                             name_of(number_of[m["to_version_id"]]) if m["to_version_id"] else None, m["at"],
                             m["actor"]) for m in moves],
        profile=None if profile is None else ProfileSummary(
            profile["source_name"], profile["source_sha256"], profile["row_count"], profile["profile"]["features"],
            profile["profile"].get("skipped", [])),
    )


def versions_of(ctx: Context, service: str) -> list[VersionRecord]:
    """Every version of a service, oldest first, read in a transaction of its own."""
    with connect(ctx.engine) as conn:
        return list_versions(conn, service)


def describe_version(ctx: Context, service: str, ref: str) -> VersionDetails:
    """version_details of the version ref names (v3, 3 or a tag), in a transaction of its own."""
    with connect(ctx.engine) as conn:
        return version_details(conn, resolve_version(conn, service, ref))
