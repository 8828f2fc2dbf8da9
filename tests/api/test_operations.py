"""Service listing, examples, health, readiness, the OpenAPI document and the metrics."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from relevo.demo import SERVICE_NAME

from tests.api.conftest import Served, demo_inputs


def test_services_and_example(served: Served):
    listing = served.client.get("/v1/services")
    assert listing.status_code == 200
    [service] = listing.json()["services"]
    assert service["name"] == SERVICE_NAME and service["environment"] == "production"
    assert service["decisions"] == ["admissible", "rejected"] and "licence applications" in service["description"]
    assert service["route"] == {"mode": "stable", "weight": 0.0, "stable": "v1", "candidate": None,
                                "candidate_spec_sha256": None, "revision": 1, "fallback_forced": False}

    example = served.client.get(f"/v1/services/{SERVICE_NAME}/example")
    assert example.status_code == 200
    body = example.json()
    assert set(body) == {"case_id", "inputs"} and body["inputs"]["district"] == "centre"
    answer = served.client.post(f"/v1/services/{SERVICE_NAME}/decisions", json=body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["served_by"] == "version"


def test_health_and_readiness(served: Served):
    assert served.client.get("/healthz").json() == {"status": "ok"}
    ready = served.client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    assert ready.json()["services"] == [SERVICE_NAME]

    try:
        for _ in range(5):
            served.gateway.last_refresh_error = "connection refused"  # as the poller records a failed refresh
            not_ready = served.client.get("/readyz")
            if served.gateway.last_refresh_error is not None:
                break  # the poller's next (successful) refresh did not clear it while we asked
        assert not_ready.status_code == 503
        # The part that fails is named; what the store said stays in the server log.
        assert not_ready.json()["status"] == "unavailable"
        assert "routing table could not be refreshed" in not_ready.json()["reason"]
        assert "connection refused" not in not_ready.text
    finally:
        served.gateway.last_refresh_error = None

    served.ctx.engine.dispose()  # nothing breaks for good when connections are dropped
    assert served.client.get("/readyz").status_code == 200


def test_openapi_describes_each_service(served: Served):
    document = served.client.get("/openapi.json").json()
    paths = document["paths"]
    for path, method in [("/v1/services/{service}/decisions", "post"), ("/v1/decisions/{decision_id}", "get"),
                         ("/v1/decisions/{decision_id}/feedback", "post"), ("/v1/reviews", "get"),
                         ("/v1/reviews/{decision_id}/claim", "post"), ("/v1/reviews/{decision_id}/resolve", "post"),
                         ("/v1/services", "get"), ("/v1/services/{service}/example", "get"), ("/healthz", "get"),
                         ("/readyz", "get"), ("/metrics", "get")]:
        assert method in paths.get(path, {}), path
    generic = document["components"]["schemas"]["DecisionRequest"]
    assert generic["required"] == ["case_id", "inputs"] and generic["additionalProperties"] is False
    assert generic["properties"]["case_id"]["maxLength"] == 200

    concrete = paths[f"/v1/services/{SERVICE_NAME}/decisions"]["post"]
    ref = concrete["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][ref.rsplit("/", 1)[1]]["properties"]["inputs"]
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == {"licence_type", "district", "documents_complete", "zoning_compatible",
                                       "prior_infractions", "applicant_kind", "submission_channel"}
    props = schema["properties"]
    assert props["district"]["enum"] == ["centre", "north", "south", "east", "west", "harbour"]
    assert (props["documents_complete"]["type"], props["documents_complete"]["minimum"],
            props["documents_complete"]["maximum"]) == ("number", 0, 1)
    assert props["prior_infractions"]["type"] == "integer"
    assert {"type": "null"} in props["age_band"]["anyOf"]
    error = concrete["responses"]["422"]["content"]["application/json"]["schema"]["$ref"]
    assert error.endswith("/ErrorBody")

    # Swagger UI and ReDoc come from this server, not a CDN: they work on a network without internet.
    import re

    for page, needle in (("/docs", "swagger"), ("/redoc", "redoc")):
        html = served.client.get(page)
        assert html.status_code == 200 and needle in html.text.lower(), page
        assert re.findall(r"https?://", html.text) == [], f"{page} loads something from elsewhere"
        assets = re.findall(r"""(?:src|href)=["'](/[^"']+)["']""", html.text) + re.findall(r"url: ?'(/[^']+)'", html.text)
        assert any(a.endswith(".js") for a in assets), assets
        for asset in assets:
            answer = served.client.get(asset)
            assert answer.status_code == 200 and len(answer.content) > 100, asset


def _decisions_total(text: str) -> dict[tuple[str, str, str], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "relevo_decisions_total":
                labels = sample.labels
                out[(labels["service"], labels["version"], labels["served_by"])] = sample.value
    return out


def test_metrics_count_the_decisions_sent(served: Served):
    for i in range(7):
        assert served.decide(demo_inputs(), case_id=f"m-{i}").status_code == 200
    assert served.decide(demo_inputs(district="mars")).status_code == 422  # rejected: not a decision
    response = served.client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    assert _decisions_total(response.text) == {(SERVICE_NAME, "v1", "version"): 7.0}
    rejected = [s for f in text_string_to_metric_families(response.text) for s in f.samples
                if s.name == "relevo_requests_rejected_total"]
    assert [(s.labels["service"], s.value) for s in rejected] == [(SERVICE_NAME, 1.0)]


def test_metrics_count_the_changes_recorded(served: Served):
    """Every committed change is counted by its audit action; a refused one is not."""
    def changes() -> dict[str, float]:
        text = served.client.get("/metrics").text
        return {s.labels["action"]: s.value for f in text_string_to_metric_families(text) for s in f.samples
                if s.name == "relevo_changes_total"}

    before = changes()
    decision = served.decide(demo_inputs(), case_id="c-1").json()
    other = "rejected" if decision["decision"] == "admissible" else "admissible"
    ok = served.client.post(f"/v1/decisions/{decision['decision_id']}/feedback",
                            json={"decision": other, "reason": "documents were missing", "reviewer": "tester"})
    assert ok.status_code == 200, ok.text
    refused = served.client.post(f"/v1/decisions/{decision['decision_id']}/feedback",
                                 json={"decision": "maybe", "reason": "", "reviewer": "tester"})
    assert refused.status_code == 422
    after = changes()
    assert after.get("decision.corrected", 0) - before.get("decision.corrected", 0) == 1
    assert sum(after.values()) - sum(before.values()) == 1
