"""Who is calling: every endpoint but /healthz and /readyz (and /metrics if configured public)
needs a bearer token; the acting identity and its roles come from the token alone.

A missing, malformed, unknown, wrong, expired or revoked token is answered 401 without saying
which; a token without the role, 403 naming the role; a source with too many failures in a minute
is refused 429 for a while (the failures are audited, the source as a pseudonym).
"""

from __future__ import annotations

from typing import Annotated, Awaitable, Callable

import anyio.to_thread
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from relevo import identity
from relevo.api.dependencies import gateway_of
from relevo.context import Context
from relevo.errors import Refused
from relevo.gateway import Gateway
from relevo.identity import Principal

bearer = HTTPBearer(auto_error=False, scheme_name="token",
                    description="A Relevo token: `relevo token create NAME` makes one (shown once).")


class Unauthorised(Exception):
    """No valid token: the answer says no more than that."""


class TooManyAttempts(Exception):
    """Too many failed tokens from one source: retry after `wait` seconds."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"too many failed attempts; retry in {wait:.0f} s")
        self.wait = wait


async def principal_of(request: Request, gateway: Annotated[Gateway, Depends(gateway_of)],
                       credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Principal:
    """The caller's identity, from its bearer token."""
    attempts: identity.Attempts = request.app.state.attempts
    source = request.client.host if request.client else "unknown"
    ctx = gateway.ctx
    presented = credentials.credentials if credentials is not None else None
    if presented is not None:
        # A token verified a moment ago answers from memory: no store, no argon2, no thread.
        known = identity.remembered(presented, ctx.clock.now())
        if known is not None:
            return known
    wait = attempts.blocked(source)
    if wait is not None:
        raise TooManyAttempts(wait)
    principal = None
    if presented is not None:
        principal = await anyio.to_thread.run_sync(identity.authenticate, ctx.engine, presented, ctx.clock.now())
    if principal is None:
        await anyio.to_thread.run_sync(attempts.failed, ctx, source, request.url.path)
        raise Unauthorised()
    return principal


def acting(*roles: str) -> Callable[..., Awaitable[Context]]:
    """A dependency: the use cases' Context acting as the caller, who must hold one of roles: for
    the service the path names, or else for some service (the use case then checks the service
    the call concerns)."""

    # async: it only compares sets, so it runs on the event loop, not in a thread of its own.
    async def dependency(request: Request, principal: Annotated[Principal, Depends(principal_of)],
                         gateway: Annotated[Gateway, Depends(gateway_of)]) -> Context:
        service = request.path_params.get("service")
        if service is not None:
            allowed = any(identity.holds(principal.grants, role, service) for role in roles)
        else:
            allowed = any(r in roles or r == "admin" for r, _ in principal.grants)
        if not allowed:
            raise Refused(f"this needs the {' or '.join(roles)} role" + (f" for {service}" if service else ""))
        return gateway.ctx.acting_as(principal.name, principal.grants)

    return dependency


async def metrics_access(request: Request, gateway: Annotated[Gateway, Depends(gateway_of)],
                         credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> None:
    """/metrics: open when the settings say so, else for operators and auditors."""
    if request.app.state.metrics_public:
        return
    principal = await principal_of(request, gateway, credentials)
    if not any(r in ("operator", "auditor", "admin") for r, _ in principal.grants):
        raise Refused("this needs the operator or auditor role")

