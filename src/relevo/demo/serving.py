"""The demo's traffic: serve the licence pre-filter over HTTP and send it applications.

v1 answers (stable) while v2 sees every request in shadow; then the kill switch sends a burst
of requests to the fallback (rules, then manual review) and is released again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import httpx

from relevo.api import create_app
from relevo.api.server import serving
from relevo.context import Context
from relevo.demo import SERVICE_NAME
from relevo.demo.traffic import Tally, stream
from relevo.errors import NotFound
from relevo.gateway.gateway import Gateway
from relevo.gateway.pseudonym import load_key
from relevo.monitoring.traffic import traffic_summary
from relevo.registry.queries import resolve_version
from relevo.routing.table import get_route, set_fallback, set_route
from relevo.settings import Settings
from relevo.store import connect

ENVIRONMENT = "production"


@dataclass(frozen=True)
class TrafficReport:
    """What the demo's traffic showed."""

    url: str
    served: Tally
    fallback_burst: Tally
    summary: dict[str, Any]


def _shadow_route(ctx: Context) -> None:
    """v1 stable with v2 in shadow; once a rollout promoted the candidate, just the stable version."""
    try:
        route = get_route(ctx, SERVICE_NAME, ENVIRONMENT)
        if route.mode == "shadow" or route.step is not None:
            return  # already shadowing, or a rollout owns the route
    except NotFound:
        pass
    with connect(ctx.engine) as conn:
        stable, candidate = (resolve_version(conn, SERVICE_NAME, tag).id for tag in ("stable", "candidate"))
    if stable == candidate:
        set_route(ctx, SERVICE_NAME, ENVIRONMENT, stable="stable", clear_candidate=True, mode="stable", weight=0)
    else:
        set_route(ctx, SERVICE_NAME, ENVIRONMENT, stable="stable", candidate="candidate", mode="shadow", weight=0)


def run_traffic(settings: Settings, applications: int, burst: int, seed: int,
                step: Callable[[str], None] = lambda _: None, tick: Callable[[], None] = lambda: None) -> TrafficReport:
    """Route v1 stable with v2 in shadow, serve over HTTP, send applications, then a kill-switch burst."""
    ctx = Context.open(settings)
    gateway = None
    try:
        _shadow_route(ctx)
        started = ctx.clock.now()
        gateway = Gateway(ctx, ENVIRONMENT, pseudonym_key=load_key(settings.pseudonym_key, settings.home)).start()
        with serving(create_app(gateway)) as url, httpx.Client(base_url=url, timeout=30) as client:
            def send(case_id: str, inputs: dict[str, Any]) -> dict[str, Any]:
                response = client.post(f"/v1/services/{SERVICE_NAME}/decisions",
                                       json={"case_id": case_id, "inputs": inputs})
                response.raise_for_status()
                return response.json()

            step(f"serving at {url}: {applications} applications, v1 answering, v2 in shadow")
            served = stream(send, applications, seed, tick=tick)
            step("kill switch on: the fallback answers")
            set_fallback(ctx, SERVICE_NAME, ENVIRONMENT, True)
            gateway.refresh()
            burst_tally = stream(send, burst, seed + 1, tick=tick)
            set_fallback(ctx, SERVICE_NAME, ENVIRONMENT, False)
            gateway.refresh()
            step("kill switch off: v1 answers again")
        gateway.wait_for_shadow()
        gateway.close()
        gateway = None
        with connect(ctx.engine) as conn:
            summary = traffic_summary(conn, SERVICE_NAME, ENVIRONMENT, since=started)
        return TrafficReport(url, served, burst_tally, summary)
    finally:
        if gateway is not None:
            gateway.close()
        ctx.close()
