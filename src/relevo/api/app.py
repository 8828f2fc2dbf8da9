"""The HTTP adapter: parse the request, call the Gateway or one use case, render the answer.

No business rule lives here. Endpoints that wait on the store are plain `def` functions, run in
FastAPI's thread pool (the decision endpoint hands the gateway to that pool itself); its limit is
raised at startup so that many requests can wait on the decision log's group commit at once.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Annotated, Any, AsyncIterator, Literal

import anyio.to_thread
from fastapi import FastAPI, Header, Path, Query
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import AfterValidator

from relevo import __version__
from relevo.api import errors, openapi
from relevo.api.json_bodies import JsonBodies
from relevo.api.limits import DEFAULT_MAX_BODY_BYTES, BodyLimit
from relevo.api.schemas import (
    ClaimRequest,
    ClaimResponse,
    DecisionRecord,
    DecisionRequest,
    DecisionResponse,
    ErrorBody,
    ExampleRequest,
    FeedbackRequest,
    FeedbackResponse,
    Health,
    Queue,
    Readiness,
    ResolveResponse,
    RouteView,
    Services,
    ServiceView,
    text_problem,
)
from relevo.casework.feedback import record_feedback
from relevo.casework.lookup import get_decision
from relevo.casework.queue import claim, list_queue, resolve
from relevo.gateway.gateway import Gateway
from relevo.gateway.idempotency import MAX_KEY_LENGTH, parse_key
from relevo.gateway.validation import example_inputs
from relevo.store import connect

DEFAULT_THREAD_LIMIT = 256


def _storable(value: str | None) -> str | None:
    if value is not None and (problem := text_problem(value)):
        raise ValueError(problem)
    return value


DecisionId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$",
                                 description="a decision id, as returned with the decision")]
ServiceName = Annotated[str, Path(max_length=100, description="a service this gateway serves (see /v1/services)")]
ReadyFor = Annotated[str | None, Query(max_length=100, description="ready to answer this service (default: every "
                                                                   "service served here)"), AfterValidator(_storable)]
IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", max_length=MAX_KEY_LENGTH + 2,
    description='a key of the client\'s choosing, e.g. "8e03978e-40d5-43e8-bc93-6894a57f9324": a retry with the '
                'same key and body gets the decision first recorded (kept 48 hours)')]
ServiceFilter = Annotated[str | None, Query(max_length=100, description="only this service's cases"),
                          AfterValidator(_storable)]


# What a client can do next with a decision's id (OpenAPI links; stateful fuzzers follow them too).
_DECISION_LINKS = {
    name: {"operationId": operation, "parameters": {"decision_id": "$response.body#/decision_id"}}
    for name, operation in [("ReadDecision", "read_decision"), ("RecordFeedback", "record_feedback"),
                            ("ClaimReview", "claim_review"), ("ResolveReview", "resolve_review")]
}


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    described = {400: "malformed request (a key given twice in the JSON body, a bad header)",
                 403: "refused by policy", 404: "not found",
                 409: "conflicts with the record (or the same Idempotency-Key is still being answered)",
                 413: "body too large", 415: "the body is not JSON",
                 422: "invalid input; error.fields names each field (or the Idempotency-Key was used for another body)",
                 503: "the store is unavailable"}
    return {code: {"model": ErrorBody, "description": described[code]} for code in codes}


def create_app(gateway: Gateway, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
               thread_limit: int = DEFAULT_THREAD_LIMIT) -> FastAPI:
    """The HTTP API over a started (or about to be started) Gateway; the caller owns the Gateway."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Blocking endpoints run in anyio's default thread pool (40 threads unless raised).
        anyio.to_thread.current_default_thread_limiter().total_tokens = thread_limit
        yield

    app = FastAPI(
        title="Relevo decision API",
        version=__version__,
        description="Decisions of the citizen services this gateway serves, case workers' feedback and the "
                    "manual-review queue. Every answer is recorded before it is sent.",
        lifespan=lifespan,
    )
    app.state.gateway = gateway
    errors.install(app)
    openapi.install(app, gateway)
    # Starlette runs the middleware added last first: the size limit, then the JSON checks.
    app.add_middleware(JsonBodies)
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)

    ctx = gateway.ctx

    # -- decisions --------------------------------------------------------------------------

    @app.post("/v1/services/{service}/decisions", response_model=DecisionResponse, tags=["decisions"],
              operation_id="decide", summary="Decide a case",
              responses={200: {"links": _DECISION_LINKS}} | _errors(400, 404, 409, 413, 415, 422, 503))
    async def decide(service: ServiceName, body: DecisionRequest, response: Response,
                     idempotency_key: IdempotencyKey = None) -> DecisionResponse:
        """Answer one case: the routed version, else the fallback rules, else manual review.

        Send an Idempotency-Key to retry safely: the same key and body get the decision first
        recorded, the same key with another body is refused (422), a key still being answered 409.
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
                                reference=d.reference, version=d.version, message=d.message)

    @app.get("/v1/decisions/{decision_id}", response_model=DecisionRecord, tags=["decisions"],
             operation_id="read_decision", summary="Read a decision back", responses=_errors(404, 422, 503))
    def read_decision(decision_id: DecisionId) -> dict[str, Any]:
        with connect(ctx.engine) as conn:
            return get_decision(conn, decision_id)

    @app.post("/v1/decisions/{decision_id}/feedback", response_model=FeedbackResponse, tags=["decisions"],
              operation_id="record_feedback", summary="Confirm or correct a decision", responses=_errors(400, 404, 409, 413, 415, 422, 503))
    def feedback(decision_id: DecisionId, body: FeedbackRequest) -> dict[str, Any]:
        return record_feedback(ctx, decision_id, decision=body.decision, reason=body.reason, reviewer=body.reviewer)

    # -- manual-review queue --------------------------------------------------------------------

    @app.get("/v1/reviews", response_model=Queue, tags=["reviews"], operation_id="list_reviews", summary="List queued cases, oldest first",
             responses=_errors(422, 503))
    def reviews(service: ServiceFilter = None,
                status: Literal["open", "claimed", "resolved"] = "open",
                limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
        return {"reviews": list_queue(ctx, service=service, status=status, limit=limit)}

    @app.post("/v1/reviews/{decision_id}/claim", response_model=ClaimResponse, tags=["reviews"],
              operation_id="claim_review", summary="Take a queued case", responses=_errors(400, 404, 409, 413, 415, 422, 503))
    def claim_case(decision_id: DecisionId, body: ClaimRequest) -> dict[str, Any]:
        return claim(ctx, decision_id, body.reviewer)

    @app.post("/v1/reviews/{decision_id}/resolve", response_model=ResolveResponse, tags=["reviews"],
              operation_id="resolve_review", summary="Decide a queued case", responses=_errors(400, 404, 409, 413, 415, 422, 503))
    def resolve_case(decision_id: DecisionId, body: FeedbackRequest) -> dict[str, Any]:
        return resolve(ctx, decision_id, decision=body.decision, reason=body.reason, reviewer=body.reviewer)

    # -- services -------------------------------------------------------------------------------

    @app.get("/v1/services", response_model=Services, tags=["services"], operation_id="list_services", summary="The services served here")
    def list_served() -> Services:
        out = []
        for name in gateway.service_names():
            runtime = gateway.runtime(name)
            route = runtime.route
            out.append(ServiceView(
                name=name, description=runtime.spec.description.strip(), decisions=list(runtime.spec.decisions),
                environment=gateway.environment,
                route=None if route is None else RouteView(
                    mode=route.mode, weight=route.weight,
                    stable=runtime.stable.record.name if runtime.stable else None,
                    candidate=runtime.candidate.record.name if runtime.candidate else None,
                    candidate_spec_sha256=(runtime.candidate_policy.spec_sha256
                                           if runtime.candidate_policy is not runtime.policy else None),
                    revision=route.revision, fallback_forced=route.fallback_forced)))
        return Services(services=out)

    @app.get("/v1/services/{service}/example", response_model=ExampleRequest, tags=["services"],
             operation_id="example_request", summary="A valid decision request to try", responses=_errors(404, 422))
    def example(service: ServiceName) -> ExampleRequest:
        spec = gateway.runtime(service).spec
        return ExampleRequest(case_id="example-1", inputs=example_inputs(spec))

    # -- operations -----------------------------------------------------------------------------

    @app.get("/healthz", response_model=Health, tags=["operations"], operation_id="healthz", summary="The process is alive")
    async def healthz() -> Health:
        return Health(status="ok")

    @app.get("/readyz", response_model=Readiness, tags=["operations"], operation_id="readyz", summary="Ready to answer",
             responses={404: {"model": ErrorBody, "description": "the service is not served here"},
                        503: {"model": Readiness, "description": "not ready; reason says why"}})
    def readyz(service: ReadyFor = None) -> Any:
        problems = gateway.readiness(service=service)
        names = [service] if service is not None else gateway.service_names()
        if problems:
            return JSONResponse(Readiness(status="unavailable", reason="; ".join(problems), services=names).model_dump(),
                                status_code=503)
        return Readiness(status="ready", services=names)

    @app.get("/metrics", tags=["operations"], operation_id="metrics", summary="Prometheus metrics",
             response_class=Response, responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}})
    def metrics() -> Response:
        return Response(generate_latest(gateway.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app
