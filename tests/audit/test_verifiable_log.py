"""The audit log an auditor can verify alone, on both engines: the database refuses to rewrite it,
and every way of rewriting it anyway (edit, delete, reorder, truncate, a forged row with its
hashes recomputed) fails verification, in the store and in an exported bundle, naming the spot."""

from __future__ import annotations

import json
import os
from dataclasses import replace

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from relevo import audit
from relevo.audit.leaf import details_digest, leaf_data
from relevo.audit.merkle import leaf_hash
from relevo.audit.note import Signer
from relevo.errors import Conflict, InvalidInput, Refused
from relevo.store import connect
from relevo.store.tables import audit_checkpoints, audit_events


def _changes(ctx, n: int, action: str = "service.updated", start: int = 0) -> None:
    for i in range(start, start + n):
        with connect(ctx.engine) as conn:
            audit.record_change(conn, ctx, action, f"svc-{i % 3}", {"n": i, "note": f"change {i}"})


@pytest.fixture
def logged(ctx):
    """A log of 12 events with checkpoints after the 4th (a rollout step) and at the end."""
    _changes(ctx, 3)
    _changes(ctx, 1, action="rollout.advanced", start=3)  # a rollout transition signs a checkpoint
    _changes(ctx, 8, start=4)
    audit.checkpoint(ctx)
    return ctx


def _key(ctx):
    return [audit.read_verifier(str(ctx.audit_key.with_suffix(".pub")))]


def _raw(ctx, statement: str, **params) -> None:
    """A statement run as a database administrator who first switches the guards off."""
    with ctx.engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER IF EXISTS audit_events_no_update"))
            conn.execute(text("DROP TRIGGER IF EXISTS audit_events_no_delete"))
        else:
            conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
        conn.execute(text(statement), params)


def _id_at(ctx, seq: int) -> int:
    with connect(ctx.engine) as conn:
        return conn.execute(select(audit_events.c.id).where(audit_events.c.seq == seq)).scalar_one()


def test_an_untouched_log_verifies_in_the_store_and_in_its_bundle(logged, tmp_path):
    report = audit.verify_store(logged)
    assert report.ok, report.problems
    assert report.events == 13 and report.checkpoints == 2  # 12 changes and the key's creation
    path = tmp_path / "bundle.json"
    assert audit.export_bundle(logged, path) == (13, 2)
    offline = audit.verify_bundle(path, _key(logged))
    assert offline.ok and offline.root == report.root and offline.size == 13
    # Only the key the auditor holds is trusted: another key, even under the same name, is not.
    stranger = Signer.generate(Signer.parse(logged.audit_key.read_text()).name).verifier()
    refused = audit.verify_bundle(path, [stranger])
    assert not refused.ok and all("no trusted key signed" in p for p in refused.problems)


def test_the_database_refuses_to_change_or_delete_audit_rows(logged):
    for statement in ("UPDATE audit_events SET actor = 'someone else'", "DELETE FROM audit_events",
                      "UPDATE audit_checkpoints SET note = 'x'", "DELETE FROM audit_checkpoints"):
        with pytest.raises(DBAPIError, match="append-only"):
            with logged.engine.begin() as conn:
                conn.execute(text(statement))
    assert audit.verify_store(logged).ok
    if logged.engine.dialect.name == "postgresql":  # SQLite has no TRUNCATE
        for table in ("audit_events", "audit_checkpoints"):
            with pytest.raises(DBAPIError, match="append-only"):
                with logged.engine.begin() as conn:
                    conn.execute(text(f"TRUNCATE {table} CASCADE"))
        assert audit.verify_store(logged).events == 13


@pytest.mark.parametrize("tamper,place,expected", [
    ("UPDATE audit_events SET details = :details WHERE seq = 5", 5, "details do not match"),
    ("UPDATE audit_events SET actor = 'mallory' WHERE seq = 2", 2, "do not match its leaf"),
    ("UPDATE audit_events SET at = at WHERE seq = 2; ", None, None),  # a no-op rewrite changes nothing
    ("DELETE FROM audit_events WHERE seq = 6", 7, "missing or out of order"),
    ("UPDATE audit_events SET seq = CASE seq WHEN 8 THEN 9 WHEN 9 THEN 8 END WHERE seq IN (8, 9)", 9,
     "do not match its leaf"),
])
def test_a_rewritten_store_fails_verification_naming_the_event(logged, tamper, place, expected):
    expected_id = _id_at(logged, place) if place is not None else None
    if "seq IN (8, 9)" in tamper:
        # Two rows cannot swap a unique place in one statement everywhere: go through a free one.
        for a, b in ((8, -1), (9, 8), (-1, 9)):
            _raw(logged, f"UPDATE audit_events SET seq = {b} WHERE seq = {a}")
    else:
        _raw(logged, tamper, details=json.dumps({"n": 5, "note": "approved by nobody"}))
    report = audit.verify_store(logged)
    if expected is None:
        assert report.ok
        return
    assert not report.ok and any(expected in p for p in report.problems), report.problems
    assert report.first_bad_event == expected_id


def test_a_truncated_store_fails_verification(logged):
    _raw(logged, "DELETE FROM audit_events WHERE seq >= 10")
    report = audit.verify_store(logged)
    assert any("the log holds only 10 events" in p for p in report.problems), report.problems


def test_a_forged_row_with_its_hashes_recomputed_is_caught_by_the_signed_root(logged):
    place = 6
    with connect(logged.engine) as conn:
        row = conn.execute(select(audit_events).where(audit_events.c.seq == place)).mappings().one()
    forged = {"n": 6, "note": "approved by the mayor"}
    digest = details_digest(bytes.fromhex(row["salt"]), forged)
    leaf = leaf_hash(leaf_data(place, row["at"], row["actor"], row["action"], row["subject"], digest)).hex()
    _raw(logged, "UPDATE audit_events SET details = :d, details_sha256 = :h, leaf_hash = :l WHERE seq = :s",
         d=json.dumps(forged), h=digest, l=leaf, s=place)
    report = audit.verify_store(logged)
    assert not report.ok
    # Every leaf matches its row now; the root the key signed does not: the span it names holds the forgery.
    (problem,) = [p for p in report.problems if p.startswith("checkpoint at size 13")]
    assert "places 5..12" in problem and report.first_bad_event == _id_at(logged, 5)


def _bundle(ctx, tmp_path):
    path = tmp_path / "bundle.json"
    audit.export_bundle(ctx, path)
    return path, json.loads(path.read_text())


def _write(path, body):
    path.write_text(json.dumps(body))
    return path


@pytest.mark.parametrize("case", ["edit", "delete", "reorder", "truncate", "forged", "other-key", "bad-note"])
def test_a_tampered_bundle_fails_offline_verification(logged, tmp_path, case):
    path, body = _bundle(logged, tmp_path)
    events = body["events"]
    if case == "edit":
        events[5]["details"]["note"] = "approved by nobody"
    elif case == "delete":
        del events[6]
    elif case == "reorder":
        events[8], events[9] = events[9], events[8]
    elif case == "truncate":
        del events[10:]
    elif case == "forged":
        e = events[6]
        e["details"] = {"n": 6, "note": "approved by the mayor"}
        e["details_sha256"] = details_digest(bytes.fromhex(e["salt"]), e["details"])
        from datetime import datetime
        e["leaf_hash"] = leaf_hash(leaf_data(e["seq"], datetime.fromisoformat(e["at"]), e["actor"], e["action"],
                                             e["subject"], e["details_sha256"])).hex()
    elif case == "other-key":
        other = Signer.generate("impostor")
        from relevo.audit.note import Checkpoint, sign_note
        from relevo.audit.merkle import root
        body["checkpoints"].append({"tree_size": 13, "note": sign_note(
            Checkpoint("impostor", 13, root([bytes.fromhex(e["leaf_hash"]) for e in events])).text(), other)})
    elif case == "bad-note":
        body["checkpoints"][0]["note"] = body["checkpoints"][0]["note"].replace("\n\n", "\n")
    report = audit.verify_bundle(_write(path, body), _key(logged))
    assert not report.ok, case
    expected = {"edit": "details do not match", "delete": "missing or out of order", "reorder": "out of order",
                "truncate": "the log holds only 10 events", "forged": "places 5..12",
                "other-key": "no trusted key signed", "bad-note": "malformed note"}[case]
    assert any(expected in p for p in report.problems), report.problems


def test_a_selection_of_events_verifies_alone_and_not_once_tampered(logged, tmp_path):
    import copy
    from datetime import datetime

    chosen = [_id_at(logged, seq) for seq in (1, 4, 7)]
    selection = audit.selection_of(logged, chosen, "three events of svc-1")
    assert [e["id"] for e in selection["events"]] == chosen and len(selection["checkpoints"]) == 1
    report = audit.verify_bundle(_write(tmp_path / "selection.json", selection), _key(logged))
    assert report.ok and report.events == 3 and report.selection == "three events of svc-1", report.problems

    def forge(event):  # its hashes recomputed: its proof no longer reaches the signed root
        event["details"] = {"n": 4, "note": "approved by the mayor"}
        event["details_sha256"] = details_digest(bytes.fromhex(event["salt"]), event["details"])
        event["leaf_hash"] = leaf_hash(leaf_data(event["seq"], datetime.fromisoformat(event["at"]), event["actor"],
                                                 event["action"], event["subject"], event["details_sha256"])).hex()

    tamperings = {
        "edit": (lambda e, b: e["details"].update(note="approved by nobody"), "details do not match"),
        "forged": (lambda e, b: forge(e), "inclusion proof does not lead"),
        "moved": (lambda e, b: e.update(seq=e["seq"] + 1), "inclusion proof"),
        "proof": (lambda e, b: e.update(proof=e["proof"][:-1]), "inclusion proof"),
        # Read as the whole log, the events between the chosen ones are missing.
        "whole-log": (lambda e, b: b.pop("selection"), "missing or out of order"),
    }
    for case, (tamper, expected) in tamperings.items():
        body = copy.deepcopy(selection)
        tamper(body["events"][1], body)
        report = audit.verify_bundle(_write(tmp_path / f"{case}.json", body), _key(logged))
        assert not report.ok and any(expected in p for p in report.problems), (case, report.problems)
        assert case == "whole-log" or report.first_bad_event == chosen[1], case
    stranger = audit.verify_bundle(tmp_path / "selection.json", [Signer.generate("impostor").verifier()])
    assert not stranger.ok and any("no trusted key signed" in p for p in stranger.problems), stranger.problems


@pytest.mark.parametrize("content,why", [
    ("not json", "not JSON"), ('{"format": "something else"}', "format relevo-audit-bundle/1"),
    ('{"format": "relevo-audit-bundle/1", "events": {}, "checkpoints": []}', "events must be list"),
    ('{"format": "relevo-audit-bundle/1", "events": [{"id": "1", "at": "2026-12-01T00:00:00+00:00"}], "checkpoints": []}', "id must be int"),
    ('{"format": "relevo-audit-bundle/1", "events": [], "checkpoints": [{"tree_size": 1}]}', "note must be str"),
])
def test_a_malformed_bundle_is_refused_with_the_reason(tmp_path, logged, content, why):
    path = tmp_path / "b.json"
    path.write_text(content)
    with pytest.raises(InvalidInput, match=why):
        audit.verify_bundle(path, _key(logged))


def test_inclusion_and_consistency_proofs_verify_offline(logged, tmp_path):
    kept = audit.checkpoint(logged).note  # what an auditor keeps today
    _changes(logged, 5, start=20)
    event_id = _id_at(logged, 15)
    proof = tmp_path / "inclusion.json"
    proof.write_text(json.dumps(audit.prove_event(logged, event_id)))
    check = audit.check_proof(proof, _key(logged))
    assert check.ok and check.kind == "inclusion" and f"event #{event_id}" in check.statement
    body = json.loads(proof.read_text())
    body["event"]["actor"] = "mallory"
    assert not audit.check_proof(_write(proof, body), _key(logged)).ok
    growth = tmp_path / "consistency.json"
    growth.write_text(json.dumps(audit.prove_growth(logged, kept)))
    check = audit.check_proof(growth, _key(logged))
    assert check.ok and "the log of 13 events is the start of the log of 18 events" in check.statement
    body = json.loads(growth.read_text())
    body["proof"][0] = "00" * 32
    assert not audit.check_proof(_write(growth, body), _key(logged)).ok
    with pytest.raises(InvalidInput, match="does not verify|no trusted key"):
        audit.check_proof(_write(growth, body | {"new": kept.replace("\n13\n", "\n14\n")}), _key(logged))


def test_a_rotated_key_hands_trust_on_in_both_directions(logged, tmp_path):
    old_key = _key(logged)
    audit.rotate_key(logged)
    _changes(logged, 2, action="rollout.advanced", start=30)
    new_key = _key(logged)
    assert old_key[0].text() != new_key[0].text()
    assert audit.verify_store(logged).ok
    path, _ = _bundle(logged, tmp_path)
    assert audit.verify_bundle(path, old_key).ok  # an auditor who kept last year's key
    assert audit.verify_bundle(path, new_key).ok  # and one given the new key
    with connect(logged.engine) as conn:
        assert "audit.key_rotated" in conn.execute(select(audit_events.c.action)).scalars().all()


def test_a_lost_key_is_never_replaced_silently(logged, tmp_path):
    old_key = _key(logged)
    logged.audit_key.unlink()  # a deleted file, or a replica whose key volume is not mounted
    with pytest.raises(Refused, match="audit key file .* is missing.*restore the file.*replace-lost-key"):
        _changes(logged, 1, action="rollout.advanced", start=40)
    assert not logged.audit_key.exists()  # nothing half-made: the change and its checkpoint were refused together
    with pytest.raises(InvalidInput, match="written reason"):
        audit.replace_lost_key(logged, "lost")
    new = audit.replace_lost_key(logged, "the disk holding the key failed; no backup of it was kept")
    assert new == _key(logged)[0].text() != old_key[0].text()
    with pytest.raises(Conflict, match="rotate-key"):
        audit.replace_lost_key(logged, "the disk holding the key failed; no backup of it was kept")
    _changes(logged, 2, action="rollout.advanced", start=41)
    with connect(logged.engine) as conn:
        [replaced] = [d for a, d in conn.execute(select(audit_events.c.action, audit_events.c.details))
                      if a == "audit.key_replaced"]
    assert replaced["lost_keys"] == [old_key[0].text()] and replaced["new_key"] == new
    # Trust does not pass: each key verifies its own part, an auditor holding both the whole log.
    path, _ = _bundle(logged, tmp_path)
    assert not audit.verify_bundle(path, old_key).ok and not audit.verify_bundle(path, _key(logged)).ok
    assert audit.verify_bundle(path, old_key + _key(logged)).ok


def test_a_key_file_others_can_read_is_refused(logged):
    os.chmod(logged.audit_key, 0o644)
    with pytest.raises(Refused, match="chmod 600"):
        audit.verify_store(logged)
    os.chmod(logged.audit_key, 0o600)
    assert audit.verify_store(logged).ok


def test_rollout_transitions_sign_checkpoints(logged):
    with connect(logged.engine) as conn:
        sizes = conn.execute(select(audit_checkpoints.c.tree_size).order_by(audit_checkpoints.c.id)).scalars().all()
    assert sizes == [5, 13]  # after the rollout step (the key's event, 3 changes, the step), and on demand


def test_events_recorded_before_the_tree_existed_become_its_first_leaves(database_url, settings):
    """A store migrated from the schema before the Merkle log: its events keep their order and
    verify, and the log grows from them."""
    from alembic import command
    from relevo.context import Context
    from relevo.store.engine import create
    from relevo.store.migrate import _config

    engine = create(database_url)
    with engine.begin() as conn:
        config = _config()
        config.attributes["connection"] = conn
        command.upgrade(config, "0007")
        for i in range(5):
            conn.execute(text("INSERT INTO audit_events (at, actor, action, subject, details, content_sha256) "
                              "VALUES (:at, 'ana', 'service.updated', 'svc', :d, 'x')"),
                         {"at": f"2026-11-0{i + 1} 08:00:00", "d": json.dumps({"n": i})})
    engine.dispose()
    from relevo.store import upgrade
    upgrade(database_url)
    ctx = Context.open(settings)
    try:
        _changes(ctx, 2, action="rollout.advanced", start=10)
        report = audit.verify_store(ctx)
        assert report.ok and report.events == 8, report.problems  # 5 old, the key's creation, 2 new
        with connect(ctx.engine) as conn:
            assert conn.execute(select(audit_events.c.details).where(audit_events.c.seq == 3)).scalar_one() == {"n": 3}
    finally:
        ctx.close()


def test_a_checkpoint_is_due_only_after_new_events_and_the_interval(ctx):
    """The controller's periodic checkpoint: none on an empty log, none while nothing new arrived
    or the last one is younger than the interval, one otherwise."""
    from datetime import timedelta

    from relevo.clock import SimulatedClock

    clock = SimulatedClock()
    timed = replace(ctx, clock=clock)
    every = timedelta(minutes=10)
    assert audit.checkpoint_if_due(timed, every) is None  # nothing logged yet
    _changes(timed, 2)
    first = audit.checkpoint_if_due(timed, every)
    assert first is not None and first.tree_size == 3  # the key's creation and the two changes
    _changes(timed, 1, start=2)
    clock.advance(timedelta(minutes=9))
    assert audit.checkpoint_if_due(timed, every) is None  # too soon
    clock.advance(timedelta(minutes=2))
    due = audit.checkpoint_if_due(timed, every)
    assert due is not None and due.tree_size == 4
    clock.advance(timedelta(hours=1))
    assert audit.checkpoint_if_due(timed, every) is None  # nothing new since
    assert audit.verify_store(timed).ok


def test_a_key_made_in_a_transaction_that_failed_is_recorded_on_its_next_use(ctx):
    from relevo.audit.checkpoints import write_checkpoint

    _changes(ctx, 1)
    with pytest.raises(RuntimeError), connect(ctx.engine) as conn:
        write_checkpoint(conn, ctx)  # makes the key file and its event...
        raise RuntimeError("...in a transaction that rolls back")
    assert ctx.audit_key.exists()
    audit.checkpoint(ctx)
    with connect(ctx.engine) as conn:
        actions = conn.execute(select(audit_events.c.action).order_by(audit_events.c.seq)).scalars().all()
    assert actions == ["service.updated", "audit.key_created"]
    report = audit.verify_store(ctx)
    assert report.ok and report.signed_by


def test_a_key_file_swapped_for_one_the_log_never_named_is_refused(logged):
    from relevo.audit.keys import write_signer

    name = Signer.parse(logged.audit_key.read_text()).name
    logged.audit_key.unlink()
    write_signer(logged.audit_key, Signer.generate(name))
    with pytest.raises(Refused, match="holds a key the audit log never recorded"):
        audit.checkpoint(logged)
