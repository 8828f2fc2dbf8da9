"""What a route is handed: the Gateway the app serves (the use cases' Context, acting as the
caller, comes from `relevo.api.auth.acting`).

Routes take it as a FastAPI dependency, so a router can be mounted on any app that holds a
Gateway (tests can override `gateway_of` with `app.dependency_overrides`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from relevo.gateway import Gateway


async def gateway_of(request: Request) -> Gateway:
    """The Gateway of the app answering this request (async: a plain `def` dependency would cost
    every request a trip through the thread pool)."""
    return request.app.state.gateway


GatewayDep = Annotated[Gateway, Depends(gateway_of)]
