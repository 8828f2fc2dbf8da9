"""Signed checkpoints of the audit log: at every rollout transition, at a key rotation, on demand,
and at least every `audit_checkpoint_every` while events arrive.

A checkpoint states the tree's size and root, signed with the instance's key, so an auditor who
keeps one can later ask for a proof that the log only grew from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, select

from relevo.audit.keys import load_signer, write_signer
from relevo.audit.note import Checkpoint, Signer, sign_note
from relevo.audit.record import locked_tree, record_event
from relevo.context import Context
from relevo.errors import NotFound, Refused
from relevo.store import connect
from relevo.store.tables import audit_checkpoints, audit_events

CHECKPOINTED = ("rollout.", "identity.", "token.")  # every rollout transition; who may act, and their tokens


@dataclass(frozen=True)
class StoredCheckpoint:
    """A checkpoint as kept: the tree's size and root, when, and its signed note."""

    id: int
    tree_size: int
    root_hash: str
    at: datetime
    note: str


REPLACED = "audit.key_replaced"  # a lost key's successor: trust does not pass, the log says so
KEY_EVENTS = ("audit.key_created", "audit.key_rotated", REPLACED)
_ON_RECORD: set[str] = set()  # keys this process has seen named by the log


def recorded_keys(conn: Connection) -> set[str]:
    """Every public key the log's own events name (created, or either side of a rotation)."""
    return {d[k] for d in conn.execute(select(audit_events.c.details).where(audit_events.c.action.in_(KEY_EVENTS)))
            .scalars() for k in ("key", "old_key", "new_key") if isinstance(d.get(k), str)}


def _record_created(conn: Connection, ctx: Context, signer: Signer) -> None:
    record_event(conn, at=ctx.clock.now(), actor=ctx.actor, action="audit.key_created", subject="audit",
                 details={"key": signer.verifier().text(), "file": str(ctx.audit_key)})


def signer_of(conn: Connection, ctx: Context) -> Signer:
    """The instance's signing key; created on first need, its public key recorded as an event (a
    key file whose event was rolled back is recorded on its next use; a key the log never named,
    once the log names others, is refused)."""
    if ctx.audit_key is None:
        raise NotFound("this context has no audit signing key configured")
    try:
        signer = load_signer(ctx.audit_key)
    except NotFound:
        # A log already signed needs its key: a new one made silently would leave every earlier
        # checkpoint unverifiable with the key auditors hold (a deleted or unmounted key file).
        if recorded_keys(conn):
            raise Refused(f"the audit key file {ctx.audit_key} is missing, and the audit log is signed with a key it "
                          "recorded: restore the file from its backup (or mount it on this host); if it is lost for "
                          "good, an admin records a successor with `relevo audit replace-lost-key --reason TEXT`") \
                from None
        signer = Signer.generate(ctx.audit_origin)
        write_signer(ctx.audit_key, signer)
        _record_created(conn, ctx, signer)
        return signer
    text = signer.verifier().text()
    if text not in _ON_RECORD:
        known = recorded_keys(conn)
        if not known:
            _record_created(conn, ctx, signer)  # made in a transaction that did not commit
        elif text not in known:
            raise Refused(f"the audit key file {ctx.audit_key} holds a key the audit log never recorded "
                          f"({text}): restore the instance's key file; a new key comes only by "
                          "`relevo audit rotate-key`")
        else:
            _ON_RECORD.add(text)
    return signer


def _row(row) -> StoredCheckpoint:
    return StoredCheckpoint(row.id, row.tree_size, row.root_hash, row.at, row.note)


def latest_checkpoint(conn: Connection) -> StoredCheckpoint | None:
    """The newest checkpoint, or None before the first."""
    row = conn.execute(select(audit_checkpoints).order_by(audit_checkpoints.c.id.desc()).limit(1)).first()
    return None if row is None else _row(row)


def write_checkpoint(conn: Connection, ctx: Context, *also: Signer) -> StoredCheckpoint:
    """A checkpoint of the tree as it stands in conn's transaction (the latest one when the tree
    has not grown since); also: further keys that sign it (the new key at a rotation)."""
    signer = signer_of(conn, ctx)
    tree = locked_tree(conn)
    last = latest_checkpoint(conn)
    if last is not None and last.tree_size == tree.size and not also:
        return last
    root = tree.root()
    note = sign_note(Checkpoint(signer.name, tree.size, root).text(), signer, *also)
    at = ctx.clock.now()
    new_id = conn.execute(audit_checkpoints.insert().values(
        tree_size=tree.size, root_hash=root.hex(), at=at, note=note).returning(audit_checkpoints.c.id)).scalar_one()
    return StoredCheckpoint(new_id, tree.size, root.hex(), at, note)


def checkpoint(ctx: Context) -> StoredCheckpoint:
    """A checkpoint now, in a transaction of its own."""
    with connect(ctx.engine) as conn:
        return write_checkpoint(conn, ctx)


def checkpoint_if_due(ctx: Context, every: timedelta) -> StoredCheckpoint | None:
    """A checkpoint when events arrived since the last one and it is older than every."""
    with connect(ctx.engine) as conn:
        last = latest_checkpoint(conn)
        size = locked_tree(conn).size
        if size == 0 or (last is not None and (last.tree_size == size or ctx.clock.now() - last.at < every)):
            return None
        return write_checkpoint(conn, ctx)
