"""Request and response bodies of the HTTP API (pydantic), precise enough to document and fuzz."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from relevo.gateway import NO_NUL, StorableRow, text_problem


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


# Times as the store recorded them, in ISO 8601 with their offset.
Timestamp = Annotated[str, BeforeValidator(_iso)]

NAMED = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"  # JSON Schema: at least one visible character, no NUL


def _text(value: str) -> str:
    problem = text_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def Text(min_length: int = 0, max_length: int = 200, description: str = "", **extra: Any) -> Any:
    """A string field with the given length bounds that refuses NUL characters and lone surrogates."""
    return Annotated[str, AfterValidator(_text),
                     Field(min_length=min_length, max_length=max_length, description=description,
                           json_schema_extra={"pattern": NO_NUL}, **extra)]


def _named(value: str) -> str:
    if not value.strip():
        raise ValueError("must name the case: not only whitespace")
    return value


CaseId = Annotated[str, AfterValidator(_text), AfterValidator(_named),
                   Field(min_length=1, max_length=200, json_schema_extra={"pattern": NAMED},
                         description="the case's identifier in the caller's system (pseudonymised in the log)")]
Label = Text(1, 100, "the decision the case worker finds right")
Reason = Text(0, 2000, "why")
Reviewer = Text(1, 200, "the case worker")


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DecisionRequest(_Body):
    """One case to decide."""

    case_id: CaseId
    inputs: StorableRow = Field(description="the field values the service's spec declares")


class CaseLookup(_Body):
    """A case whose decisions to find."""

    case_id: CaseId


class DecisionResponse(BaseModel):
    """The answer, as recorded in the decision log before it was sent (for a retried request with
    the same Idempotency-Key: the answer first recorded, with the header Idempotent-Replayed: true)."""

    decision_id: str
    decision: str = Field(description="a decision label of the service, or manual_review")
    served_by: Literal["version", "rules", "manual"]
    reference: str = Field(description="the reference the citizen can quote")
    version: str | None = Field(description="the version that answered, when a model did")
    message: str = Field(description="what the citizen is told")
    review: str | None = Field(default=None, description="why a case worker decides this case before any answer "
                               "takes effect (the spec's review policy); the decision is then manual_review")


class FeedbackRequest(_Body):
    """A case worker's confirmation or correction of a decision."""

    decision: Label
    reason: Reason
    reviewer: Reviewer | None = Field(default=None, description="left out: the case worker is the token's identity "
                                                                 "(if given, it must be that identity's name)")


class FeedbackResponse(BaseModel):
    decision_id: str
    outcome: Literal["confirmed", "corrected", "decided"]
    decision: str
    reviewer: str
    at: Timestamp
    supersedes: int | None = Field(default=None, description="the earlier verdict this one replaces, if any")


class ClaimRequest(_Body):
    reviewer: Reviewer | None = Field(default=None, description="left out: the case worker is the token's identity")


class ClaimResponse(BaseModel):
    decision_id: str
    status: Literal["claimed"]
    claimed_by: str


class ResolveResponse(FeedbackResponse):
    status: Literal["resolved"]


class ShadowAnswer(BaseModel):
    version: str | None
    decision: str | None
    latency_ms: float | None
    error: str | None


class FeedbackNote(BaseModel):
    outcome: str
    decision: str
    reason: str
    reviewer: str
    at: Timestamp
    current: bool = Field(description="false once a later verdict superseded this one")


class ReviewState(BaseModel):
    status: str
    claimed_by: str | None
    resolved_at: Timestamp | None
    reason: str | None = Field(default=None, description="why the review policy held the automated answer back "
                               "(none: no model or rule answered)")
    proposed: str | None = Field(default=None, description="the automated answer held back, for case workers, "
                                 "operators, auditors and the DPO")


class DecisionRecord(BaseModel):
    """A decision read back from the log, with its shadow answer, feedback and review state."""

    decision_id: str
    reference: str
    service: str
    environment: str
    decision: str
    served_by: str
    version: str | None
    arm: str | None
    routed_version: str | None
    probabilities: dict[str, float] | None
    fallback_cause: str | None
    latency_ms: float
    inputs: dict[str, Any]
    step: str | None
    created_at: Timestamp
    shadow: ShadowAnswer | None
    feedback: list[FeedbackNote]
    review: ReviewState | None


class QueueItem(BaseModel):
    decision_id: str
    reference: str
    service: str
    status: str
    claimed_by: str | None
    cause: str | None = Field(description="why no model or rule answered (none for a case held by the review policy)")
    review: str | None = Field(description="why the review policy held the automated answer back")
    proposed: str | None = Field(description="the automated answer held back, for the case worker to confirm or "
                                 "correct")
    inputs: dict[str, Any]
    queued_at: Timestamp


class Queue(BaseModel):
    reviews: list[QueueItem]


class RouteView(BaseModel):
    mode: str
    weight: float
    stable: str | None = Field(description="the stable version, when it is loaded")
    candidate: str | None = Field(description="the candidate version, when it is loaded")
    candidate_spec_sha256: str | None = Field(
        default=None, description="the spec the candidate answers under, when its release changes the service's")
    revision: int
    fallback_forced: bool


class ServiceView(BaseModel):
    name: str
    description: str
    decisions: list[str]
    environment: str
    route: RouteView | None = Field(description="null when the service has no route here: the fallback answers")


class Services(BaseModel):
    services: list[ServiceView]


class ExampleRequest(BaseModel):
    case_id: str
    inputs: dict[str, Any]


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: Literal["ready", "unavailable"]
    reason: str | None = None
    services: list[str] = []


class ErrorField(BaseModel):
    field: str
    message: str


class ErrorDetail(BaseModel):
    type: str
    message: str
    fields: list[ErrorField] | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail
