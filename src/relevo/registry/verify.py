"""Verifying artifacts: re-hash every stored file and compare with the recorded manifest."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from relevo.audit import record_change
from relevo.blobs.manifest import Progress, compare
from relevo.context import Context
from relevo.errors import IntegrityFailure
from relevo.registry.queries import VersionRecord, list_versions, resolve_version
from relevo.store import connect

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Verification:
    """The outcome of re-hashing one version."""

    version: VersionRecord
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """True when every file matches the manifest."""
        return not self.problems


def check_files(ctx: Context, record: VersionRecord, progress: Progress | None = None) -> Verification:
    """Re-hash the stored files of one version; record and log any mismatch."""
    try:
        problems = compare(record.manifest, ctx.blobs.scan(record.blob_uri, progress))
    except IntegrityFailure as exc:
        problems = [str(exc)]
    result = Verification(record, tuple(problems))
    if problems:
        log.error("integrity check failed for %s/%s: %s", record.service, record.name, "; ".join(problems))
        with connect(ctx.engine) as conn:
            record_change(conn, ctx, at=ctx.clock.now(), action="version.integrity_failed",
                         subject=f"{record.service}/{record.name}",
                         details={"sha256": record.sha256, "problems": problems})
    return result


def verify(ctx: Context, service: str, ref: str | None = None, progress: Progress | None = None) -> list[Verification]:
    """Verify one version (ref) or every version of service."""
    with connect(ctx.engine) as conn:
        records = [resolve_version(conn, service, ref)] if ref else list_versions(conn, service)
    return [check_files(ctx, record, progress) for record in records]
