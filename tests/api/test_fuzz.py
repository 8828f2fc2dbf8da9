"""Schemathesis against the live server: generated requests for every operation, none may answer
5xx, and every answer keeps to the published document (its status codes, schemas, content types).

Positive cases (bodies that match the schema, including real decisions for the demo service
through its own precisely typed operation) and negative ones (wrong types, missing fields, NUL
characters, out-of-range numbers) both run, seeded so a failure reproduces. The positive cases
also check the other direction: a request the document allows is never refused for its form.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, positive_data_acceptance,
                                               response_schema_conformance, status_code_conformance)

from relevo.demo import SERVICE_NAME
from relevo.routing.table import set_fallback

from tests.api.conftest import Served, bearer

SEED = 20240611
REQUEST_TIMEOUT = 120  # s: check-plan at the highest traffic it takes simulates its steps for a while
CASE_PATH = ("decisions", "reviews", "services", "operations")  # the tags of a citizen's case's operations
# Operations that simulate the judge for each request (half a second each; a drill, seconds), and those that carry a
# whole spec only to name a release (its generation is what /v1/specs and the rollouts' start already
# fuzz in full): a few examples say what twenty-five would, in a suite that must stay under ten minutes.
COSTLY = {"/v1/services/{service}/plan-check": 3, "/v1/services/{service}/checklist/attestations": 5,
          "/v1/services/{service}/checklist/waivers": 5, "/v1/services/{service}/drills": 3}
_seen: Counter[tuple[str, str]] = Counter()


def _enough(test: str, case) -> bool:
    """True once a costly operation has had its examples in this test."""
    _seen[(test, case.path)] += 1
    return _seen[(test, case.path)] > COSTLY.get(case.path, 10**9)


@schemathesis.serializer("application/x-tar")
def _archive(ctx, value) -> bytes:
    """A registration upload: whatever bytes were generated (a real archive is the remote CLI's test)."""
    return value if isinstance(value, bytes) else str(value).encode()


@pytest.fixture
def api_schema(served: Served):
    schema = schemathesis.openapi.from_url(f"{served.url}/openapi.json")
    schema.config.update(headers=bearer(served.token))  # the tester's token: past the door, to the rules
    schema.config.seed = SEED
    schema.config.generation.update(max_examples=25)
    schema.config.update(request_timeout=REQUEST_TIMEOUT)
    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


def _no_server_errors(test: str, case, served: Served) -> None:
    if _enough(test, case):
        return
    response = case.call()
    # No 5xx, and every answer as the document says: a documented status, its schema, its type.
    checks = [not_a_server_error, status_code_conformance, response_schema_conformance, content_type_conformance]
    # And what the document allows is never refused for its form (no 400 or 422; the check reads
    # positive cases only), but for a spec breaking a rule between its fields, and /readyz's 503,
    # by design while a service declared by an earlier request has no version routed yet.
    not_ready = case.path == "/readyz" and response.status_code == 503 and response.json()["status"] == "unavailable"
    if not _between_fields(case, response) and not not_ready:
        checks.append(positive_data_acceptance)
    case.validate_response(response, checks=checks)
    assert served.app.state.internal_errors == 0


@schema.parametrize()
@settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_no_server_errors(case, served: Served):
    _no_server_errors("no_server_errors", case, served)


# The administrative operations validate above the store (typed from the use cases' signatures),
# the same on both engines: fuzzed once, on SQLite. A case's operations, whose writes can differ,
# are fuzzed on PostgreSQL too.
@schema.include(tag=list(CASE_PATH)).parametrize()
@settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@pytest.mark.parametrize("database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
def test_a_cases_operations_give_no_server_errors_on_postgresql(case, served: Served):
    _no_server_errors("case_operations", case, served)


# The spec's rules between its fields: a value that must name another part of the document (a
# plan, a decision label, a protected input, an input field), or be ordered against another
# value. JSON Schema states what one value may be, not how two relate, so a generated spec can
# break these and be refused (422) although each of its values is as the document says. Every
# other refusal of a body the document allows fails the test.
BETWEEN_FIELDS = re.compile("|".join([
    # (a name holding a quote is shown in the other kind of quotes, as Python's repr does)
    r"default_plan ['\"].*['\"] is not one of the plans", r"plan ['\"].*['\"] (must end with a promote step|has promote before"
    r" its last step|: a bluegreen step gives)", r"two criteria are both", r"is not one of decisions",
    r"is not a protected input", r"reads unknown fields", r"minimum is greater than maximum", r"no whole number lies between",
    r"min_calls must not exceed window", r"low is greater than high", r"is longer than logging\.max_retention", r"review\.groups\..*: .* is not (a|one of)",
    r"the spec describes service ['\"].*['\"], not ['\"].*['\"]",
    # Maintenance windows: a slot's end against its start, a blackout's, a region against its country.
    r"a window that never opens: it starts at", r"windows\.blackouts\[\d+\] ends before it starts",
    r"is not a subdivision of",
    # A suite's rules between its fields and against the service's spec.
    r"the suite is empty", r"smoke names cases that are not golden cases", r"read the reference set",
    r"golden case names must be unique", r"recall needs a label", r"is not one of the decisions",
    r"golden\[\d+\] \(.*\)\.inputs", r"reference_(rows|labels)", r"is not a protected input of"]))
CARRY_A_SPEC = {("POST", "/v1/specs"), ("POST", "/v1/services/{service}/rollouts"), ("PUT", "/v1/services/{service}/suite"),
                ("POST", "/v1/services/{service}/checklist/attestations"),
                ("POST", "/v1/services/{service}/checklist/waivers")}


def _between_fields(case, response) -> bool:
    """A 422 for a spec that breaks only rules between its fields (see BETWEEN_FIELDS)."""
    if response.status_code != 422 or (case.method.upper(), case.path) not in CARRY_A_SPEC:
        return False
    error = response.json()["error"]
    messages = [f["message"] for f in error.get("fields") or []] or [error["message"]]
    return all(BETWEEN_FIELDS.search(m) for m in messages)


def test_stateful_sequences_no_server_errors(served: Served):
    """Follow the OpenAPI links: decide, then read back, give feedback, claim and resolve that very decision.

    The kill switch is on, so decisions the rules leave open land in the review queue and the
    claim/resolve steps work on real queued cases (claims by different reviewers conflict).
    """
    set_fallback(served.ctx, SERVICE_NAME, "production", True)
    served.gateway.refresh()
    # The links lead from a decision to its feedback and review: the case's operations only.
    schema = schemathesis.openapi.from_url(f"{served.url}/openapi.json").include(tag=list(CASE_PATH))
    schema.config.update(headers=bearer(served.token))
    followed: list[str] = []

    class Sequences(schema.as_state_machine()):
        def validate_response(self, response, case, additional_checks=None, **kwargs) -> None:
            followed.append(f"{case.operation.label} {response.status_code}")
            case.validate_response(response, checks=[not_a_server_error])

    Sequences.run(settings=settings(max_examples=15, stateful_step_count=6, deadline=None, database=None,
                                    derandomize=True, suppress_health_check=list(HealthCheck)))
    assert served.app.state.internal_errors == 0
    # The links were followed with ids of real decisions, not only guessed ones.
    assert any(step.startswith(("GET /v1/decisions/{decision_id} 200", "POST /v1/reviews/{decision_id}/claim 200"))
               for step in followed), followed
