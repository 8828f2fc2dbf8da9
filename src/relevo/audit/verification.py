"""Checking the audit log from its rows alone: every leaf, every checkpoint's root, every signature.

The same check runs on the store and on an exported bundle, so what an operator sees and what an
auditor sees offline cannot differ. Trust starts from the public keys the caller gives; a key
rotation recorded in the log, once a trusted checkpoint covers it, adds the key it names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable

from relevo.audit.leaf import details_digest, leaf_data
from relevo.audit.merkle import Frontier, leaf_hash, verify_inclusion
from relevo.audit.note import Checkpoint, NoteError, Verifier, open_note

ROTATED = "audit.key_rotated"


@dataclass(frozen=True)
class LeafRow:
    """One event as the verifier reads it (details and salt may be gone after a purge)."""

    id: int
    seq: int
    at: datetime
    actor: str
    action: str
    subject: str
    details: dict[str, Any] | None
    salt: str | None
    details_sha256: str
    leaf_hash: str


@dataclass(frozen=True)
class CheckpointRow:
    """One kept checkpoint as the verifier reads it."""

    tree_size: int
    note: str


@dataclass
class LogVerification:
    """What the check found: counts, the root it computed, and every problem, first one first."""

    events: int = 0
    checkpoints: int = 0
    size: int = 0
    root: str = ""
    signed_by: list[str] = field(default_factory=list)
    unsigned: int = 0  # events after the newest checkpoint: no signature vouches for them yet
    problems: list[str] = field(default_factory=list)
    first_bad_event: int | None = None  # the id of the first event that does not match the log
    selection: str | None = None  # a bundle of chosen events (each with its inclusion proof): which

    @property
    def ok(self) -> bool:
        """Whether everything checked out, with at least one signed checkpoint."""
        return not self.problems

    def bad(self, problem: str, event_id: int | None = None) -> None:
        """Note a problem (and the first bad event)."""
        self.problems.append(problem)
        if event_id is not None and self.first_bad_event is None:
            self.first_bad_event = event_id


def _check_event(row: LeafRow, expected_seq: int, report: LogVerification) -> bytes:
    """The leaf hash the event's content gives (noting where it differs from the stored one)."""
    if row.seq != expected_seq:
        what = "missing or out of order" if row.seq > expected_seq else "repeated or out of order"
        report.bad(f"event #{row.id} holds place {row.seq} where place {expected_seq} was expected: "
                   f"events are {what}", row.id)
    return _leaf_of(row, report)


def _leaf_of(row: LeafRow, report: LogVerification) -> bytes:
    """The leaf hash the event's content gives, wherever it stands (noting a difference from its stored one)."""
    digest = row.details_sha256
    if row.details is not None and row.salt is not None:
        digest = details_digest(bytes.fromhex(row.salt), row.details)
        if digest != row.details_sha256:
            report.bad(f"event #{row.id} (place {row.seq}): its details do not match their recorded hash "
                       "(changed after recording)", row.id)
    leaf = leaf_hash(leaf_data(row.seq, row.at, row.actor, row.action, row.subject, digest))
    if leaf.hex() != row.leaf_hash:
        report.bad(f"event #{row.id} (place {row.seq}): its time, actor, action, subject or details do not "
                   "match its leaf (changed after recording)", row.id)
    return leaf


def _open(checkpoint: CheckpointRow, trusted: list[Verifier]) -> tuple[Checkpoint, tuple[str, ...]] | str:
    try:
        opened = open_note(checkpoint.note, trusted)
        return Checkpoint.parse(opened.text), opened.signed_by
    except NoteError as exc:
        return str(exc)


def verify_log(events: Iterable[LeafRow], checkpoints: list[CheckpointRow], trusted: list[Verifier]) -> LogVerification:
    """Check events (in their order) and checkpoints against the trusted keys."""
    report = LogVerification()
    tree = Frontier()
    roots: dict[int, bytes] = {0: tree.root()}
    wanted = {c.tree_size for c in checkpoints}
    rotations: list[tuple[int, dict[str, Any]]] = []
    ids: list[int] = []  # by place, to name the events a bad root points at
    for row in events:
        ids.append(row.id)
        leaf = _check_event(row, tree.size, report)
        if row.action == ROTATED and row.details:
            rotations.append((row.seq, row.details))
        tree.append(leaf)
        report.events += 1
        if tree.size in wanted:
            roots[tree.size] = tree.root()
    report.size, report.root = tree.size, tree.root().hex()
    if not checkpoints:
        report.bad("no signed checkpoint covers the log: `relevo audit checkpoint` writes one")
        return report
    # Keys named by a rotation that a trusted checkpoint covers become trusted, until no more do.
    keys = {v.text(): v for v in trusted}
    grew = True
    while grew:
        grew = False
        for c in checkpoints:
            opened = _open(c, list(keys.values()))
            if isinstance(opened, str):
                continue
            for seq, details in rotations:
                if seq < opened[0].size:
                    for text in (details.get("old_key"), details.get("new_key")):
                        if isinstance(text, str) and text not in keys:
                            try:
                                keys[text] = Verifier.parse(text)
                                grew = True
                            except NoteError:
                                pass
    signed_by: set[str] = set()
    good = 0  # the largest size a checkpoint vouched for so far
    for c in sorted(checkpoints, key=lambda c: c.tree_size):
        report.checkpoints += 1
        opened = _open(c, list(keys.values()))
        if isinstance(opened, str):
            report.bad(f"checkpoint at size {c.tree_size}: {opened}")
            continue
        point, names = opened
        signed_by.update(names)
        if point.size != c.tree_size:
            report.bad(f"checkpoint at size {c.tree_size}: its signed note says size {point.size}")
        if point.size > tree.size:
            report.bad(f"checkpoint at size {point.size}: the log holds only {tree.size} events "
                       "(events were removed from its end)")
        elif roots.get(point.size) != point.root:
            span = f"#{ids[good]}..#{ids[point.size - 1]}" if good < point.size else "?"
            report.bad(f"checkpoint at size {point.size}: the events up to it give another root; an event "
                       f"at places {good}..{point.size - 1} (events {span}) was changed, removed, added or "
                       f"reordered since that checkpoint was signed", ids[good] if good < point.size else None)
        else:
            good = max(good, point.size)
    report.signed_by = sorted(signed_by)
    report.unsigned = max(0, tree.size - max(c.tree_size for c in checkpoints))
    return report


def verify_selection(events: list[LeafRow], proofs: list[list[bytes]], checkpoint: CheckpointRow,
                     trusted: list[Verifier], selection: str) -> LogVerification:
    """Check chosen events of a log (not the whole of it): each event against its leaf, and its
    leaf, by its inclusion proof, against the root of one checkpoint signed by a trusted key."""
    report = LogVerification(selection=selection, checkpoints=1, size=checkpoint.tree_size)
    opened = _open(checkpoint, trusted)
    if isinstance(opened, str):
        report.bad(f"checkpoint at size {checkpoint.tree_size}: {opened}")
        return report
    point, names = opened
    report.root, report.signed_by = point.root.hex(), sorted(names)
    if point.size != checkpoint.tree_size:
        report.bad(f"checkpoint at size {checkpoint.tree_size}: its signed note says size {point.size}")
    last = -1
    for row, proof in zip(events, proofs, strict=True):
        report.events += 1
        if row.seq <= last:
            report.bad(f"event #{row.id} holds place {row.seq}, after place {last}: events are repeated or out "
                       "of order", row.id)
        last = max(last, row.seq)
        leaf = _leaf_of(row, report)
        if not verify_inclusion(row.seq, point.size, leaf, proof, point.root):
            report.bad(f"event #{row.id} (place {row.seq}): its inclusion proof does not lead to the root the "
                       f"checkpoint of {point.size} events signed (the event or its proof was changed)", row.id)
    return report
