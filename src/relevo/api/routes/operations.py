"""Operations: liveness, readiness (per service) and Prometheus metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from relevo.api.auth import metrics_access
from relevo.api.dependencies import GatewayDep
from relevo.api.params import ReadyFor, errors
from relevo.api.schemas import ErrorBody, Health, Readiness

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health, operation_id="healthz", summary="The process is alive")
async def healthz() -> Health:
    """Always ok while the process answers."""
    return Health(status="ok")


@router.get("/readyz", response_model=Readiness, operation_id="readyz", summary="Ready to answer",
            responses={404: {"model": ErrorBody, "description": "the service is not served here"},
                       503: {"model": Readiness, "description": "not ready; reason says why"}})
def readyz(gateway: GatewayDep, service: ReadyFor = None) -> Any:
    """Ready when a decision can be committed in time and every service has its stable version."""
    problems = gateway.readiness(service=service)
    names = [service] if service is not None else gateway.service_names()
    if problems:
        return JSONResponse(Readiness(status="unavailable", reason="; ".join(problems), services=names).model_dump(),
                            status_code=503)
    return Readiness(status="ready", services=names)


@router.get("/metrics", operation_id="metrics", summary="Prometheus metrics", response_class=Response,
            dependencies=[Depends(metrics_access)],
            responses=errors() | {200: {"content": {"text/plain": {"schema": {"type": "string"}}}}})
def metrics(gateway: GatewayDep, request: Request) -> Response:
    """The gateway's metrics, the changes of state recorded in this process and the monitors' newest
    numbers, in Prometheus' text format."""
    body = (generate_latest(gateway.metrics.registry) + generate_latest(gateway.ctx.listeners.registry)
            + generate_latest(request.app.state.monitoring_metrics))
    return Response(body, media_type=CONTENT_TYPE_LATEST)
