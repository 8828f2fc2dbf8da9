"""The audit log as the store holds it, checked: `relevo audit verify`, and key rotation."""

from __future__ import annotations

import os
from typing import Iterator

from sqlalchemy import Connection, select

from relevo.audit.checkpoints import REPLACED, recorded_keys, signer_of, write_checkpoint
from relevo.audit.keys import load_signer, public_key_file, write_signer
from relevo.audit.merkle import Frontier
from relevo.audit.note import Signer
from relevo.audit.record import record_event
from relevo.audit.verification import ROTATED, CheckpointRow, LeafRow, LogVerification, verify_log
from relevo.context import Context, note_role
from relevo.audit.reasons import Reason, check_reason
from relevo.errors import Conflict, NotFound, Refused, RelevoError
from relevo.store import connect
from relevo.store.tables import audit_checkpoints, audit_events, audit_tree


def leaf_rows(conn: Connection) -> Iterator[LeafRow]:
    """Every event, in its place's order, as the verifier reads it."""
    query = select(audit_events).order_by(audit_events.c.seq)
    for r in conn.execute(query.execution_options(yield_per=5000)).mappings():
        yield LeafRow(r["id"], r["seq"], r["at"], r["actor"], r["action"], r["subject"], r["details"], r["salt"],
                      r["details_sha256"], r["leaf_hash"])


def leaf_hashes(conn: Connection, size: int) -> list[bytes]:
    """The leaf hashes of the log's first size events, in their places' order."""
    return [bytes.fromhex(h) for h in conn.execute(
        select(audit_events.c.leaf_hash).where(audit_events.c.seq < size).order_by(audit_events.c.seq)).scalars()]


def checkpoint_rows(conn: Connection) -> list[CheckpointRow]:
    """Every kept checkpoint, oldest first."""
    return [CheckpointRow(r.tree_size, r.note) for r in conn.execute(
        select(audit_checkpoints.c.tree_size, audit_checkpoints.c.note).order_by(audit_checkpoints.c.id))]


def verify_store(ctx: Context) -> LogVerification:
    """Every leaf, every root and every signature of the store's log, checked against the
    instance's public key; and the tree the store keeps against the one its events give."""
    if ctx.audit_key is None:
        raise NotFound("no audit signing key is configured")
    trusted = load_signer(ctx.audit_key).verifier()
    with connect(ctx.engine) as conn:
        report = verify_log(leaf_rows(conn), checkpoint_rows(conn), [trusted])
        row = conn.execute(select(audit_tree.c.size, audit_tree.c.frontier)).one()
    kept = Frontier(row.size, [bytes.fromhex(h) for h in row.frontier])
    if kept.size != report.size or kept.root().hex() != report.root:
        report.bad(f"the store's tree says {kept.size} events with root {kept.root().hex()[:16]}…, its events give "
                   f"{report.size} with root {report.root[:16]}…")
    return report


def replace_lost_key(ctx: Context, reason: Reason) -> str:
    """A new signing key for a log whose key file is lost for good (admins), recorded with the reason;
    its public key. Trust does not pass to it: auditors holding the lost key's public key verify the
    log up to the replacement, and must be given the new one, as the event says."""
    reason = check_reason(reason, "the audit log's lost signing key")
    if ctx.audit_key is None:
        raise NotFound("no audit signing key is configured")
    if ctx.grants is not None:
        if ("admin", None) not in ctx.grants:
            raise Refused("replacing the audit signing key needs the admin role")
        note_role(ctx.actor, "admin")
    if ctx.audit_key.exists():
        raise Conflict(f"the audit key file {ctx.audit_key} is there: a key that is not lost is rotated "
                       "(relevo audit rotate-key), so that trust passes from it to the new one")
    with connect(ctx.engine) as conn:
        lost = sorted(recorded_keys(conn))
        new = Signer.generate(ctx.audit_origin)
        write_signer(ctx.audit_key, new)
        try:
            record_event(conn, at=ctx.clock.now(), actor=ctx.actor, action=REPLACED, subject="audit",
                         details={"new_key": new.verifier().text(), "lost_keys": lost, "reason": reason,
                                  "file": str(ctx.audit_key)})
            write_checkpoint(conn, ctx)
        except RelevoError:
            ctx.audit_key.unlink()
            public_key_file(ctx.audit_key).unlink(missing_ok=True)
            raise
    return new.verifier().text()


def rotate_key(ctx: Context) -> tuple[str, str]:
    """Replace the signing key: the rotation is an event, and the checkpoint that covers it is
    signed by the old key and the new, so trust passes from one to the other. Returns both public keys."""
    if ctx.audit_key is None:
        raise NotFound("no audit signing key is configured")
    if ctx.grants is not None:
        if ("admin", None) not in ctx.grants:
            raise Refused("rotating the audit signing key needs the admin role")
        note_role(ctx.actor, "admin")
    path = ctx.audit_key
    staged = path.with_name(path.name + ".new")
    if staged.exists():
        staged.unlink()
    with connect(ctx.engine) as conn:
        old = signer_of(conn, ctx)
        new = Signer.generate(old.name)
        write_signer(staged, new)
        try:
            record_event(conn, at=ctx.clock.now(), actor=ctx.actor, action=ROTATED, subject="audit",
                         details={"old_key": old.verifier().text(), "new_key": new.verifier().text()})
            write_checkpoint(conn, ctx, new)
        except RelevoError:
            staged.unlink()
            raise
    # Committed: the old key is kept aside (read-only), the new one takes its place.
    retired = path.with_name(f"{path.name}.retired-{ctx.clock.now():%Y%m%dT%H%M%S}")
    os.replace(path, retired)
    os.replace(staged, path)
    os.replace(public_key_file(staged), public_key_file(path))
    return old.verifier().text(), new.verifier().text()


def public_key(ctx: Context) -> str:
    """The instance's public key (creating the key pair on first need), for auditors."""
    with connect(ctx.engine) as conn:
        return signer_of(conn, ctx).verifier().text()
