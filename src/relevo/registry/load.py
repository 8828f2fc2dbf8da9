"""Loading a version for prediction, only after its files are proved intact."""

from __future__ import annotations

from relevo.audit import record_change
from relevo.context import Context
from relevo.errors import IntegrityFailure, InvalidInput, Refused
from relevo.loaders import load_model
from relevo.loaders.base import Model
from relevo.loaders.errors import ModelFailure
from relevo.registry.probe import probe, probe_rows
from relevo.registry.queries import VersionRecord, resolve_version
from relevo.registry.verify import check_files
from relevo.services.catalogue import get_spec
from relevo.store import connect


def load_version(ctx: Context, service: str, ref: str) -> tuple[VersionRecord, Model]:
    """Re-check the artifact's hashes, then load it; a mismatch refuses and names the file."""
    with connect(ctx.engine) as conn:
        record = resolve_version(conn, service, ref)
        spec = get_spec(conn, service)
    verification = check_files(ctx, record)
    if not verification.ok:
        raise IntegrityFailure(
            f"refusing to load {service} {record.name}: its files do not match the registered hash: "
            + "; ".join(verification.problems)
        )
    trust_pickle = spec.trust_pickle and record.format == "pickle"
    model = load_model(ctx.blobs.local_path(record.blob_uri), record.metadata.model, record.metadata.signature,
                       trust_pickle=trust_pickle)
    if trust_pickle:
        with connect(ctx.engine) as conn:
            record_change(conn, ctx, at=ctx.clock.now(), action="version.pickle_loaded",
                         subject=f"{service}/{record.name}", details={"sha256": record.sha256, "trust_pickle": True})
    return record, model


def check_answers(ctx: Context, service: str, ref: str) -> None:
    """Refused, with the reason, unless the stored version loads intact and answers probe rows."""
    try:
        record, model = load_version(ctx, service, ref)
        with connect(ctx.engine) as conn:
            spec = get_spec(conn, service)
        probe(model, record.metadata.signature, spec, probe_rows(record.metadata.signature, spec),
              f"{service} {record.name}")
    except (IntegrityFailure, InvalidInput, Refused, ModelFailure) as exc:
        raise Refused(f"{service} {ref} cannot answer, so it can never be promoted or made stable: {exc}") from None
