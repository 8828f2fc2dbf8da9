"""An audit bundle: the log's events, its checkpoints and its public keys in one JSON file, which
an auditor verifies offline with the public key they were given (`relevo audit verify --bundle`)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from relevo.audit.checkpoints import recorded_keys, write_checkpoint
from relevo.audit.documents import read_document
from relevo.audit.keys import load_signer
from relevo.audit.note import Verifier
from relevo.audit.trail import checkpoint_rows, leaf_rows
from relevo.audit.verification import CheckpointRow, LeafRow, LogVerification, verify_log
from relevo.context import Context
from relevo.errors import InvalidInput
from relevo.store import connect

FORMAT = "relevo-audit-bundle/1"
EVENT_FIELDS = ("id", "seq", "at", "actor", "action", "subject", "details", "salt", "details_sha256", "leaf_hash")


def bundle_of(ctx: Context) -> dict[str, Any]:
    """Every event and checkpoint (a fresh checkpoint first) and the public keys, as one document."""
    assert ctx.audit_key is not None
    with connect(ctx.engine) as conn:
        write_checkpoint(conn, ctx)
        keys = sorted({load_signer(ctx.audit_key).verifier().text()} | recorded_keys(conn))
        events = [{f: (getattr(r, f).isoformat() if f == "at" else getattr(r, f)) for f in EVENT_FIELDS}
                  for r in leaf_rows(conn)]
        checkpoints = [{"tree_size": c.tree_size, "note": c.note} for c in checkpoint_rows(conn)]
    return {"format": FORMAT, "exported_at": ctx.clock.now().isoformat(), "keys": keys, "events": events,
            "checkpoints": checkpoints}


def write_bundle(body: dict[str, Any], path: Path) -> tuple[int, int]:
    """Write a bundle document to path; returns (events, checkpoints)."""
    path.write_text(json.dumps(body, indent=1, sort_keys=True) + "\n")
    return len(body["events"]), len(body["checkpoints"])


def export_bundle(ctx: Context, path: Path) -> tuple[int, int]:
    """bundle_of written to path; returns (events, checkpoints)."""
    return write_bundle(bundle_of(ctx), path)


def _field(value: Any, kind: type, where: str) -> Any:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise InvalidInput(f"{where} must be {kind.__name__}")
    return value


def read_bundle(path: Path) -> tuple[list[LeafRow], list[CheckpointRow]]:
    """The events and checkpoints of a bundle file, each field checked for its type."""
    body = read_document(path, FORMAT, "bundle")
    events = []
    for i, e in enumerate(_field(body.get("events"), list, "the bundle's events")):
        where = f"event {i} of the bundle"
        _field(e, dict, where)
        try:
            at = datetime.fromisoformat(_field(e.get("at"), str, f"{where}: at"))
        except ValueError:
            raise InvalidInput(f"{where}: at is not an ISO time") from None
        details = e.get("details")
        events.append(LeafRow(
            _field(e.get("id"), int, f"{where}: id"), _field(e.get("seq"), int, f"{where}: seq"), at,
            _field(e.get("actor"), str, f"{where}: actor"), _field(e.get("action"), str, f"{where}: action"),
            _field(e.get("subject"), str, f"{where}: subject"),
            None if details is None else _field(details, dict, f"{where}: details"),
            None if e.get("salt") is None else _field(e.get("salt"), str, f"{where}: salt"),
            _field(e.get("details_sha256"), str, f"{where}: details_sha256"),
            _field(e.get("leaf_hash"), str, f"{where}: leaf_hash")))
        try:
            bytes.fromhex(events[-1].salt or "")
        except ValueError:
            raise InvalidInput(f"{where}: salt is not hex") from None
    checkpoints = [CheckpointRow(_field(c.get("tree_size"), int, f"checkpoint {i}: tree_size"),
                                 _field(c.get("note"), str, f"checkpoint {i}: note"))
                   for i, c in enumerate(_field(body.get("checkpoints"), list, "the bundle's checkpoints"))
                   if _field(c, dict, f"checkpoint {i} of the bundle")]
    return events, checkpoints


def verify_bundle(path: Path, keys: list[Verifier]) -> LogVerification:
    """Check a bundle offline: every leaf, root and signature, trusting only keys (and the keys a
    rotation they vouch for hands on to)."""
    events, checkpoints = read_bundle(path)
    report = verify_log(events, checkpoints, keys)
    if report.unsigned:
        report.bad(f"the last {report.unsigned} events of the bundle are covered by no signed checkpoint "
                   "(anyone could have added them)")
    return report
