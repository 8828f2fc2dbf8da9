"""Schemathesis against the live server: generated requests for every operation, none may answer
5xx, and every answer keeps to the published document (its status codes, schemas, content types).

Positive cases (bodies that match the schema, including real decisions for the demo service
through its own precisely typed operation) and negative ones (wrong types, missing fields, NUL
characters, out-of-range numbers) both run, seeded so a failure reproduces.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

from relevo.demo import SERVICE_NAME
from relevo.routing.table import set_fallback

from tests.api.conftest import Served, bearer

SEED = 20240611
CASE_PATH = ("decisions", "reviews", "services", "operations")  # the tags of a citizen's case's operations


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
    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case, served: Served):
    if served.ctx.engine.dialect.name == "postgresql" and not set(case.operation.tags or ()) & set(CASE_PATH):
        # The administrative operations validate above the store (typed from the use cases'
        # signatures), the same on both engines: fuzzed once, on SQLite. A case's operations, whose
        # writes can differ, are fuzzed on both.
        return
    # No 5xx, and every answer as the document says: a documented status, its schema, its type.
    case.call_and_validate(checks=[not_a_server_error, status_code_conformance, response_schema_conformance,
                                   content_type_conformance])
    assert served.app.state.internal_errors == 0


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
