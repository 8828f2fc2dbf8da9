"""Retention of the decision log and rotation of its pseudonym key, through the real gateway on a
simulated clock: a purge deletes exactly the decisions past their service's retention (with what
hangs off them) and keeps those still needed, is audited without personal data, and leaves the
audit log verifiable; a rotated key keeps earlier cases findable by their case id until a purge
lets the old key retire."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, text, update
from typer.testing import CliRunner

from relevo import audit
from relevo.casework import find_case, record_feedback, resolve
from relevo.cli.main import app
from relevo.clock import SimulatedClock
from relevo.demo.traffic import requests
from relevo.errors import Conflict, InvalidInput
from relevo.gateway import Gateway, Keyring, load_keyring, purge_decisions, purge_expired, retire_pseudonym_key
from relevo.monitoring import MonitorSchedule
from relevo.routing.table import set_fallback
from relevo.services import ServiceSpec, parse_spec, spec_digest
from relevo.services.catalogue import apply_spec
from relevo.store import connect
from relevo.store.tables import (decisions, feedback, idempotency_keys, manual_reviews, releases, rollouts,
                                 services, shadow_decisions, versions)

SERVICE = "licence-prefilter"
TABLES = (decisions, shadow_decisions, feedback, manual_reviews, idempotency_keys)


def _count(ctx, table) -> int:
    with connect(ctx.engine) as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def _ids(ctx) -> set[str]:
    with connect(ctx.engine) as conn:
        return set(conn.execute(select(decisions.c.id)).scalars())


def _rollout_in_progress(ctx) -> int:
    """A running rollout of v2 in production, started now (as start_rollout records one)."""
    now = ctx.clock.now()
    with connect(ctx.engine) as conn:
        spec, spec_sha = conn.execute(select(services.c.spec, services.c.spec_sha256)
                                      .where(services.c.name == SERVICE)).one()
        ids = dict(conn.execute(select(versions.c.number, versions.c.id).where(versions.c.service == SERVICE)).all())
        release = conn.execute(releases.insert().values(
            service=SERVICE, version_id=ids[2], spec_sha256=spec_sha, spec=spec, digest="d" * 64, created_at=now,
            created_by="tester").returning(releases.c.id)).scalar_one()
        return conn.execute(rollouts.insert().values(
            service=SERVICE, environment="production", release_id=release, stable_version_id=ids[1],
            candidate_version_id=ids[2], plan_name="canary-only", plan=[], state="running", step_index=0,
            step_started_at=now, step_extended_by_s=0.0, started_at=now, started_by="tester",
        ).returning(rollouts.c.id)).scalar_one()


def _decide(gateway: Gateway, case_id: str, inputs: dict):
    """One decision by a replica of its own (its keys), not started: it answers and records all the same."""
    try:
        return gateway.decide(SERVICE, case_id, inputs)
    finally:
        gateway.close()


# On SQLite, as every test on `world` (the demo store): the purge's statements run on both engines below.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_purge_deletes_what_is_past_retention_keeps_what_is_needed_and_the_audit_log_holds(world, tmp_path):
    ctx, clock, gateway = world
    cases = iter(requests(40, 7))
    old = [gateway.decide(SERVICE, *next(cases)) for _ in range(3)]
    keyed = gateway.decide(SERVICE, *next(cases), idempotency_key="retry-1")
    gateway._forget_old_keys()  # its hourly sweep of keys past 48 hours, done now: the purge meets this key
    record_feedback(ctx, old[0].id, decision="admissible", reason="checked", reviewer="case-worker")
    with connect(ctx.engine) as conn:  # a shadow answer, as the gateway's shadow worker writes one
        conn.execute(shadow_decisions.insert().values(decision_id=old[1].id, version_id=1, decision="rejected",
                                                      latency_ms=3.0, error=None, created_at=clock.now()))
    set_fallback(ctx, SERVICE, "production", True)  # the kill switch: cases no rule decides wait for review
    gateway.refresh()
    queued: list = []
    while len(queued) < 2:
        answered = gateway.decide(SERVICE, *next(cases))
        queued += [answered] if answered.served_by == "manual" else []
    resolve(ctx, queued[0].id, decision="rejected", reason="incomplete", reviewer="case-worker")
    set_fallback(ctx, SERVICE, "production", False)
    gateway.refresh()
    waiting = queued[1]
    clock.advance(timedelta(days=1))
    rollout_id = _rollout_in_progress(ctx)
    clock.advance(timedelta(hours=1))
    evidence = [gateway.decide(SERVICE, *next(cases)) for _ in range(2)]  # the rollout's evidence
    clock.advance(timedelta(days=100))
    recent = [gateway.decide(SERVICE, *next(cases)) for _ in range(2)]
    before = _ids(ctx)
    proved = audit.read_events(ctx, action="decision.*", limit=5)[0]  # a verdict on a decision purged below
    kept_note = audit.checkpoint(ctx).note

    clock.advance(timedelta(days=90))  # 191 days after the first decisions: they are past 184 days
    past = before - {d.id for d in evidence + recent} - {waiting.id}
    dry = purge_decisions(ctx, SERVICE, dry_run=True)
    assert dry.dry_run and dry.event_id is None and _ids(ctx) == before
    assert dry.deleted == {"decisions": len(past), "shadow_decisions": 1, "feedback": 2, "manual_reviews": 1,
                           "idempotency_keys": 1}  # feedback: the verdict, and the resolution's
    assert dry.held == {"rollout_evidence": 2, "awaiting_review": 1}
    assert dry.cutoff == clock.now() - timedelta(days=184) and dry.retention == "184d"

    advanced = []
    done = purge_decisions(ctx, SERVICE, progress=lambda phase, total: advanced.append(total) or (lambda n: None))
    assert done.deleted == dry.deleted and done.held == dry.held and advanced == [len(past)]
    assert _ids(ctx) == before - past and {keyed.id, *(d.id for d in old)} <= past
    assert [_count(ctx, t) for t in TABLES[1:]] == [0, 0, 1, 0]  # the waiting case's review stays
    [event] = audit.read_events(ctx, action="decisions.purged")
    assert event.id == done.event_id and event.subject == SERVICE and event.actor == "tester"
    assert event.details["deleted"] == dry.deleted and event.details["cutoff"] == dry.cutoff.isoformat()
    assert not any(d.id in json.dumps(event.details) for d in old)  # counts and the cut-off, never the decisions

    # The audit log is untouched: it verifies, and an event about a purged decision is proved in it.
    assert audit.verify_store(ctx).ok
    keys = [audit.read_verifier(str(ctx.audit_key.with_suffix(".pub")))]
    (tmp_path / "event.json").write_text(json.dumps(audit.prove_event(ctx, proved.id)))
    assert audit.check_proof(tmp_path / "event.json", keys).ok
    (tmp_path / "growth.json").write_text(json.dumps(audit.prove_growth(ctx, kept_note)))
    assert audit.check_proof(tmp_path / "growth.json", keys).ok

    # Once the rollout ends and the case is resolved, the daily purge in `relevo serve` takes them.
    with connect(ctx.engine) as conn:
        conn.execute(update(rollouts).where(rollouts.c.id == rollout_id).values(state="aborted", ended_at=clock.now()))
    resolve(ctx, waiting.id, decision="admissible", reason="complete", reviewer="case-worker")
    schedule = MonitorSchedule(ctx, "production")
    try:
        [scheduled] = [p for p in schedule.purge() if p.service == SERVICE]
    finally:
        schedule.close()
    assert scheduled.decisions == len(evidence) + 1 and _ids(ctx) == {d.id for d in recent}
    assert audit.read_events(ctx, action="decisions.purged")[-1].actor == "relevo-monitor"
    assert audit.verify_store(ctx).ok


def _log(conn, now: datetime, rows: dict[str, tuple[str, str, datetime]], *, reviewed: str, shadowed: str,
         keyed: str, queued: dict[str, str], rollout: tuple[str, datetime]) -> None:
    """A log to purge: the decisions rows names (id: service, environment, time), a verdict on
    `reviewed`, a shadow answer to `shadowed`, an idempotency key naming `keyed`, the review queue's
    entries (id: status), and a paused rollout of permits (environment, started)."""
    for name, (service, environment, at) in rows.items():
        conn.execute(decisions.insert().values(
            id=name, reference=f"REF-{name}", service=service, environment=environment, case_pseudonym="c" * 32,
            served_by="rules", decision="granted", latency_ms=1.0, inputs={}, created_at=at))
    conn.execute(feedback.insert().values(decision_id=reviewed, outcome="confirmed", decision="granted", reason="",
                                          reviewer="case-worker", at=now))
    conn.execute(shadow_decisions.insert().values(decision_id=shadowed, version_id=1, created_at=now))
    conn.execute(idempotency_keys.insert().values(service="permits", key="k", request_sha256="0" * 64,
                                                  decision_id=keyed, created_at=now))
    for name, status in queued.items():
        conn.execute(manual_reviews.insert().values(decision_id=name, service="permits", status=status, created_at=now))
    version = conn.execute(versions.insert().values(
        service="permits", number=1, sha256="a" * 64, manifest={}, metadata={}, format="rules", size_bytes=1,
        file_count=1, blob_uri="blob", registered_at=now, registered_by="tester").returning(versions.c.id)).scalar_one()
    release = conn.execute(releases.insert().values(
        service="permits", version_id=version, spec_sha256="b" * 64, spec={}, digest="d" * 64, created_at=now,
        created_by="tester").returning(releases.c.id)).scalar_one()
    conn.execute(rollouts.insert().values(
        service="permits", environment=rollout[0], release_id=release, stable_version_id=version,
        candidate_version_id=version, plan_name="p", plan=[], state="paused", step_index=0, step_started_at=now,
        step_extended_by_s=0.0, started_at=rollout[1], started_by="tester"))


def test_the_purge_deletes_and_holds_alike_on_both_engines(ctx):
    now = datetime(2026, 11, 1, tzinfo=timezone.utc)
    ctx = replace(ctx, clock=SimulatedClock(now))
    apply_spec(ctx, parse_spec({"name": "permits", "logging": {"retention": "365d"}}, "permits.yaml"))
    rows = {"old": ("production", 400), "reviewed": ("production", 380), "waiting": ("production", 370),
            "in-rollout": ("production", 366), "staging": ("staging", 366), "recent": ("production", 300)}
    with connect(ctx.engine) as conn:
        _log(conn, now, {name: ("permits", environment, now - timedelta(days=age))
                         for name, (environment, age) in rows.items()},
             reviewed="reviewed", shadowed="old", keyed="old", queued={"reviewed": "resolved", "waiting": "claimed"},
             rollout=("production", now - timedelta(days=367)))
    # A schedule that lost its lease stops after the batch at hand; the next purge takes the rest.
    partial = purge_expired(ctx, "permits", batch=2, leading=lambda: False)
    assert partial.decisions == 2 and partial.event_id is not None
    done = purge_decisions(ctx, "permits", progress=lambda phase, total: (lambda n: None))
    assert {table: n + partial.deleted[table] for table, n in done.deleted.items()} == {
        "decisions": 3, "shadow_decisions": 1, "feedback": 1, "manual_reviews": 1, "idempotency_keys": 1}
    assert done.held == {"rollout_evidence": 1, "awaiting_review": 1}
    assert _ids(ctx) == {"waiting", "in-rollout", "recent"}
    assert purge_decisions(ctx, "permits").event_id is None  # nothing more to delete: nothing to audit


def test_retention_shorter_than_six_months_is_refused_and_default_specs_keep_their_digests():
    with pytest.raises(InvalidInput, match=r"logging\.retention: .*30d is shorter than six months"):
        parse_spec({"name": "abc", "logging": {"retention": "30d"}}, "spec.yaml")
    with pytest.raises(InvalidInput, match=r"logging\.max_retention: .*is shorter than six months"):
        parse_spec({"name": "abc", "logging": {"max_retention": "90d"}}, "spec.yaml")
    with pytest.raises(InvalidInput, match=r"logging\.retention 800d is longer than logging\.max_retention 730d"):
        parse_spec({"name": "abc", "logging": {"retention": "800d", "max_retention": "730d"}}, "spec.yaml")
    longer = parse_spec({"name": "abc", "logging": {"retention": "365d", "max_retention": "730d"}}, "spec.yaml")
    assert longer.logging.retention_days == 365
    # Stored digests (of releases, of specs an incident blocks) keep matching specs written before retention.
    plain = ServiceSpec(name="abc")
    assert spec_digest(plain) == "ca54ef99ce94187140ab61894f451adae57ae0f6bbda1f709ed027909dfebb89"
    assert spec_digest(parse_spec({"name": "abc", "logging": {"retention": " 184 d"}}, "spec.yaml")) == spec_digest(plain)
    assert spec_digest(longer) != spec_digest(plain)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # see the first test
def test_a_rotated_key_keeps_earlier_cases_findable_until_a_purge_lets_it_retire(world, demo_settings, cli_env):
    ctx, clock, _ = world
    [(case_id, inputs)] = requests(1, 11)
    first = load_keyring(demo_settings)  # the home folder's key file, made on first use
    before = _decide(Gateway(ctx, pseudonym_key=first), case_id, inputs)

    cli = CliRunner()
    rotated = cli.invoke(app, ["pseudonym-key", "rotate"], env=cli_env, catch_exceptions=False)
    assert rotated.exit_code == 0, rotated.output
    keyring = load_keyring(demo_settings)
    assert keyring.key_id != first.key_id and keyring.ids == [keyring.key_id, first.key_id]
    assert f"Pseudonym key {keyring.key_id} is the current one (key {first.key_id} is kept" in rotated.output
    clock.advance(timedelta(days=1))
    after = _decide(Gateway(ctx, pseudonym_key=keyring), case_id, inputs)

    assert [d.decision_id for d in find_case(ctx, SERVICE, case_id, keyring)] == [after.id, before.id]
    assert [d.decision_id for d in find_case(ctx, SERVICE, case_id, Keyring(b"k" * 32))] == []  # another key's
    listed = json.loads(cli.invoke(app, ["pseudonym-key", "list", "--json"], env=cli_env).stdout)
    assert [(k["key_id"], k["current"], k["decisions"]) for k in listed] == [(keyring.key_id, True, 1),
                                                                            (first.key_id, False, 1)]
    with pytest.raises(Conflict, match=f"key {first.key_id} still finds 1 decision "):
        retire_pseudonym_key(ctx, demo_settings, first.key_id)

    clock.advance(timedelta(days=184))  # the first decision is past retention, the second not yet
    assert purge_decisions(ctx, SERVICE).decisions == 1
    assert [d.decision_id for d in find_case(ctx, SERVICE, case_id, keyring)] == [after.id]
    retired = retire_pseudonym_key(ctx, demo_settings, first.key_id)
    assert load_keyring(demo_settings).ids == [keyring.key_id]
    events = audit.read_events(ctx, action="pseudonym.*")
    assert [(e.action, e.details["key_id"]) for e in events] == [("pseudonym.key-rotated", keyring.key_id),
                                                                 ("pseudonym.key-retired", first.key_id)]
    assert events[-1].id == retired.event_id
    secrets = [(demo_settings.home / "pseudonym.key").read_text().strip(), first.current._key.hex()]
    assert not any(s in json.dumps([e.details for e in events]) for s in secrets)  # ids, never a key
    refused = cli.invoke(app, ["pseudonym-key", "rotate"], env=cli_env | {"RELEVO_URL": "https://relevo.example.org"})
    assert refused.exit_code == 1 and "not through RELEVO_URL" in refused.output


@pytest.mark.parametrize("database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
def test_on_postgresql_a_month_past_every_services_retention_is_dropped_whole(ctx, cli_env):
    from relevo.store import partitions

    now = ctx.clock.now()  # the real clock, as the CLI's below
    apply_spec(ctx, parse_spec({"name": "permits", "logging": {"retention": "365d"}}, "permits.yaml"))
    apply_spec(ctx, parse_spec({"name": "parking", "logging": {"retention": "184d"}}, "parking.yaml"))
    apply_spec(ctx, parse_spec({"name": "archive", "logging": {"retention": "730d", "max_retention": "730d"}},
                               "archive.yaml"))
    cutoff = now - timedelta(days=365)
    boundary = partitions.month_of(cutoff)  # the month the cut-off falls in
    months = [boundary]
    while len(months) < 7:
        months.insert(0, partitions.month_of(months[0].start - timedelta(days=1)))
    whole, emptied, parking_only, kept_longer, in_rollout, waiting = months[:6]
    partitions.make_months(ctx.engine, whole.start, ahead=6)

    def mid(month) -> datetime:
        return month.start + (month.end - month.start) / 2

    rows = {"w-1": ("permits", "production", mid(whole)), "w-2": ("permits", "production", mid(whole)),
            "w-park": ("parking", "production", mid(whole)), "park": ("parking", "production", mid(parking_only)),
            "l-permit": ("permits", "production", mid(kept_longer)),  # past, but not the other's below
            "l-archive": ("archive", "production", mid(kept_longer)),
            "evidence": ("permits", "staging", in_rollout.end - timedelta(hours=1)),
            "before-rollout": ("permits", "staging", in_rollout.start + timedelta(hours=1)),
            "waiting": ("permits", "production", mid(waiting)), "reviewed": ("permits", "production", mid(waiting)),
            "past": ("permits", "production", boundary.start + (cutoff - boundary.start) / 2),
            "recent": ("permits", "production", cutoff + (boundary.end - cutoff) / 2),
            "stray": ("permits", "production", whole.start - timedelta(days=400))}  # no month of its own: DEFAULT
    with connect(ctx.engine) as conn:
        _log(conn, now, rows, reviewed="w-1", shadowed="w-park", keyed="w-2",
             queued={"reviewed": "resolved", "waiting": "open"}, rollout=("staging", mid(in_rollout)))

    def attached() -> set[str]:
        with connect(ctx.engine) as conn:
            return set(partitions.attached(conn))

    dropped = [(whole.name, {"decisions": 3, "shadow_decisions": 1, "feedback": 1, "manual_reviews": 0,
                             "idempotency_keys": 1}, {"permits": 2, "parking": 1}),
               (emptied.name, {"decisions": 0} | {table.name: 0 for table in TABLES[1:]}, {})]
    expected = {"decisions": 7, "shadow_decisions": 0, "feedback": 1, "manual_reviews": 1, "idempotency_keys": 1}
    shown = CliRunner().invoke(app, ["purge", "permits", "--dry-run"], env=cli_env, catch_exceptions=False)
    assert shown.exit_code == 0, shown.output
    assert (f"Whole months that would be dropped: {whole.name} (3 decisions: parking 1, permits 2); "
            f"{emptied.name} (0 decisions).") in " ".join(shown.output.split())
    dry = purge_decisions(ctx, "permits", dry_run=True)
    assert [(m.partition, m.rows, m.services) for m in dry.partitions] == dropped
    assert dry.deleted == expected and dry.held == {"rollout_evidence": 1, "awaiting_review": 1}
    assert {m.name for m in months} <= attached() and len(_ids(ctx)) == len(rows)  # nothing touched

    done = purge_decisions(ctx, "permits")
    assert [(m.partition, m.rows, m.services) for m in done.partitions] == dropped
    assert done.deleted == expected and done.held == dry.held
    assert {m.name for m in months} & attached() == {parking_only.name, kept_longer.name, in_rollout.name, waiting.name,
                                                     boundary.name}
    with connect(ctx.engine) as conn:  # gone from the catalogue, not only from the log
        assert conn.execute(text("SELECT to_regclass(:n), to_regclass(:n || '_expired')"),
                            {"n": whole.name}).one() == (None, None)
    assert _ids(ctx) == {"park", "l-archive", "evidence", "waiting", "recent"}
    assert [_count(ctx, t) for t in TABLES[1:]] == [0, 0, 1, 0]  # the waiting case's review stays
    [event] = audit.read_events(ctx, action="decisions.purged")
    assert event.id == done.event_id and event.details["deleted"] == expected
    assert event.details["partitions"] == [{"partition": name, "month": month.label, "rows": counted, "services": by}
                                           for (name, counted, by), month in zip(dropped, (whole, emptied))]


@pytest.mark.parametrize("database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
def test_a_month_two_purges_meet_on_is_dropped_once_and_neither_fails(ctx):
    """An operator's purge finds a detached month another purge (the schedule's) is dropping: it
    waits for that one, finds the month gone, and finishes without error or double count."""
    import threading

    from relevo.store import partitions

    apply_spec(ctx, parse_spec({"name": "permits", "logging": {"retention": "365d"}}, "permits.yaml"))
    month = partitions.month_of(ctx.clock.now() - timedelta(days=500))
    partitions.make_months(ctx.engine, month.start, ahead=0)
    with connect(ctx.engine) as conn:
        for n in range(3):
            conn.execute(decisions.insert().values(
                id=f"d-{n}", reference=f"REF-{n}", service="permits", environment="production", case_pseudonym="c" * 32,
                served_by="rules", decision="granted", latency_ms=1.0, inputs={}, created_at=month.start + timedelta(days=n)))
    detached = partitions.detach(ctx.engine, month)
    assert detached is not None

    first = ctx.engine.connect()  # the first purge, in the middle of dropping the month
    transaction = first.begin()
    assert partitions.claim(first, detached)
    first.exec_driver_sql(f"DROP TABLE {detached.name}")
    outcome: dict = {}
    second = threading.Thread(target=lambda: outcome.update(purge=purge_decisions(ctx, "permits")))
    second.start()
    try:
        with connect(ctx.engine) as conn:  # the second purge waits for the first
            for _ in range(200):
                conn.execute(text("SELECT pg_stat_clear_snapshot()"))  # the activity view is read once a transaction
                if conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                     "AND datname = current_database()")).scalar():
                    break
                conn.execute(text("SELECT pg_sleep(0.05)"))
            else:
                pytest.fail("the second purge did not wait for the first")
    finally:
        transaction.commit()
        first.close()
        second.join(timeout=30)
    purge = outcome["purge"]  # it finished (an error would have left no result)
    assert purge.partitions == () and purge.decisions == 0
    assert _ids(ctx) == set()
    with connect(ctx.engine) as conn:
        assert partitions.expired(conn) == []
