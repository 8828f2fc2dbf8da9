"""Releases: a model version together with the spec it was validated with, as one hash."""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import Connection, select

from relevo.audit import record_change
from relevo.context import Context
from relevo.registry.queries import VersionRecord
from relevo.services.catalogue import spec_digest
from relevo.services.spec import ServiceSpec
from relevo.store.tables import releases


def release_digest(version_sha256: str, spec_sha256: str) -> str:
    """The release's identity: the artifact hash and the spec hash, hashed together."""
    body = json.dumps({"version": version_sha256, "spec": spec_sha256}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def ensure_release(conn: Connection, ctx: Context, version: VersionRecord, spec: ServiceSpec) -> int:
    """The id of the release of version under spec, recording it (audited) the first time."""
    spec_sha = spec_digest(spec)
    digest = release_digest(version.sha256, spec_sha)
    existing = conn.execute(select(releases.c.id).where(
        releases.c.service == version.service, releases.c.digest == digest)).scalar()
    if existing is not None:
        return existing
    now = ctx.clock.now()
    release_id = conn.execute(releases.insert().values(
        service=version.service, version_id=version.id, spec_sha256=spec_sha, spec=spec.model_dump(mode="json"),
        digest=digest, created_at=now, created_by=ctx.actor)).inserted_primary_key[0]
    record_change(conn, ctx, at=now, action="release.created", subject=f"{version.service}/{version.name}",
                 details={"release_id": release_id, "digest": digest, "version_sha256": version.sha256,
                          "spec_sha256": spec_sha})
    return release_id
