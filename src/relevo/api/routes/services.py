"""The services this gateway serves, and a valid request to try on each."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from relevo.api.auth import principal_of
from relevo.api.dependencies import GatewayDep
from relevo.api.params import ServiceName, errors
from relevo.api.schemas import ExampleRequest, Services
from relevo.gateway import example_inputs, served_services

router = APIRouter(tags=["services"], dependencies=[Depends(principal_of)])  # any identity Relevo knows


@router.get("/v1/services", response_model=Services, operation_id="list_services", summary="The services served here",
            responses=errors())
def list_served(gateway: GatewayDep) -> Services:
    """Every service served here, with its route and the versions answering."""
    return Services.model_validate({"services": served_services(gateway)}, from_attributes=True)


@router.get("/v1/services/{service}/example", response_model=ExampleRequest, operation_id="example_request",
            summary="A valid decision request to try", responses=errors(404, 422))
def example(service: ServiceName, gateway: GatewayDep) -> ExampleRequest:
    """A request the service accepts, built from its spec."""
    return ExampleRequest(case_id="example-1", inputs=example_inputs(gateway.runtime(service).spec))
