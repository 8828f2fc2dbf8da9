"""What a route is handed: the Gateway the app serves, and the use cases' Context.

Routes take them as FastAPI dependencies, so a router can be mounted on any app that holds a
Gateway (tests can override `gateway_of` with `app.dependency_overrides`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from relevo.context import Context
from relevo.gateway import Gateway


def gateway_of(request: Request) -> Gateway:
    """The Gateway of the app answering this request."""
    return request.app.state.gateway


def context_of(gateway: Annotated[Gateway, Depends(gateway_of)]) -> Context:
    """The Context the app's use cases run with."""
    return gateway.ctx


GatewayDep = Annotated[Gateway, Depends(gateway_of)]
ContextDep = Annotated[Context, Depends(context_of)]
