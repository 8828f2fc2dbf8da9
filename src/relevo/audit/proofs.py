"""Proofs an auditor checks with the public key alone: that an event is in the log (inclusion),
and that the log only grew since a checkpoint they kept (consistency)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from pydantic import WithJsonSchema
from sqlalchemy import select

from relevo.audit.documents import read_document
from relevo.audit.checkpoints import latest_checkpoint, write_checkpoint
from relevo.audit.leaf import leaf_data
from relevo.audit.merkle import consistency_proof, inclusion_proof, leaf_hash, verify_consistency, verify_inclusion
from relevo.audit.note import Checkpoint, NoteError, Verifier, open_note
from relevo.audit.trail import leaf_hashes
from relevo.context import Context
from relevo.errors import Conflict, InvalidInput, NotFound
from relevo.store import connect
from relevo.store.tables import audit_events

FORMAT = "relevo-audit-proof/1"


def prove_event(ctx: Context, event_id: int) -> dict[str, Any]:
    """An inclusion proof of one event in the newest checkpoint (one is written if none covers it)."""
    with connect(ctx.engine) as conn:
        row = conn.execute(select(audit_events).where(audit_events.c.id == event_id)).mappings().first()
        if row is None:
            raise NotFound(f"no audit event #{event_id}")
        point = latest_checkpoint(conn)
        if point is None or point.tree_size <= row["seq"]:
            point = write_checkpoint(conn, ctx)
        leaves = leaf_hashes(conn, point.tree_size)
    event = {k: row[k] for k in ("id", "seq", "actor", "action", "subject", "details_sha256")} | {
        "at": row["at"].isoformat()}
    return {"format": FORMAT, "kind": "inclusion", "event": event, "leaf_hash": row["leaf_hash"],
            "tree_size": point.tree_size, "proof": [h.hex() for h in inclusion_proof(leaves, row["seq"])],
            "checkpoint": point.note}


# A checkpoint note as Checkpoint.parse reads it (origin, size, a 32-byte root hash in base64),
# then its signature lines: stated in the published schema.
KeptNote = Annotated[str, WithJsonSchema({
    "type": "string", "pattern": r"^[^\n\u0000]+\n(?:0|[1-9][0-9]{0,17})\n[A-Za-z0-9+/]{43}=\n[^\u0000]*$",
    "description": "a checkpoint note the auditor kept, as `relevo audit checkpoint` printed it"})]


def prove_growth(ctx: Context, kept_note: KeptNote) -> dict[str, Any]:
    """A consistency proof from a checkpoint an auditor kept to the newest one."""
    try:
        kept = Checkpoint.parse(kept_note.split("\n\n", 1)[0] + "\n")
    except NoteError as exc:
        raise InvalidInput(f"the kept checkpoint is not a checkpoint: {exc}") from None
    with connect(ctx.engine) as conn:
        point = write_checkpoint(conn, ctx)
        if kept.size > point.tree_size:
            raise Conflict(f"the kept checkpoint is of size {kept.size}, the log holds {point.tree_size} events: "
                           "it is not this log's, or events were removed")
        leaves = leaf_hashes(conn, point.tree_size)
    return {"format": FORMAT, "kind": "consistency", "old": kept_note, "new": point.note,
            "proof": [h.hex() for h in consistency_proof(leaves, kept.size)]}


@dataclass(frozen=True)
class ProofCheck:
    """The outcome of checking a proof file: what it proves, and whether it holds."""

    kind: str
    ok: bool
    statement: str


def _opened(note: Any, keys: list[Verifier], what: str) -> Checkpoint:
    if not isinstance(note, str):
        raise InvalidInput(f"the proof's {what} is not a signed note")
    try:
        return Checkpoint.parse(open_note(note, keys).text)
    except NoteError as exc:
        raise InvalidInput(f"the proof's {what}: {exc}") from None


def _hashes(values: Any) -> list[bytes]:
    try:
        return [bytes.fromhex(v) for v in values]
    except (TypeError, ValueError):
        raise InvalidInput("the proof's nodes must be hex hashes") from None


def check_proof(path: Path, keys: list[Verifier]) -> ProofCheck:
    """Check a proof file offline against the public keys."""
    body = read_document(path, FORMAT, "proof")
    if body.get("kind") == "inclusion":
        point = _opened(body.get("checkpoint"), keys, "checkpoint")
        e = body.get("event")
        if not isinstance(e, dict):
            raise InvalidInput("the proof's event is missing")
        try:
            leaf = leaf_hash(leaf_data(int(e["seq"]), datetime.fromisoformat(e["at"]), e["actor"], e["action"],
                                       e["subject"], e["details_sha256"]))
        except (TypeError, KeyError, ValueError):
            raise InvalidInput("the proof's event lacks seq, at, actor, action, subject or details_sha256") from None
        ok = leaf.hex() == body.get("leaf_hash") and point.size == body.get("tree_size") and verify_inclusion(
            int(e["seq"]), point.size, leaf, _hashes(body.get("proof")), point.root)
        return ProofCheck("inclusion", ok, f"event #{e.get('id')} ({e['action']} on {e['subject']} by {e['actor']} at "
                                           f"{e['at']}) is place {e['seq']} of the log of {point.size} events, signed "
                                           f"by {point.origin}")
    if body.get("kind") == "consistency":
        old, new = _opened(body.get("old"), keys, "old checkpoint"), _opened(body.get("new"), keys, "new checkpoint")
        ok = old.origin == new.origin and verify_consistency(old.size, new.size, old.root, new.root,
                                                             _hashes(body.get("proof")))
        return ProofCheck("consistency", ok, f"the log of {old.size} events is the start of the log of {new.size} "
                                             f"events of {new.origin}")
    raise InvalidInput("a proof's kind is inclusion or consistency")
