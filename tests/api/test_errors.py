"""Every kind of bad request: the status, the one error shape, and the field named."""

from __future__ import annotations

import json

import httpx

from relevo.api import create_app
from relevo.demo import SERVICE_NAME

from tests.api.conftest import bearer, Served, demo_inputs, serving

DECIDE = f"/v1/services/{SERVICE_NAME}/decisions"


def _body(inputs=None, **top):
    return json.dumps({"case_id": "case-9", "inputs": demo_inputs() if inputs is None else inputs} | top)


# (name, raw JSON body, status, error type, text the message must contain)
BAD_BODIES = [
    ("malformed JSON", '{"case_id": "x", "inputs": {', 422, "invalid_input", "body: malformed JSON"),
    ("not JSON at all", "case_id=x", 422, "invalid_input", "body: malformed JSON"),
    ("NaN literal", _body(demo_inputs(documents_complete=0.5)).replace("0.5", "NaN"), 422, "invalid_input",
     "inputs.documents_complete"),
    ("missing case_id", json.dumps({"inputs": demo_inputs()}), 422, "invalid_input", "case_id: Field required"),
    ("empty case_id", _body(case_id=""), 422, "invalid_input", "case_id"),
    ("case_id too long", _body(case_id="x" * 201), 422, "invalid_input", "case_id"),
    ("case_id not a string", _body(case_id=17), 422, "invalid_input", "case_id"),
    ("case_id with NUL", _body(case_id="a\u0000b"), 422, "invalid_input", "case_id: must not contain NUL"),
    ("missing inputs", json.dumps({"case_id": "x"}), 422, "invalid_input", "inputs: Field required"),
    ("inputs not an object", _body(inputs=[1, 2]), 422, "invalid_input", "inputs"),
    ("inputs a string", _body(inputs="all good"), 422, "invalid_input", "inputs"),
    ("extra top-level field", _body(priority="high"), 422, "invalid_input", "priority"),
    ("wrong type: string for number", _body(demo_inputs(documents_complete="high")), 422, "invalid_input",
     "inputs.documents_complete"),
    ("wrong type: boolean for number", _body(demo_inputs(documents_complete=True)), 422, "invalid_input",
     "inputs.documents_complete"),
    ("wrong type: float for integer", _body(demo_inputs(prior_infractions=1.5)), 422, "invalid_input",
     "inputs.prior_infractions"),
    ("wrong type: string for boolean", _body(demo_inputs(zoning_compatible="yes")), 422, "invalid_input",
     "inputs.zoning_compatible"),
    ("out of range: above maximum", _body(demo_inputs(prior_infractions=101)), 422, "invalid_input",
     "inputs.prior_infractions"),
    ("out of range: below minimum", _body(demo_inputs(documents_complete=-0.1)), 422, "invalid_input",
     "inputs.documents_complete"),
    ("unknown enum value", _body(demo_inputs(district="mars")), 422, "invalid_input", "inputs.district"),
    ("extra input field", _body(demo_inputs(colour="blue")), 422, "invalid_input", "inputs.colour"),
    ("missing required input", _body(demo_inputs(zoning_compatible=...)), 422, "invalid_input",
     "inputs.zoning_compatible"),
    ("string input too long", _body(demo_inputs(applicant_id="x" * 41)), 422, "invalid_input",
     "inputs.applicant_id"),
    ("NUL inside an input", _body(demo_inputs(applicant_id="A\u00001")), 422, "invalid_input",
     "inputs.applicant_id"),
]


def test_bad_decision_requests(served: Served):
    """One server, every malformed decision request; all mismatches reported together."""
    wrong = []
    for name, raw, status, kind, needle in BAD_BODIES:
        response = served.client.post(DECIDE, content=raw, headers={"content-type": "application/json"})
        body = response.json()
        error = body.get("error", {})
        fields = [f.get("field") for f in error.get("fields") or []]
        if (response.status_code, error.get("type")) != (status, kind) or needle not in error.get("message", "") \
                or needle.split(":")[0] not in fields:
            wrong.append(f"{name}: {response.status_code} {body}")
    assert not wrong, "\n".join(wrong)
    assert served.client.get("/metrics").text.count("relevo_decisions_total{") == 0  # none was decided


def test_other_bad_requests(served: Served):
    client = served.client
    cases = [
        (client.post("/v1/services/no-such-service/decisions", json={"case_id": "x", "inputs": demo_inputs()}),
         404, "not_found", "no-such-service"),
        (client.get("/v1/services/no-such-service/example"), 404, "not_found", "no-such-service"),
        (client.get("/v1/decisions/0123456789abcdef0123456789abcdef"), 404, "not_found",
         "0123456789abcdef0123456789abcdef"),
        (client.get("/v1/decisions/not%20an%20id"), 422, "invalid_input", "decision_id"),
        (client.post(DECIDE), 422, "invalid_input", "body: a JSON body is required"),
        (client.post(DECIDE, content=b"\xff\xfe", headers={"content-type": "application/json"}), 422,
         "invalid_input", "body: malformed JSON"),
        (client.post(DECIDE, content=_body(), headers={"content-type": "text/plain"}), 415, "unsupported_media_type",
         "Content-Type: application/json"),
        (client.post(DECIDE, content='{"case_id": "x", "inputs": {"a": ' + "[" * 20000 + "]" * 20000 + "}}",
                     headers={"content-type": "application/json"}), 400, "invalid_request", "error parsing the body"),
        (client.post(DECIDE, content='{"case_id": "x", "inputs": {"a": ' + "[" * 900 + "]" * 900 + "}}",
                     headers={"content-type": "application/json"}), 422, "invalid_input", "inputs.a"),
        (client.post(DECIDE, headers={"content-type": "application/json"},
                     content=_body(demo_inputs(prior_infractions=0)).replace(
                         '"prior_infractions": 0', '"prior_infractions": 1' + "0" * 5000)),  # beyond int parsing
         400, "invalid_request", "error parsing the body"),
        (client.get("/v1/reviews", params={"status": "lost"}), 422, "invalid_input", "status"),
        (client.get("/v1/reviews", params={"limit": 0}), 422, "invalid_input", "limit"),
        (client.get("/v1/reviews", params={"service": "a\u0000b"}), 422, "invalid_input", "service"),
        (client.post("/v1/reviews/0123456789abcdef0123456789abcdef/claim", json={"reviewer": ""}), 422,
         "invalid_input", "reviewer"),
        (client.post("/v1/reviews/0123456789abcdef0123456789abcdef/claim", json={}), 404,
         "not_found", "0123456789abcdef0123456789abcdef"),
        (client.get(DECIDE), 405, "method_not_allowed", "Method Not Allowed"),
        (client.get("/v2/anything"), 404, "not_found", "/v2/anything"),
    ]
    for response, status, kind, needle in cases:
        where = f"{response.request.method} {response.request.url}"
        assert response.status_code == status, (where, response.text)
        error = response.json()["error"]
        assert error["type"] == kind and needle in error["message"], (where, error)


def test_oversized_bodies_are_refused(served: Served):
    big = _body(demo_inputs(applicant_id="x" * (70 * 1024)))
    declared = served.client.post(DECIDE, content=big, headers={"content-type": "application/json"})
    assert declared.status_code == 413
    assert declared.json()["error"]["type"] == "payload_too_large"
    assert "65536 bytes" in declared.json()["error"]["message"]

    def chunks():  # no Content-Length: sent chunked, counted as it arrives
        for _ in range(80):
            yield b" " * 1024

    streamed = served.client.post(DECIDE, content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413 and streamed.json()["error"]["type"] == "payload_too_large"

    def small():  # a chunked body under the limit is passed on intact
        body = _body().encode()
        yield body[:10]
        yield body[10:]

    fine = served.client.post(DECIDE, content=small(), headers={"content-type": "application/json"})
    assert fine.status_code == 200, fine.text


def test_the_body_limit_is_configurable(served: Served):
    with (serving(create_app(served.settings.model_copy(update={"api_max_body_kb": 1}), served.gateway)) as url,
          httpx.Client(base_url=url, headers=bearer(served.token)) as client):
        assert client.post(DECIDE, content=_body(), headers={"content-type": "application/json"}).status_code == 200
        too_big = client.post(DECIDE, content=_body(case_id="x" * 1100), headers={"content-type": "application/json"})
        assert too_big.status_code == 413 and "1024 bytes" in too_big.json()["error"]["message"]
