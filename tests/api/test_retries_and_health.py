"""Safe retries (Idempotency-Key), unambiguous bodies, and health that tells the truth and no more:
over real HTTP, on both engines."""

from __future__ import annotations

import json
import os
import threading
import time
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import create_engine, func, select, text

from relevo.api import create_app
from relevo.api.server import serving
from relevo.context import Context
from relevo.demo import SERVICE_NAME
from relevo.gateway.gateway import Gateway
from relevo.gateway.idempotency import RETENTION, forget_old_keys
from relevo.errors import Conflict
from relevo.gateway.validation import InputRejected
from relevo.registry.queries import resolve_version
from relevo.store import connect
from relevo.store.tables import decisions, idempotency_keys

from tests.conftest import demo_training
from tests.api.conftest import KEY, TESTER_ROLES, Served, bearer, demo_inputs, token_for

DECIDE = f"/v1/services/{SERVICE_NAME}/decisions"


def _post(served: Served, body: dict, key: str | bytes | None = None, **headers) -> httpx.Response:
    if key is not None:
        headers["Idempotency-Key"] = key
    return served.client.post(DECIDE, json=body, headers=headers)


def _count(ctx, table) -> int:
    with connect(ctx.engine) as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar()


def test_a_retry_with_the_same_key_gets_the_recorded_decision(served: Served):
    body = {"case_id": "2026-LIC-0042", "inputs": demo_inputs()}
    first = _post(served, body, '"8e03978e-40d5-43e8-bc93-6894a57f9324"')
    assert first.status_code == 200 and "Idempotent-Replayed" not in first.headers
    # The same request again, spaced and ordered differently on the wire: the same decision.
    again = served.client.post(DECIDE, content=json.dumps({"inputs": demo_inputs(), "case_id": "2026-LIC-0042"},
                                                          indent=2),
                               headers={"content-type": "application/json",
                                        "Idempotency-Key": '"8e03978e-40d5-43e8-bc93-6894a57f9324"'})
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert _count(served.ctx, decisions) == 1

    other = _post(served, {"case_id": "2026-LIC-0043", "inputs": demo_inputs()}, '"8e03978e-40d5-43e8-bc93-6894a57f9324"')
    # A well-formed request that contradicts what the key stands for: a conflict, not to be retried.
    assert other.status_code == 409 and "already used for another request" in other.json()["error"]["message"]
    assert "Retry-After" not in other.headers
    assert _count(served.ctx, decisions) == 1
    # Without a key every request is a new decision; a bad key is refused before anything is decided.
    assert _post(served, body).json()["decision_id"] != first.json()["decision_id"]
    assert _post(served, body, "caf\u00e9".encode()).status_code == 422  # not printable ASCII
    assert _post(served, body, '""').status_code == 422  # empty
    assert _count(served.ctx, decisions) == 2


def test_the_key_survives_a_restart_and_is_forgotten_after_its_retention(served: Served):
    body = {"case_id": "restart-1", "inputs": demo_inputs()}
    first = _post(served, body, "order-77")
    with Gateway(served.ctx, "production", pseudonym_key=KEY) as other:  # another replica, or after a restart
        replayed = other.decide(SERVICE_NAME, "restart-1", demo_inputs(), idempotency_key="order-77")
    assert replayed.replayed and replayed.id == first.json()["decision_id"]
    with Gateway(served.ctx, "staging", pseudonym_key=KEY) as staging:  # a key is its environment's
        with pytest.raises(Conflict, match="already used for another request"):
            staging.decide(SERVICE_NAME, "restart-1", demo_inputs(), idempotency_key="order-77")
    with connect(served.ctx.engine) as conn:
        assert forget_old_keys(conn, served.ctx.clock.now() + RETENTION - timedelta(minutes=1)) == 0  # kept 48 h
        assert forget_old_keys(conn, served.ctx.clock.now() + RETENTION + timedelta(minutes=1)) == 1
    assert RETENTION >= timedelta(hours=24)
    assert _post(served, body, "order-77").json()["decision_id"] != first.json()["decision_id"]


def test_a_retry_while_the_first_is_being_answered_gets_409(served: Served):
    body = {"case_id": "slow-1", "inputs": demo_inputs()}
    gate, entered = threading.Event(), threading.Event()
    real = served.gateway._decide

    def slow(*args, **kwargs):  # the first request is still being answered when the retry arrives
        entered.set()
        gate.wait(10)
        return real(*args, **kwargs)

    served.gateway._decide = slow
    try:
        results = {}
        worker = threading.Thread(target=lambda: results.update(first=_post(served, body, "k-slow")))
        worker.start()
        assert entered.wait(10)
        retry = _post(served, body, "k-slow")
        gate.set()
        worker.join(10)
    finally:
        served.gateway._decide = real
    assert retry.status_code == 409 and "still being answered" in retry.json()["error"]["message"]
    assert retry.headers["Retry-After"] == "1"
    assert results["first"].status_code == 200
    assert _post(served, body, "k-slow").headers["Idempotent-Replayed"] == "true"
    assert _count(served.ctx, idempotency_keys) == 1


def test_bodies_must_be_one_unambiguous_json_document(served: Served):
    duplicated = '{"case_id": "a", "case_id": "b", "inputs": %s}' % json.dumps(demo_inputs())
    r = served.client.post(DECIDE, content=duplicated, headers={"content-type": "application/json"})
    assert r.status_code == 400 and "the key 'case_id' more than once" in r.json()["error"]["message"]
    nested = '{"case_id": "a", "inputs": {"district": "north", "district": "south"}}'
    r = served.client.post(DECIDE, content=nested, headers={"content-type": "application/json"})
    assert r.status_code == 400 and "'district'" in r.json()["error"]["message"]
    form = served.client.post(DECIDE, data={"case_id": "a"})
    assert form.status_code == 415 and form.json()["error"]["type"] == "unsupported_media_type"
    feedback = served.client.post("/v1/decisions/0123456789abcdef0123456789abcdef/feedback", content="decision=x",
                                  headers={"content-type": "text/plain"})
    assert feedback.status_code == 415
    blank = _post(served, {"case_id": "  \t ", "inputs": demo_inputs()})
    assert blank.status_code == 422 and blank.json()["error"]["fields"][0]["field"] == "case_id"
    assert _count(served.ctx, decisions) == 0
    # and the gateway itself refuses a blank case id, whoever calls it
    with pytest.raises(InputRejected, match="case_id"):
        served.gateway.decide(SERVICE_NAME, "   ", demo_inputs())


def test_readiness_covers_committing_a_decision_and_the_loaded_stable_version(served: Served, settings):
    assert served.client.get("/readyz").json()["status"] == "ready"
    locker = create_engine(settings.resolved_database_url().replace("postgresql://", "postgresql+psycopg://"))
    conn = locker.connect()
    try:
        if locker.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")  # another writer holds the database
        else:
            conn.execute(text("BEGIN"))
            conn.execute(text("LOCK TABLE decisions IN EXCLUSIVE MODE"))  # a migration, a stuck job
        started = time.monotonic()
        ready = served.client.get("/readyz")
        elapsed = time.monotonic() - started
    finally:
        conn.rollback()
        conn.close()
        locker.dispose()
    assert ready.status_code == 503 and "a decision cannot be committed within 2 s" in ready.json()["reason"]
    assert elapsed < 10, f"readiness took {elapsed:.1f} s"
    assert served.client.get("/readyz").json()["status"] == "ready"
    assert _count(served.ctx, decisions) == 0  # the probe's own row was rolled back

    # The stable version fails its integrity check: the service is answered by the fallback only.
    with connect(served.ctx.engine) as c:
        record = resolve_version(c, SERVICE_NAME, "v1")
    stored = served.ctx.blobs.local_path(record.blob_uri) / "model.skops"
    os.chmod(stored, 0o644)
    stored.write_bytes(stored.read_bytes() + b"!")
    served.gateway._loaded.clear()
    served.gateway._seen.clear()
    served.gateway.refresh()
    not_ready = served.client.get("/readyz")
    assert not_ready.status_code == 503
    assert "licence-prefilter: its stable v1 could not be loaded" in not_ready.json()["reason"]
    answer = _post(served, {"case_id": "after-tamper", "inputs": demo_inputs()}).json()
    assert answer["served_by"] in ("rules", "manual")  # a citizen still gets an answer


def test_a_service_without_a_routed_model_is_not_ready(settings):
    from relevo.demo.setup import set_up_demo
    from relevo.routing.table import read_route
    from relevo.store.tables import routes

    set_up_demo(settings, trained=demo_training())
    ctx = Context.open(settings)
    try:
        with connect(ctx.engine) as conn:
            conn.execute(routes.delete())
            assert read_route(conn, SERVICE_NAME, "production") is None
        _second_service(ctx, settings)  # a second service on the same gateway, answering with its model
        token = token_for(ctx, "tester", *TESTER_ROLES)
        gateway = Gateway(ctx, "production", pseudonym_key=KEY).start()
        try:
            with serving(create_app(settings, gateway)) as url:
                ready = httpx.get(f"{url}/readyz")
                ready_for = httpx.get(f"{url}/readyz", params={"service": SERVICE_NAME})
                other = httpx.get(f"{url}/readyz", params={"service": "request-triage"})
                unknown = httpx.get(f"{url}/readyz", params={"service": "nobody"})
                answer = httpx.post(f"{url}{DECIDE}", json={"case_id": "c", "inputs": demo_inputs()},
                                    headers=bearer(token))
        finally:
            gateway.close()
    finally:
        ctx.close()
    assert ready.status_code == 503
    assert "licence-prefilter has no stable version routed in production" in ready.json()["reason"]
    assert answer.status_code == 200 and answer.json()["version"] is None
    assert ready_for.status_code == 503 and ready_for.json()["services"] == [SERVICE_NAME]
    # A load balancer in front of another service asks about that one alone.
    assert other.status_code == 200 and other.json() == {"status": "ready", "reason": None,
                                                         "services": ["request-triage"]}
    assert unknown.status_code == 404


def _second_service(ctx, settings) -> None:
    """request-triage: the demo's spec and v1's artifact under another name, routed to it."""
    import yaml

    from relevo.demo import spec_resource
    from relevo.registry.register import register_version
    from relevo.routing.table import set_route
    from relevo.services.catalogue import apply_spec
    from relevo.services.spec import parse_spec

    apply_spec(ctx, parse_spec(yaml.safe_load(spec_resource().read_text()) | {"name": "request-triage"}, "triage"))
    v1 = demo_training()[0]
    register_version(ctx, "request-triage", v1.artifact_dir, v1.metadata_path)
    set_route(ctx, "request-triage", "production", stable="v1")  # a test fixture, not a change by hand


def test_errors_to_clients_name_the_failing_part_not_the_database(settings, tmp_path):
    """With the database gone, a decision gets 503 that says so, without the address, user or reason."""
    from relevo.demo.setup import set_up_demo

    set_up_demo(settings, trained=demo_training())
    ctx = Context.open(settings)
    token = token_for(ctx, "tester", *TESTER_ROLES)
    gateway = Gateway(ctx, "production", pseudonym_key=KEY)
    try:
        with serving(create_app(settings, gateway)) as url, httpx.Client(base_url=url, headers=bearer(token)) as client:
            assert client.get("/v1/services").status_code == 200  # the token is verified while the store answers
            original = gateway.log.engine
            gateway.log.engine = create_engine("postgresql+psycopg://secret_user:pw@127.0.0.1:9/secret_db",
                                               connect_args={"connect_timeout": 1})
            gateway.log._release_connection()
            gateway.ctx.engine.dispose()
            failed = client.post(DECIDE, json={"case_id": "c", "inputs": demo_inputs()})
            gateway.log.engine = original
    finally:
        gateway.close()
        ctx.close()
    assert failed.status_code == 503 and failed.headers["Retry-After"] == "1"
    body = failed.text
    assert "decision store is unavailable" in body
    for secret in ("secret_user", "secret_db", "127.0.0.1", ":9", "psycopg", "connection"):
        assert secret not in body, secret
