"""Decisions, feedback and the manual-review queue over real HTTP, on both engines."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import anyio.to_thread
import httpx

from relevo.demo import SERVICE_NAME
from relevo.routing.table import set_fallback
from relevo.services.catalogue import apply_spec
from relevo.services.review_policy import ReviewPolicy

from tests.api.conftest import Served, demo_inputs


def _error(response, status: int, kind: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"]["type"] == kind, body
    return body["error"]


def test_decide_read_back_and_correct(served: Served):
    answer = served.decide(demo_inputs(), case_id="2024-LIC-0001")
    assert answer.status_code == 200, answer.text
    d = answer.json()
    assert set(d) == {"decision_id", "decision", "served_by", "reference", "version", "message", "review"}
    assert d["review"] is None
    assert d["served_by"] == "version" and d["version"] == "v1"
    assert d["decision"] in ("admissible", "rejected")
    assert d["reference"].startswith("LIC-") and d["reference"] in d["message"]

    record = served.client.get(f"/v1/decisions/{d['decision_id']}")
    assert record.status_code == 200, record.text
    r = record.json()
    assert (r["decision_id"], r["decision"], r["reference"], r["version"]) == (
        d["decision_id"], d["decision"], d["reference"], "v1")
    assert r["service"] == SERVICE_NAME and r["environment"] == "production" and r["feedback"] == []
    assert r["inputs"]["district"] == "north"
    assert r["inputs"]["applicant_id"].startswith("hmac:")  # personal data is pseudonymised
    assert "2024-LIC-0001" not in record.text

    other = "rejected" if d["decision"] == "admissible" else "admissible"
    fb = served.client.post(f"/v1/decisions/{d['decision_id']}/feedback",
                            json={"decision": other, "reason": "zoning checked by hand"})
    assert fb.status_code == 200, fb.text
    assert fb.json()["outcome"] == "corrected" and fb.json()["decision"] == other

    again = served.client.get(f"/v1/decisions/{d['decision_id']}").json()
    assert [(n["outcome"], n["decision"], n["reviewer"], n["reason"]) for n in again["feedback"]] == [
        ("corrected", other, "tester", "zoning checked by hand")]  # the token's identity, never a name in the body
    assert again["decision"] == d["decision"]  # the original answer stays as it was given


def test_feedback_errors(served: Served):
    d = served.decide(demo_inputs()).json()
    url = f"/v1/decisions/{d['decision_id']}/feedback"
    bad_label = served.client.post(url, json={"decision": "maybe", "reason": ""})
    assert "admissible" in _error(bad_label, 422, "invalid_input")["message"]
    # The case worker is the caller: a body naming someone else is refused, naming the caller.
    impostor = served.client.post(url, json={"decision": d["decision"], "reason": "", "reviewer": "cw"})
    assert "the case worker is the caller (tester)" in _error(impostor, 403, "refused")["message"]
    missing = served.client.post(url, json={"decision": d["decision"]})
    assert "reason" in _error(missing, 422, "invalid_input")["message"]
    unknown = served.client.post("/v1/decisions/0123456789abcdef0123456789abcdef/feedback",
                                 json={"decision": "admissible", "reason": ""})
    assert "0123456789abcdef0123456789abcdef" in _error(unknown, 404, "not_found")["message"]
    confirmed = served.client.post(url, json={"decision": d["decision"], "reason": "ok", "reviewer": "tester"})
    assert confirmed.status_code == 200 and confirmed.json()["outcome"] == "confirmed"


def test_kill_switch_rules_manual_and_the_review_queue(served: Served):
    set_fallback(served.ctx, SERVICE_NAME, "production", True)
    served.gateway.refresh()
    services = served.client.get("/v1/services").json()["services"]
    assert services[0]["route"]["fallback_forced"] is True

    thin = served.decide(demo_inputs(documents_complete=0.2), case_id="thin").json()
    assert (thin["served_by"], thin["decision"], thin["version"]) == ("rules", "rejected", None)
    clear = served.decide(demo_inputs(documents_complete=0.99, prior_infractions=0), case_id="clear").json()
    assert (clear["served_by"], clear["decision"]) == ("rules", "admissible")
    manual = served.decide(demo_inputs(), case_id="unclear").json()
    assert (manual["served_by"], manual["decision"], manual["version"]) == ("manual", "manual_review", None)
    assert manual["message"] == f"passed to manual review, reference {manual['reference']}"
    for answer in (thin, clear, manual):
        assert answer["reference"].startswith("LIC-")
        cause = served.client.get(f"/v1/decisions/{answer['decision_id']}").json()["fallback_cause"]
        assert cause == "kill_switch"

    queue = served.client.get("/v1/reviews", params={"service": SERVICE_NAME, "status": "open"})
    assert queue.status_code == 200, queue.text
    items = queue.json()["reviews"]
    assert [(i["decision_id"], i["reference"], i["status"], i["cause"]) for i in items] == [
        (manual["decision_id"], manual["reference"], "open", "kill_switch")]
    id_ = manual["decision_id"]

    alice, bob = served.as_("alice"), served.as_("bob")
    claimed = alice.post(f"/v1/reviews/{id_}/claim", json={})
    assert claimed.status_code == 200 and claimed.json() == {"decision_id": id_, "status": "claimed",
                                                              "claimed_by": "alice"}
    taken = bob.post(f"/v1/reviews/{id_}/claim", json={})
    assert "alice" in _error(taken, 409, "conflict")["message"]
    not_hers = bob.post(f"/v1/reviews/{id_}/resolve", json={"decision": "admissible", "reason": ""})
    _error(not_hers, 409, "conflict")
    # Feedback is no side door: a case claimed by alice is answered by alice only.
    side_door = bob.post(f"/v1/decisions/{id_}/feedback", json={"decision": "rejected", "reason": "quicker this way"})
    assert "claimed by alice" in _error(side_door, 409, "conflict")["message"]
    assert served.client.get("/v1/reviews", params={"status": "claimed"}).json()["reviews"][0]["claimed_by"] == "alice"

    resolved = alice.post(f"/v1/reviews/{id_}/resolve", json={"decision": "admissible", "reason": "documents arrived"})
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["status"] == "resolved" and resolved.json()["outcome"] == "decided"
    assert served.client.get("/v1/reviews", params={"status": "open"}).json()["reviews"] == []
    assert [i["decision_id"] for i in served.client.get("/v1/reviews", params={"status": "resolved"}).json()[
        "reviews"]] == [id_]
    record = served.client.get(f"/v1/decisions/{id_}").json()
    assert record["review"]["status"] == "resolved" and record["review"]["claimed_by"] == "alice"
    assert [(n["outcome"], n["decision"]) for n in record["feedback"]] == [("decided", "admissible")]

    _error(alice.post(f"/v1/reviews/{id_}/claim", json={}), 409, "conflict")
    not_queued = alice.post(f"/v1/reviews/{thin['decision_id']}/claim", json={})
    _error(not_queued, 404, "not_found")

    set_fallback(served.ctx, SERVICE_NAME, "production", False)
    served.gateway.refresh()
    assert served.decide(demo_inputs()).json()["served_by"] == "version"


def test_concurrent_requests_share_commits(served: Served):
    async def thread_limit() -> int:
        return anyio.to_thread.current_default_thread_limiter().total_tokens

    served.app.add_api_route("/_test/thread-limit", thread_limit)  # read inside the server's event loop
    assert served.client.get("/_test/thread-limit").json() == 256  # raised from anyio's default of 40

    def decide(i: int) -> httpx.Response:
        # A client each: one client's connection pool shared by 120 threads once failed on the
        # client's side (a socket closed under a reading thread: EBADF), not the server's.
        with httpx.Client(base_url=served.url, timeout=60, headers=dict(served.client.headers)) as client:
            return client.post(f"/v1/services/{SERVICE_NAME}/decisions",
                               json={"case_id": f"c-{i}", "inputs": demo_inputs()})

    n = 120
    with ThreadPoolExecutor(max_workers=n) as pool:
        answers = list(pool.map(decide, range(n)))
    assert [a.status_code for a in answers] == [200] * n
    assert len({a.json()["decision_id"] for a in answers}) == n
    # Group commit: concurrent requests waited on shared commits rather than one each.
    assert served.gateway.log.batches < n


def test_repeated_feedback_supersedes_keeping_its_history(served: Served):
    d = served.decide(demo_inputs(), case_id="repeat-1").json()
    other = "rejected" if d["decision"] == "admissible" else "admissible"
    url = f"/v1/decisions/{d['decision_id']}/feedback"
    posted = [served.client.post(url, json={"decision": other, "reason": f"look {i}"})
              for i in range(5)]
    assert [p.status_code for p in posted] == [200] * 5
    assert posted[0].json()["supersedes"] is None and posted[1].json()["supersedes"] is not None
    confirmed = served.client.post(url, json={"decision": d["decision"], "reason": "second look"})
    assert confirmed.json()["outcome"] == "confirmed"
    notes = served.client.get(f"/v1/decisions/{d['decision_id']}").json()["feedback"]
    assert len(notes) == 6 and [n["current"] for n in notes] == [False] * 5 + [True]
    assert [n["reason"] for n in notes] == [f"look {i}" for i in range(5)] + ["second look"]


def test_the_review_policy_holds_answers_until_a_case_worker_decides(served: Served):
    """Answers the spec's review policy names take effect only as a case worker's answer."""
    spec = get_spec_of(served)
    apply_spec(served.ctx, spec.model_copy(update={"review": ReviewPolicy(
        labels=["rejected"], groups={"age_band": ["65+"]})}))
    served.gateway.refresh()

    # A rejection (it affects the citizen's rights) and an older applicant's case, whatever the answer.
    thin = served.client.post(f"/v1/services/{SERVICE_NAME}/decisions", headers={"Idempotency-Key": "thin-1"},
                              json={"case_id": "thin", "inputs": demo_inputs(documents_complete=0.2)}).json()
    assert (thin["served_by"], thin["decision"], thin["review"]) == ("version", "manual_review", "label rejected")
    assert thin["message"] == f"passed to a case worker for review, reference {thin['reference']}"
    older = served.decide(demo_inputs(age_band="65+"), case_id="older").json()
    assert (older["served_by"], older["decision"], older["review"]) == ("version", "manual_review", "group age_band")
    plain = served.decide(demo_inputs(age_band="30-44"), case_id="plain").json()
    assert plain["review"] is None and plain["decision"] in ("admissible", "rejected")
    # A retry under the same key gets the same held answer, not the proposal.
    again = served.client.post(f"/v1/services/{SERVICE_NAME}/decisions", headers={"Idempotency-Key": "thin-1"},
                               json={"case_id": "thin", "inputs": demo_inputs(documents_complete=0.2)})
    assert again.headers["Idempotent-Replayed"] == "true"
    assert (again.json()["decision"], again.json()["review"]) == ("manual_review", "label rejected")

    queue = served.client.get("/v1/reviews", params={"service": SERVICE_NAME}).json()["reviews"]
    by_id = {i["decision_id"]: i for i in queue}
    assert set(by_id) == {thin["decision_id"], older["decision_id"]}
    assert (by_id[thin["decision_id"]]["review"], by_id[thin["decision_id"]]["proposed"],
            by_id[thin["decision_id"]]["cause"]) == ("label rejected", "rejected", None)
    proposed_older = by_id[older["decision_id"]]["proposed"]
    assert proposed_older in ("admissible", "rejected")

    # A client system must not act on a proposal: it sees neither it nor the probabilities.
    portal = served.as_("portal", "client")
    seen = portal.get(f"/v1/decisions/{older['decision_id']}").json()
    assert seen["decision"] == "manual_review" and seen["review"]["reason"] == "group age_band"
    assert seen["review"]["proposed"] is None and seen["probabilities"] is None
    assert served.client.get(f"/v1/decisions/{older['decision_id']}").json()["review"]["proposed"] == proposed_older

    # The case worker's answer is the decision of record; one differing from the proposal is a correction.
    alice = served.as_("alice")
    resolved = alice.post(f"/v1/reviews/{thin['decision_id']}/resolve",
                          json={"decision": "admissible", "reason": "the missing documents were at the counter"})
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["outcome"] == "corrected"
    record = portal.get(f"/v1/decisions/{thin['decision_id']}").json()
    assert (record["decision"], record["review"]["status"]) == ("admissible", "resolved")
    confirmed = alice.post(f"/v1/decisions/{older['decision_id']}/feedback",
                           json={"decision": proposed_older, "reason": "checked"})
    assert confirmed.json()["outcome"] == "confirmed"
    assert served.client.get(f"/v1/decisions/{older['decision_id']}").json()["decision"] == proposed_older
    assert served.client.get("/v1/reviews", params={"service": SERVICE_NAME}).json()["reviews"] == []

    # The fallback rules' answers are held alike: a rule's rejection affects the citizen as much.
    set_fallback(served.ctx, SERVICE_NAME, "production", True)
    served.gateway.refresh()
    ruled = served.decide(demo_inputs(documents_complete=0.2), case_id="ruled").json()
    assert (ruled["served_by"], ruled["decision"], ruled["review"]) == ("rules", "manual_review", "label rejected")
    [queued] = served.client.get("/v1/reviews", params={"service": SERVICE_NAME}).json()["reviews"]
    assert (queued["decision_id"], queued["proposed"], queued["cause"]) == (ruled["decision_id"], "rejected",
                                                                            "kill_switch")

    metrics = served.client.get("/metrics").text
    assert 'relevo_reviews_total{reason="label rejected",service="licence-prefilter"} 2.0' in metrics
    assert 'relevo_reviews_total{reason="group age_band",service="licence-prefilter"} 1.0' in metrics


def get_spec_of(served: Served):
    from relevo.services import get_spec
    from relevo.store import connect

    with connect(served.ctx.engine) as conn:
        return get_spec(conn, SERVICE_NAME)
