"""Chaos under load: 5,000 concurrent requests against a broken model, on each engine.

Each fault is a version of the demo service registered as an `entrypoint` artifact (a model.py)
and routed as stable. Whatever the model does, every request must get a Decision, every
Decision must be in the decision log exactly as it was answered (served_by, fallback cause,
decision), and every manual one must be queued for review. What answers instead is the fallback
chain: the demo's rules where one applies, manual review otherwise.

The circuit breaker takes part. For the models that always fail it opens after `min_calls`
failures; up to WORKERS - 1 more calls are already past its check by then, and open_seconds is
long enough that no half-open probe happens during the test, so the failure count is bounded
exactly and everything else is `circuit_open`. For the model that fails 30% of calls, see
FLAKY_BREAKER.
"""

from __future__ import annotations

import gc
import json
import threading
import time
import uuid
import zlib
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import pytest
import yaml
from sqlalchemy import select

from relevo.demo import SERVICE_NAME, spec_resource
from relevo.demo import applications as apps
from relevo.demo.training import MODEL_INPUTS
from relevo.errors import StoreUnavailable
from relevo.gateway.decision_log import DecisionLog
from relevo.gateway.fallback import Rules
from relevo.gateway.gateway import Gateway
from relevo.registry.register import register_version
from relevo.routing.table import set_route
from relevo.services.catalogue import apply_spec
from relevo.services.spec import parse_spec
from relevo.store.tables import decisions, manual_reviews

REQUESTS = 5_000
WORKERS = 64
TIMEOUT_MS = 50  # for the sleeping model
# For the other faults time is not what is tested: a generous timeout keeps a stall of the
# machine (64 threads on 2 cores, other processes) from turning a fast call into a timeout.
GENEROUS_TIMEOUT_MS = 2_000
SLEEP_S = 0.3

# Opens after 10 failures and stays open for the rest of the test.
ALWAYS_FAILING_BREAKER = {"window": 50, "min_calls": 10, "error_share": 0.5, "open_seconds": 600,
                          "half_open_probes": 3}
# With the demo's breaker (min_calls 10, error_share 0.5) a model failing 30% of calls trips it
# by chance: P(at least 5 of the first 10 calls fail) is 15%, and every later window is another
# draw, so how many requests fall back would depend on luck. Here it needs half of at least
# 500 recent calls to fail; with 30% failing, spread over cases by hash, that is 10 standard
# deviations away in any order the threads happen to run, so the breaker stays closed and the
# failures are exactly the cases the hash picks.
FLAKY_BREAKER = {"window": 1000, "min_calls": 500, "error_share": 0.5, "open_seconds": 600,
                 "half_open_probes": 3}

# Each model answers well until the fault is switched on (RELEVO_TEST_FAULT=on), as a model
# does that works when it is registered (registration makes it answer probe rows) and fails
# later, in front of citizens: a crash, a hang, a broken output, a flaky dependency.
HEALTHY = '''
import os

def healthy():
    return os.environ.get("RELEVO_TEST_FAULT") != "on"
'''
MODELS = {
    "raises": HEALTHY + '''
def predict(row):
    if healthy():
        return "admissible", {"admissible": 0.9, "rejected": 0.1}
    raise RuntimeError("the model crashed")
''',
    "sleeps": HEALTHY + f'''
import time

def predict(row):
    if not healthy():
        time.sleep({SLEEP_S})
    return "admissible", {{"admissible": 0.9, "rejected": 0.1}}
''',
    "nan": HEALTHY + '''
def predict(row):
    if healthy():
        return "admissible", {"admissible": 0.9, "rejected": 0.1}
    return "admissible", {"admissible": float("nan"), "rejected": float("nan")}
''',
    # "deferred" is in the version's signature, so the loader passes it; the spec does not
    # list it, so the gateway must refuse it.
    "unknown_label": HEALTHY + '''
def predict(row):
    if healthy():
        return "admissible", {"admissible": 0.8, "rejected": 0.1, "deferred": 0.1}
    return "deferred", {"admissible": 0.2, "rejected": 0.1, "deferred": 0.7}
''',
    # The model does not see the case id; the tests use the applicant id as case id, and the
    # model sees that as an input.
    "flaky": HEALTHY + '''
import zlib

def predict(row):
    if not healthy() and zlib.crc32(row["applicant_id"].encode()) % 100 < 30:
        raise RuntimeError("transient failure")
    return ("admissible", {"admissible": 0.8, "rejected": 0.2}) if row["documents_complete"] >= 0.6 \\
        else ("rejected", {"admissible": 0.3, "rejected": 0.7})
''',
}
CAUSE = {"raises": "error", "sleeps": "timeout", "nan": "invalid_output", "unknown_label": "invalid_output",
         "flaky": "error"}


def flaky_fails(case_id: str) -> bool:
    """The flaky model's own rule: which cases it fails on."""
    return zlib.crc32(case_id.encode()) % 100 < 30


def _metadata(labels: list[str]) -> dict:
    return {
        "model": {"format": "entrypoint", "entry": "model:predict"},
        "signature": {"inputs": [{"name": n, "type": apps.FIELDS[n]} for n in MODEL_INPUTS],
                      "outputs": {"labels": labels, "probabilities": True}},
        "training_data": {"reference": "none: a fault injected on purpose", "sha256": "0" * 64},
        "trained_at": "2026-01-01",
        "datasets": [{"name": "none", "reference": "none"}],
        "code_revision": "tests/gateway/test_chaos.py",
        "author": "tests",
        "intended_use": "chaos testing of the gateway",
        "limitations": "always or often wrong, on purpose",
    }


def _serve_fault(ctx, tmp_path, fault: str):
    """Declare the demo service with a short timeout, register the faulty version, route it."""
    body = yaml.safe_load(spec_resource().read_text(encoding="utf-8"))
    body["timeout_ms"] = TIMEOUT_MS if fault == "sleeps" else GENEROUS_TIMEOUT_MS
    body["circuit_breaker"] = FLAKY_BREAKER if fault == "flaky" else ALWAYS_FAILING_BREAKER
    spec = parse_spec(body, "chaos spec")
    apply_spec(ctx, spec)
    artifact = tmp_path / "artifact"
    artifact.mkdir()
    (artifact / "model.py").write_text(MODELS[fault])
    labels = ["admissible", "rejected"] + (["deferred"] if fault == "unknown_label" else [])
    metadata = tmp_path / "metadata.json"
    metadata.write_text(json.dumps(_metadata(labels)))
    record = register_version(ctx, SERVICE_NAME, artifact, metadata)
    set_route(ctx, SERVICE_NAME, "production", stable=record.name)  # set up as a test fixture, not by hand
    return spec


def _decision_row(id_: str) -> dict:
    return {"id": id_, "reference": f"LIC-{id_[-16:].upper()}", "service": SERVICE_NAME, "environment": "production",
            "case_pseudonym": id_, "arm": None, "routed_version_id": None, "served_by": "rules",
            "decision": "rejected", "probabilities": None, "fallback_cause": "no_route", "latency_ms": 0.1,
            "model_latency_ms": None, "inputs": {}, "route_revision": None, "step": None,
            "created_at": datetime.now(timezone.utc)}


@pytest.mark.parametrize("fault", list(MODELS))
def test_every_request_is_answered_and_logged_under_a_fault(ctx, tmp_path, fault, monkeypatch):
    spec = _serve_fault(ctx, tmp_path, fault)
    monkeypatch.setenv("RELEVO_TEST_FAULT", "on")  # registered while healthy; failing from now on
    applications = apps.generate(REQUESTS, seed=5)
    requests = [{name: row[name] for name in spec.inputs} for row in applications]
    case_ids = [row["applicant_id"] for row in applications]
    assert len(set(case_ids)) == REQUESTS

    gateway = Gateway(ctx, pseudonym_key=b"k" * 32)
    # A full garbage collection of this process (pytest, scikit-learn, SQLAlchemy, ...) stops
    # every thread for 150-200 ms here, so calls in flight would time out whatever the model
    # does. Freezing the heap built so far keeps full collections to what the load allocates,
    # as a serving process does after start-up.
    gc.collect()
    gc.freeze()
    try:
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            answers = list(pool.map(lambda i: gateway.decide(SERVICE_NAME, case_ids[i], requests[i]),
                                    range(REQUESTS)))
    finally:
        gc.unfreeze()
        gateway.close()

    # Every request got a Decision, and the log holds exactly those decisions, as answered.
    assert len(answers) == REQUESTS and len({a.id for a in answers}) == REQUESTS
    with ctx.engine.connect() as conn:
        logged = {r.id: r for r in conn.execute(
            select(decisions.c.id, decisions.c.served_by, decisions.c.fallback_cause, decisions.c.decision))}
        reviews = set(conn.execute(select(manual_reviews.c.decision_id)).scalars())
    assert len(logged) == REQUESTS and logged.keys() == {a.id for a in answers}
    for a in answers:
        row = logged[a.id]
        assert (row.served_by, row.fallback_cause) == (a.served_by, a.fallback_cause)
        assert row.decision == (None if a.served_by == "manual" else a.decision)
    assert Counter(r.served_by for r in logged.values()) == Counter(a.served_by for a in answers)
    assert Counter(r.fallback_cause for r in logged.values()) == Counter(a.fallback_cause for a in answers)
    assert reviews == {a.id for a in answers if a.served_by == "manual"}

    # Fallbacks went down the chain: the rules where one applies, manual review otherwise.
    rules = Rules(spec.fallback, spec.decisions)
    for a, inputs in zip(answers, requests):
        if a.served_by != "version":
            ruled = rules.answer(inputs)
            assert (a.served_by, a.decision) == (("rules", ruled.decision) if ruled else ("manual", "manual_review"))

    causes = Counter(a.fallback_cause for a in answers)
    if fault == "flaky":
        failing = {case for case in case_ids if flaky_fails(case)}
        assert 0.27 < len(failing) / REQUESTS < 0.33
        assert causes == {None: REQUESTS - len(failing), "error": len(failing)}  # the breaker never opened
        assert {c for a, c in zip(answers, case_ids) if a.fallback_cause == "error"} == failing
        for a, inputs in zip(answers, requests):
            if a.fallback_cause is None:
                assert a.served_by == "version"
                assert a.decision == ("admissible" if inputs["documents_complete"] >= 0.6 else "rejected")
        return

    # Always failing: min_calls failures open the circuit, plus those already past its check.
    min_calls = ALWAYS_FAILING_BREAKER["min_calls"]
    assert set(causes) <= {CAUSE[fault], "circuit_open"}
    assert min_calls <= causes[CAUSE[fault]] <= min_calls + WORKERS - 1
    assert causes["circuit_open"] == REQUESTS - causes[CAUSE[fault]]
    if fault == "sleeps":
        # The citizen's answer waited for the timeout, not for the sleeping model.
        waited = [a.latency_ms for a in answers if a.fallback_cause == "timeout"]
        assert min(waited) >= TIMEOUT_MS and max(waited) < SLEEP_S * 1000


def test_a_bad_row_fails_only_its_own_request(ctx):
    """Under load, a row the store refuses fails its own write; the rest of its batch commits."""
    log = DecisionLog(ctx.engine)
    poison = _decision_row("0" * 32)
    log.write([(decisions, poison)])

    def write(i: int) -> tuple[str, bool]:
        # Every 50th write repeats a committed id, so the store refuses it.
        row = poison if i % 50 == 49 else _decision_row(uuid.uuid4().hex)
        try:
            log.write([(decisions, row)])
            return row["id"], True
        except StoreUnavailable as exc:
            assert "refused the decision" in str(exc)
            return row["id"], False

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        results = list(pool.map(write, range(2_000)))
    log.close()
    with ctx.engine.connect() as conn:
        stored = set(conn.execute(select(decisions.c.id)).scalars())
    assert [id_ for id_, ok in results if not ok] == [poison["id"]] * 40
    assert stored == {id_ for id_, ok in results if ok} | {poison["id"]}


def test_writes_that_wait_too_long_are_withdrawn_not_recorded(ctx, monkeypatch):
    """While a commit hangs, queued writes give up at their timeout and leave nothing behind."""
    log = DecisionLog(ctx.engine)
    real_insert, hung = log._insert, threading.Event()

    def hanging_insert(by_table):
        if not hung.is_set():
            hung.set()
            time.sleep(0.5)
        real_insert(by_table)

    monkeypatch.setattr(log, "_insert", hanging_insert)
    first = _decision_row(uuid.uuid4().hex)
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        leader = pool.submit(log.write, [(decisions, first)])
        hung.wait(5)
        queued = [_decision_row(uuid.uuid4().hex) for _ in range(WORKERS - 1)]
        waits = [pool.submit(log.write, [(decisions, row)], timeout=0.1) for row in queued]
        leader.result(timeout=5)
        for wait in waits:
            with pytest.raises(StoreUnavailable, match="did not confirm"):
                wait.result(timeout=5)
    later = _decision_row(uuid.uuid4().hex)
    log.write([(decisions, later)], timeout=5)
    log.close()
    with ctx.engine.connect() as conn:
        assert set(conn.execute(select(decisions.c.id)).scalars()) == {first["id"], later["id"]}
