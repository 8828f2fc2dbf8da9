"""A real HTTP server per test: the demo service on each engine, a Gateway, uvicorn in a thread."""

from __future__ import annotations

import socket
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator

import httpx
import pytest
from fastapi import FastAPI

from relevo import identity
from relevo.api import create_app
from relevo.api.server import serving
from relevo.context import Context
from relevo.demo import SERVICE_NAME
from relevo.gateway.gateway import Gateway
from relevo.settings import Settings
from tests.conftest import prepare_demo

KEY = bytes(range(32))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# The identity the tests' client speaks for: it asks for decisions, works cases, reads the metrics.
TESTER_ROLES = ("client", "case_worker", "operator", "auditor")


def token_for(ctx: Context, name: str, *roles: str, service: str | None = None) -> str:
    """A new identity with roles (for every service, or one) and a token of it, made by the tests' admin."""
    admin = ctx.acting_as("test-admin", frozenset({("admin", None)}))
    if not identity.required(admin):  # a store's first identity is its admin
        identity.add_identity(admin, "test-admin", grants=[identity.Grant("admin")])
    identity.add_identity(admin, name, grants=[identity.Grant(r, service) for r in roles])
    return identity.create_token(admin, name)[1]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Served:
    """A running API over the demo service; client speaks for `tester` (TESTER_ROLES)."""

    url: str
    client: httpx.Client
    gateway: Gateway
    ctx: Context
    app: FastAPI
    settings: Settings
    token: str
    others: list[httpx.Client] = field(default_factory=list)

    def decide(self, inputs: dict[str, Any], case_id: str = "case-1", service: str = SERVICE_NAME) -> httpx.Response:
        return self.client.post(f"/v1/services/{service}/decisions", json={"case_id": case_id, "inputs": inputs})

    def as_(self, name: str, *roles: str, service: str | None = None) -> httpx.Client:
        """A client speaking for a new identity with roles (case_worker by default)."""
        token = token_for(self.ctx, name, *(roles or ("case_worker",)), service=service)
        client = httpx.Client(base_url=self.url, timeout=30, headers=bearer(token))
        self.others.append(client)  # closed with the server
        return client


def demo_inputs(**changes: Any) -> dict[str, Any]:
    """A valid licence application that no fallback rule decides; `field=...` leaves a field out."""
    inputs = {"licence_type": "terrace", "district": "north", "documents_complete": 0.7, "zoning_compatible": True,
              "prior_infractions": 1, "applicant_kind": "company", "submission_channel": "online",
              "applicant_id": "A-1001", "age_band": "30-44", "nationality_group": "eu"}
    inputs.update(changes)
    return {k: v for k, v in inputs.items() if v is not ...}


@contextmanager
def running_api(settings: Settings) -> Iterator[Served]:
    """The API over a started Gateway, on a real port; fails if any request was answered 500."""
    # The tests act in process as an admin (the store has identities once the API has callers).
    ctx = Context.open(settings).acting_as("test-admin", frozenset({("admin", None)}))
    token = token_for(ctx, "tester", *TESTER_ROLES)
    gateway = Gateway(ctx, "production", pseudonym_key=KEY).start()
    app = create_app(settings, gateway)
    try:
        with serving(app) as url, httpx.Client(base_url=url, timeout=30, headers=bearer(token)) as client:
            served = Served(url, client, gateway, ctx, app, settings, token)
            try:
                yield served
            finally:
                for other in served.others:
                    other.close()
    finally:
        gateway.close()
        ctx.close()
    assert app.state.internal_errors == 0, "an endpoint answered 500 (see the logged traceback)"


@pytest.fixture
def served(settings: Settings) -> Iterator[Served]:
    """The demo service served over HTTP, on each engine."""
    with running_api(prepare_demo(settings)) as api:
        yield api
