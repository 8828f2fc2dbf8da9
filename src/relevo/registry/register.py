"""Registering a version: files -> manifest hash -> loaded and probed -> read-only blob -> version
row -> audit event.

Before anything is recorded, the staged copy (the very bytes that will be stored) is loaded as
its metadata says and made to answer probe rows (relevo.registry.probe): a file that is not what
its format says, a model fitted on other inputs, or one that cannot answer is refused with the
reason, never registered to fail later.

The blob, the version row, its profile, its tag and the audit event land together or not at
all: the blob is published inside the database transaction and removed again if the
transaction does not commit. A crash in between leaves only unreferenced files, which no
listing shows and a later registration of the same content reuses after checking them.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from relevo.audit import record_change
from relevo.blobs.manifest import Progress
from relevo.context import Context
from relevo.identity import require_grant
from relevo.errors import AlreadyRegistered, Conflict, InvalidInput, NotFound, Refused
from relevo.registry.metadata import VersionMetadata, load_metadata
from relevo.registry.probe import load_and_probe
from relevo.registry.queries import VersionRecord, name_of, resolve_version
from relevo.registry.reference_data import profile_reference_data
from relevo.registry.tags import move_tag_in
from relevo.services.catalogue import get_spec
from relevo.store import connect
from relevo.store.tables import profiles, services, versions


def metadata_digest(metadata: VersionMetadata) -> str:
    """sha256 of the metadata's canonical JSON form."""
    body = json.dumps(metadata.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def _check_entry(source: Path, metadata: VersionMetadata) -> None:
    if not source.exists():
        raise NotFound(f"artifact path not found: {source}")
    spec = metadata.model
    if spec.format in ("skops", "onnx", "pickle"):
        entry = source / spec.entry if source.is_dir() else source
        name = spec.entry if source.is_dir() else source.name
        if not entry.is_file() or name != spec.entry:
            raise InvalidInput(
                f"metadata model.entry names {spec.entry!r}, which is not a file of the artifact {source}"
            )


def register_version(
    ctx: Context,
    service: str,
    source: Path,
    metadata_path: Path,
    *,
    tags: list[str] | None = None,
    reference_data: Path | None = None,
    progress: Progress | None = None,
) -> VersionRecord:
    """Register the file or folder at source as the next version of service (publishers)."""
    require_grant(ctx, "publisher", service)
    if "stable" in (tags or []):
        raise Refused("the stable tag marks the version citizens get: a new version earns it through a rollout "
                      f"(relevo rollout start {service} VERSION), or, for a service's first version, an approver "
                      f"routes it with a reason (relevo route {service} --stable VERSION --override REASON)")
    metadata = load_metadata(metadata_path)
    with connect(ctx.engine) as conn:
        spec = get_spec(conn, service)
    if metadata.model.format == "pickle" and not spec.trust_pickle:
        raise Refused(
            f"{source} is a plain pickle/joblib artifact; loading one runs arbitrary code. Use skops "
            f"or ONNX, or set `trust_pickle: true` in the spec of {service!r} after review"
        )
    _check_entry(source, metadata)
    personal = {f.name for f in metadata.fields if f.personal}
    profile = profile_reference_data(reference_data, personal) if reference_data else None

    staged = ctx.blobs.stage(source, progress)
    digest = staged.manifest.digest()
    published: str | None = None
    try:
        load_and_probe(staged.files, metadata, spec, reference_data=reference_data,
                       source=f"{source} (model.entry {metadata.model.entry or metadata.model.model_name!r})")
    except BaseException:
        ctx.blobs.discard(staged)
        raise
    try:
        with connect(ctx.engine) as conn:
            # Serialise registrations of one service (PostgreSQL; SQLite has one writer anyway).
            conn.execute(select(services.c.name).where(services.c.name == service).with_for_update())
            existing = conn.execute(
                select(versions.c.number).where(versions.c.service == service, versions.c.sha256 == digest)
            ).scalar()
            if existing is not None:
                raise AlreadyRegistered(
                    f"identical content is already registered as {service} {name_of(existing)} (sha256 {digest})",
                    version=name_of(existing))
            number = (conn.execute(
                select(func.max(versions.c.number)).where(versions.c.service == service)).scalar() or 0) + 1
            uri, created = ctx.blobs.publish(staged)
            published = uri if created else None
            now = ctx.clock.now()
            version_id = conn.execute(versions.insert().values(
                service=service, number=number, sha256=digest, manifest=staged.manifest.to_dict(),
                metadata=metadata.model_dump(mode="json"), format=metadata.model.format,
                size_bytes=staged.manifest.size, file_count=len(staged.manifest.files), blob_uri=uri,
                registered_at=now, registered_by=ctx.actor,
            )).inserted_primary_key[0]
            if profile is not None:
                conn.execute(profiles.insert().values(
                    version_id=version_id, source_name=profile["source"]["name"],
                    source_sha256=profile["source"]["sha256"], row_count=profile["rows"], profile=profile))
            record_change(conn, ctx, at=now, action="version.registered", subject=f"{service}/{name_of(number)}",
                         details={"sha256": digest, "format": metadata.model.format,
                                  "metadata_sha256": metadata_digest(metadata),
                                  "size_bytes": staged.manifest.size, "files": len(staged.manifest.files),
                                  "reference_data_sha256": profile["source"]["sha256"] if profile else None,
                                  "trust_pickle": metadata.model.format == "pickle"})
            for tag in tags or []:
                move_tag_in(conn, ctx, service, tag, version_id, at=now)
            record = resolve_version(conn, service, name_of(number))
    except IntegrityError:
        # A concurrent registration took the number or the content first.
        if published:
            ctx.blobs.remove(published)
        ctx.blobs.discard(staged)
        raise Conflict(f"another registration of {service} committed first; retry") from None
    except BaseException:
        if published:
            ctx.blobs.remove(published)
        ctx.blobs.discard(staged)
        raise
    return record
