"""An audit bundle: the log's events, its checkpoints and its public keys in one JSON file, which
an auditor verifies offline with the public key they were given (`relevo audit verify --bundle`).

A bundle holds the whole log, or a selection of its events (those of one rollout, for its evidence
pack): then each event carries its inclusion proof in the bundle's one checkpoint, so the chosen
events verify without the others."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from relevo.audit.checkpoints import recorded_keys, write_checkpoint
from relevo.audit.documents import read_document
from relevo.audit.keys import load_signer
from relevo.audit.merkle import inclusion_proofs
from relevo.audit.note import Verifier
from relevo.audit.trail import checkpoint_rows, leaf_hashes, leaf_rows
from relevo.audit.verification import CheckpointRow, LeafRow, LogVerification, verify_log, verify_selection
from relevo.context import Context
from relevo.errors import InvalidInput
from relevo.store import connect
from relevo.store.tables import audit_events

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


def selection_of(ctx: Context, event_ids: list[int], about: str) -> dict[str, Any]:
    """A bundle of the events event_ids name (about: which they are, in words), each with its
    inclusion proof in one checkpoint of the log (a fresh one first), and the public keys."""
    assert ctx.audit_key is not None
    with connect(ctx.engine) as conn:
        point = write_checkpoint(conn, ctx)
        keys = sorted({load_signer(ctx.audit_key).verifier().text()} | recorded_keys(conn))
        rows = conn.execute(select(audit_events).where(audit_events.c.id.in_(event_ids),
                                                       audit_events.c.seq < point.tree_size)
                            .order_by(audit_events.c.seq)).mappings().all()
        leaves = leaf_hashes(conn, point.tree_size) if rows else []
    proofs = inclusion_proofs(leaves, [r["seq"] for r in rows])
    events = [{f: (r[f].isoformat() if f == "at" else r[f]) for f in EVENT_FIELDS}
              | {"proof": [h.hex() for h in proofs[r["seq"]]]} for r in rows]
    return {"format": FORMAT, "exported_at": ctx.clock.now().isoformat(), "selection": about, "keys": keys,
            "events": events, "checkpoints": [{"tree_size": point.tree_size, "note": point.note}]}


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


def _events(body: dict[str, Any], proven: bool) -> tuple[list[LeafRow], list[list[bytes]]]:
    """The bundle's events, each field checked for its type; proven: with their inclusion proofs."""
    events, proofs = [], []
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
            if proven:
                proofs.append([bytes.fromhex(_field(h, str, f"{where}: proof")) for h in
                               _field(e.get("proof"), list, f"{where}: proof")])
        except ValueError:
            raise InvalidInput(f"{where}: salt or proof is not hex") from None
    return events, proofs


def _checkpoints(body: dict[str, Any]) -> list[CheckpointRow]:
    return [CheckpointRow(_field(c.get("tree_size"), int, f"checkpoint {i}: tree_size"),
                          _field(c.get("note"), str, f"checkpoint {i}: note"))
            for i, c in enumerate(_field(body.get("checkpoints"), list, "the bundle's checkpoints"))
            if _field(c, dict, f"checkpoint {i} of the bundle")]


def read_bundle(path: Path) -> tuple[list[LeafRow], list[CheckpointRow]]:
    """The events and checkpoints of a bundle file, each field checked for its type."""
    body = read_document(path, FORMAT, "bundle")
    return _events(body, proven=False)[0], _checkpoints(body)


def verify_bundle(path: Path, keys: list[Verifier]) -> LogVerification:
    """Check a bundle offline: every leaf, root and signature, trusting only keys (and the keys a
    rotation they vouch for hands on to); in a selection, every chosen event's inclusion proof."""
    body = read_document(path, FORMAT, "bundle")
    checkpoints = _checkpoints(body)
    if "selection" in body:
        about = _field(body["selection"], str, "the bundle's selection")
        if len(checkpoints) != 1:
            raise InvalidInput("a selection of events is proven in one checkpoint: the bundle must hold exactly one")
        events, proofs = _events(body, proven=True)
        return verify_selection(events, proofs, checkpoints[0], keys, about)
    report = verify_log(_events(body, proven=False)[0], checkpoints, keys)
    if report.unsigned:
        report.bad(f"the last {report.unsigned} events of the bundle are covered by no signed checkpoint "
                   "(anyone could have added them)")
    return report
