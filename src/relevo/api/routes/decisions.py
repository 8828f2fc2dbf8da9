"""Decisions: decide a case, read it back, confirm or correct it."""

from __future__ import annotations

from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Depends, Response

from relevo.api.auth import acting
from relevo.api.dependencies import GatewayDep
from relevo.api.params import (
    BODY_ERRORS,
    DecisionId,
    IdempotencyKey,
    ServiceName,
    errors,
)
from relevo.api.schemas import (
    CaseLookup,
    DecisionRecord,
    DecisionRequest,
    DecisionResponse,
    FeedbackRequest,
    FeedbackResponse,
)
from relevo.casework import (
    READ_ROLES,
    FeedbackRecorded,
    RecordedDecision,
    find_case,
    read_decision,
    record_feedback,
)
from relevo.context import Context
from relevo.gateway import parse_key

router = APIRouter(tags=["decisions"])

# What a client can do next with a decision's id (OpenAPI links; stateful fuzzers follow them too).
DECISION_LINKS = {
    name: {"operationId": operation, "parameters": {"decision_id": "$response.body#/decision_id"}}
    for name, operation in [("ReadDecision", "read_decision"), ("RecordFeedback", "record_feedback"),
                            ("ClaimReview", "claim_review"), ("ResolveReview", "resolve_review")]
}


@router.post("/v1/services/{service}/decisions", response_model=DecisionResponse, operation_id="decide",
             summary="Decide a case", responses=errors(*BODY_ERRORS) | {200: {"links": DECISION_LINKS}})
async def decide(service: ServiceName, body: DecisionRequest, response: Response, gateway: GatewayDep,
                 _: Annotated[Context, Depends(acting("client"))], idempotency_key: IdempotencyKey = None) -> DecisionResponse:
    """Answer one case: the routed version, else the fallback rules, else manual review.

    Send an Idempotency-Key to retry safely: the same key and body get the decision first
    recorded, the same key with another body is refused (409), a key still being answered 409 with
    Retry-After (retry in a moment).
    """
    key = parse_key(idempotency_key) if idempotency_key is not None else None
    # The gateway blocks (the model call, the commit), so it runs in the thread pool, as a
    # plain `def` endpoint would. A plain `def` endpoint's response is then validated in the
    # thread pool too, a second trip there and back for each request (6% of the CPU time
    # of a decision under load); here it is validated on the event loop.
    d = await anyio.to_thread.run_sync(gateway.decide, service, body.case_id, body.inputs, key)
    if d.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return DecisionResponse(decision_id=d.id, decision=d.decision, served_by=d.served_by,
                            reference=d.reference, version=d.version, message=d.message, review=d.review)


@router.get("/v1/decisions/{decision_id}", response_model=DecisionRecord, operation_id="read_decision",
            summary="Read a decision back", responses=errors(404, 422, 503))
def read(decision_id: DecisionId, ctx: Annotated[Context, Depends(acting(*READ_ROLES))]) -> RecordedDecision:
    """A decision as the log holds it, with its shadow answer, feedback and review state."""
    return read_decision(ctx, decision_id)


@router.post("/v1/services/{service}/case-lookups", response_model=list[DecisionRecord], operation_id="find_case",
             summary="Find a case's decisions", responses=errors(*BODY_ERRORS))
def find(service: ServiceName, body: CaseLookup, gateway: GatewayDep,
         ctx: Annotated[Context, Depends(acting(*READ_ROLES))]) -> list[RecordedDecision]:
    """The decisions recorded for a case id, newest first (at most 100): the case id travels in the
    body, never in a URL, and is found under the current pseudonym key and every earlier one this
    server holds, so decisions made before a key rotation are found until they are purged."""
    return find_case(ctx, service, body.case_id, gateway.keyring)


@router.post("/v1/decisions/{decision_id}/feedback", response_model=FeedbackResponse, operation_id="record_feedback",
             summary="Confirm or correct a decision", responses=errors(*BODY_ERRORS))
def feedback(decision_id: DecisionId, body: FeedbackRequest,
             ctx: Annotated[Context, Depends(acting("case_worker"))]) -> FeedbackRecorded:
    """A case worker's verdict on a decision; a later verdict supersedes an earlier one."""
    return record_feedback(ctx, decision_id, decision=body.decision, reason=body.reason, reviewer=body.reviewer)
