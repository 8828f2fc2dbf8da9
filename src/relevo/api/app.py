"""The HTTP API, composed: the routers of every area over one Gateway, configured by Settings.

Each area's routes live in `relevo.api.routes` and reach the Gateway and the use cases' Context
as FastAPI dependencies (`relevo.api.dependencies`); no business rule lives in them. Endpoints
that wait on the store are plain `def` functions, run in FastAPI's thread pool (the decision
endpoint hands the gateway to that pool itself); its limit is raised at startup so that many
requests can wait on the decision log's group commit at once.
"""

from __future__ import annotations

import re
from contextlib import asynccontextmanager
from typing import AsyncIterator

import anyio.to_thread
from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from starlette.types import Scope
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from relevo import __version__
from relevo.api import errors, openapi
from relevo.api.json_bodies import JsonBodies
from relevo.api.limits import BodyLimit
from relevo.api.routes import ROUTERS, uploads
from relevo import identity, monitoring
from relevo.gateway import Gateway
from relevo.settings import Settings


# A test suite carries its reference cases (up to 100,000): its own, larger limit.
SUITE_PATH = re.compile(r"^/v1/services/[^/]+/suite$")
SUITE_MAX_BYTES = 64 * 2**20


def is_suite(scope: Scope) -> bool:
    """Whether a request applies a test suite."""
    return scope.get("method") == "PUT" and bool(SUITE_PATH.match(scope.get("path", "")))


def create_app(settings: Settings, gateway: Gateway) -> FastAPI:
    """The HTTP API over a started (or about to be started) Gateway; the caller owns the Gateway."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Blocking endpoints run in anyio's default thread pool (40 threads unless raised).
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.api_threads
        yield

    # Swagger UI (/docs) and ReDoc (/redoc) from the installed fastapi-offline's files, not a CDN:
    # a town hall's network may have no internet, and a page that loads code from elsewhere is one
    # more party to trust.
    app = FastAPIOffline(
        title="Relevo decision API",
        version=__version__,
        description="Decisions of the citizen services this gateway serves, case workers' feedback and the "
                    "manual-review queue. Every answer is recorded before it is sent.",
        lifespan=lifespan,
    )
    app.state.gateway = gateway
    app.state.metrics_public = settings.api_metrics_public
    app.state.monitoring_metrics = monitoring.monitoring_registry(gateway.ctx)  # the store's, whichever replica
    app.state.max_upload_bytes = settings.api_max_upload_mb * 2**20
    app.state.attempts = identity.Attempts()  # failed tokens per source, for the rate limit
    errors.install(app)
    for router in ROUTERS:
        app.include_router(router)
    openapi.install(app, gateway)
    # Starlette runs the middleware added last first: the client's address from a trusted proxy's
    # X-Forwarded-For (what the failed-token limit counts by), the size limit, the JSON checks.
    app.add_middleware(JsonBodies, exempt=uploads.is_upload)
    app.add_middleware(BodyLimit, max_bytes=settings.api_max_body_kb * 1024,
                       exempt=lambda scope: uploads.is_upload(scope) or is_suite(scope))
    app.add_middleware(BodyLimit, max_bytes=SUITE_MAX_BYTES, only=is_suite)
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=[
        part.strip() for part in settings.api_trusted_proxies.split(",") if part.strip()])
    return app
