"""Every call checked: bearer tokens on every endpoint but the health checks, roles per endpoint
(a matrix of endpoints and roles), 401 that says nothing more, 403 naming the role, 429 after
repeated failures (audited), and personal inputs shown only to those allowed to see them."""

from __future__ import annotations

import httpx
import pytest

from relevo.audit import read_events
from relevo.demo import SERVICE_NAME
from relevo.routing.table import set_fallback

from tests.api.conftest import Served, bearer, demo_inputs, token_for

DECIDE = f"/v1/services/{SERVICE_NAME}/decisions"
ROLES = ("client", "case_worker", "operator", "auditor", "dpo", "publisher", "approver", "admin")


def _calls(decision_id: str, queued_id: str):
    """(endpoint, request) for every endpoint, and the roles that may call it."""
    return [
        ("decide", lambda c: c.post(DECIDE, json={"case_id": "m", "inputs": demo_inputs()}), {"client", "admin"}),
        ("read decision", lambda c: c.get(f"/v1/decisions/{decision_id}"),
         {"client", "case_worker", "operator", "auditor", "dpo", "admin"}),
        ("feedback", lambda c: c.post(f"/v1/decisions/{decision_id}/feedback",
                                      json={"decision": "rejected", "reason": "matrix"}), {"case_worker", "admin"}),
        ("list reviews", lambda c: c.get("/v1/reviews"), {"case_worker", "dpo", "admin"}),
        ("claim", lambda c: c.post(f"/v1/reviews/{queued_id}/claim", json={}), {"case_worker", "admin"}),
        ("list services", lambda c: c.get("/v1/services"), set(ROLES)),
        ("example", lambda c: c.get(f"/v1/services/{SERVICE_NAME}/example"), set(ROLES)),
        ("metrics", lambda c: c.get("/metrics"), {"operator", "auditor", "admin"}),
    ]


def test_every_endpoint_against_every_role(served: Served):
    decision_id = served.decide(demo_inputs(), case_id="matrix").json()["decision_id"]
    set_fallback(served.ctx, SERVICE_NAME, "production", True)
    served.gateway.refresh()
    queued = [served.decide(demo_inputs(), case_id=f"q-{r}").json()["decision_id"] for r in ROLES]
    set_fallback(served.ctx, SERVICE_NAME, "production", False)
    served.gateway.refresh()
    seen = {}
    for i, role in enumerate(ROLES):
        client = served.as_(f"matrix-{role.replace('_', '-')}", role)
        for name, call, allowed in _calls(decision_id, queued[i]):
            response = call(client)
            seen[(name, role)] = response.status_code
            if role in allowed:
                assert response.status_code == 200, (name, role, response.text)
            else:
                assert response.status_code == 403, (name, role, response.text)
                assert "role" in response.json()["error"]["message"], (name, role)
    assert served.app.state.internal_errors == 0


def test_a_role_for_another_service_is_no_role_here(served: Served):
    elsewhere = served.as_("portal-elsewhere", "client", service="request-triage")
    refused = elsewhere.post(DECIDE, json={"case_id": "x", "inputs": demo_inputs()})
    assert refused.status_code == 403 and f"client role for {SERVICE_NAME}" in refused.json()["error"]["message"]
    decision_id = served.decide(demo_inputs(), case_id="other-service").json()["decision_id"]
    worker = served.as_("cw-elsewhere", "case_worker", service="request-triage")
    answer = worker.post(f"/v1/decisions/{decision_id}/feedback", json={"decision": "rejected", "reason": ""})
    assert answer.status_code == 403 and "case_worker role for licence-prefilter" in answer.json()["error"]["message"]


def test_no_valid_token_gets_401_saying_nothing_more(served: Served):
    anonymous = httpx.Client(base_url=served.url)
    admin = served.ctx
    expired_token = token_for(admin, "brief", "client")
    from relevo import identity

    info = identity.list_tokens(admin, "brief")[0]
    identity.revoke_token(admin, info.id)
    try:
        answers = [
            anonymous.post(DECIDE, json={"case_id": "a", "inputs": demo_inputs()}),
            anonymous.get("/v1/reviews", headers={"Authorization": "Bearer not-a-token"}),
            anonymous.get("/v1/services", headers={"Authorization": "Basic dXNlcjpwdw=="}),
            anonymous.get("/v1/services", headers=bearer(expired_token)),  # revoked
            anonymous.get("/v1/services", headers=bearer(served.token[:-2] + "xx")),  # wrong secret
        ]
        for answer in answers:
            assert answer.status_code == 401, answer.text
            assert answer.json() == {"error": {"type": "unauthorized", "message": "a valid bearer token is needed"}}
            assert answer.headers["WWW-Authenticate"] == "Bearer"
        assert anonymous.get("/healthz").status_code == 200  # the health checks stay open
        assert anonymous.get("/readyz").status_code == 200
    finally:
        anonymous.close()


def test_repeated_failures_are_rate_limited_and_audited(served: Served):
    anonymous = httpx.Client(base_url=served.url, headers={"Authorization": "Bearer rlv_000000000000_guess"})
    try:
        codes = [anonymous.get("/v1/services").status_code for _ in range(12)]
        assert codes[:10] == [401] * 10 and codes[10:] == [429, 429]
        limited = anonymous.get("/v1/services")
        assert int(limited.headers["Retry-After"]) >= 1 and limited.json()["error"]["type"] == "too_many_attempts"
    finally:
        anonymous.close()
    failures = read_events(served.ctx, action="auth.", limit=100)
    assert [e.action for e in failures] == ["auth.failed"] * 9 + ["auth.rate_limited"]
    assert all(e.actor == "anonymous" and "127.0.0.1" not in str(e.details) for e in failures)


def _failing_from(url: str, client_address: str | None, times: int) -> list[int]:
    headers = {"Authorization": "Bearer rlv_000000000000_guess"}
    if client_address is not None:
        headers["X-Forwarded-For"] = client_address
    with httpx.Client(base_url=url, headers=headers) as client:
        return [client.get("/v1/services").status_code for _ in range(times)]


def test_behind_a_trusted_proxy_each_client_has_its_own_limit(served: Served):
    """The proxy (here 127.0.0.1, the default) names the client: one client's failures do not lock
    out the others behind the same proxy."""
    assert _failing_from(served.url, "203.0.113.7", 11) == [401] * 10 + [429]
    assert _failing_from(served.url, "203.0.113.8", 1) == [401]  # another citizen behind the same proxy
    assert served.client.get("/v1/services").status_code == 200


def test_an_untrusted_sender_cannot_choose_its_address(served: Served):
    """With no proxy trusted, X-Forwarded-For is ignored: a new forged address per request does
    not escape the limit."""
    from relevo.api import create_app
    from relevo.api.server import serving

    with serving(create_app(served.settings.model_copy(update={"api_trusted_proxies": ""}), served.gateway)) as url:
        codes = [_failing_from(url, f"198.51.100.{i}", 1)[0] for i in range(11)]
    assert codes == [401] * 10 + [429]


def test_personal_and_protected_inputs_only_for_case_workers_and_the_dpo(served: Served):
    decision_id = served.decide(demo_inputs(), case_id="privacy").json()["decision_id"]
    portal = served.as_("portal-reader", "client").get(f"/v1/decisions/{decision_id}").json()["inputs"]
    assert portal["applicant_id"] == portal["age_band"] == portal["nationality_group"] == "(withheld)"
    assert portal["district"] == "north"  # what is neither personal nor protected stays
    dpo = served.as_("dpo", "dpo").get(f"/v1/decisions/{decision_id}").json()["inputs"]
    assert dpo["age_band"] == "30-44" and dpo["applicant_id"].startswith("hmac:")


def test_the_openapi_document_declares_the_bearer_scheme(served: Served):
    document = served.client.get("/openapi.json").json()
    assert document["components"]["securitySchemes"]["token"] == {
        "type": "http", "scheme": "bearer", "description": "A Relevo token: `relevo token create NAME` makes one (shown once)."}
    decide = document["paths"][DECIDE]["post"]
    assert decide["security"] == [{"token": []}]
    assert "security" not in document["paths"]["/healthz"]["get"]


@pytest.mark.parametrize("public", [True])
def test_metrics_can_be_opened_to_a_closed_network(served: Served, public):
    from relevo.api import create_app
    from relevo.api.server import serving

    with serving(create_app(served.settings.model_copy(update={"api_metrics_public": public}), served.gateway)) as url:
        assert httpx.get(f"{url}/metrics").status_code == 200
        assert httpx.get(f"{url}/v1/services").status_code == 401
