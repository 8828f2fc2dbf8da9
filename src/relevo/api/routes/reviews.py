"""The manual-review queue: cases no model or rule answered, worked by case workers."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from relevo.api.auth import acting
from relevo.api.params import BODY_ERRORS, DecisionId, ServiceFilter, errors
from relevo.api.schemas import (
    ClaimRequest,
    ClaimResponse,
    FeedbackRequest,
    Queue,
    ResolveResponse,
)
from relevo.casework import Claimed, Resolved, claim, list_queue, resolve
from relevo.context import Context

router = APIRouter(tags=["reviews"])


@router.get("/v1/reviews", response_model=Queue, operation_id="list_reviews", summary="List queued cases, oldest first",
            responses=errors(422, 503))
def reviews(ctx: Annotated[Context, Depends(acting("case_worker", "dpo"))], service: ServiceFilter = None,
            status: Literal["open", "claimed", "resolved"] = "open",
            limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> Queue:
    """The queue's cases in one status, oldest first."""
    return Queue.model_validate({"reviews": list_queue(ctx, service=service, status=status, limit=limit)},
                                from_attributes=True)


@router.post("/v1/reviews/{decision_id}/claim", response_model=ClaimResponse, operation_id="claim_review",
             summary="Take a queued case", responses=errors(*BODY_ERRORS))
def claim_case(decision_id: DecisionId, body: ClaimRequest,
               ctx: Annotated[Context, Depends(acting("case_worker"))]) -> Claimed:
    """A case worker takes a queued case; one claimed by another is a conflict."""
    return claim(ctx, decision_id, body.reviewer)


@router.post("/v1/reviews/{decision_id}/resolve", response_model=ResolveResponse, operation_id="resolve_review",
             summary="Decide a queued case", responses=errors(*BODY_ERRORS))
def resolve_case(decision_id: DecisionId, body: FeedbackRequest,
                 ctx: Annotated[Context, Depends(acting("case_worker"))]) -> Resolved:
    """A case worker decides a queued case (recorded as the decision's feedback)."""
    return resolve(ctx, decision_id, decision=body.decision, reason=body.reason, reviewer=body.reviewer)
