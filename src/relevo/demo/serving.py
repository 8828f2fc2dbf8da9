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
from relevo.clock import Clock
from relevo.context import Context
from relevo.demo import SERVICE_NAME
from relevo.demo.people import PORTAL, PUBLISHER, as_person, meet_the_people, token_of
from relevo.demo.traffic import Tally, stream
from relevo.errors import NotFound
from relevo.gateway import Gateway, load_keyring
from relevo.monitoring import TrafficSummary, traffic_summary
from relevo.registry import resolve_version
from relevo.rollouts import fallback_by_hand, route_by_hand
from relevo.routing import get_route
from relevo.settings import Settings
from relevo.store import connect

ENVIRONMENT = "production"


@dataclass(frozen=True)
class TrafficReport:
    """What the demo's traffic showed."""

    url: str
    served: Tally
    fallback_burst: Tally
    summary: TrafficSummary


def _shadow_route(ctx: Context) -> None:
    """v1 stable with v2 in shadow; once a rollout promoted the candidate, just the stable version."""
    try:
        route = get_route(ctx, SERVICE_NAME, ENVIRONMENT)
        if route.mode == "shadow" or route.step is not None:
            return  # already shadowing, or a rollout owns the route
    except NotFound:
        pass
    with connect(ctx.engine) as conn:
        try:
            stable, candidate = (resolve_version(conn, SERVICE_NAME, tag).id for tag in ("stable", "candidate"))
        except NotFound:  # a promotion takes the candidate tag off its version: nothing to shadow
            return
    if stable != candidate:  # a shadow route sends citizens nothing: an operator sets it
        route_by_hand(ctx, SERVICE_NAME, ENVIRONMENT, candidate="candidate", mode="shadow", weight=0)


def run_traffic(settings: Settings, applications: int, burst: int, seed: int,
                step: Callable[[str], None] = lambda _: None, tick: Callable[[], None] = lambda: None,
                clock: Clock | None = None) -> TrafficReport:
    """Serve over HTTP (the stable version answering, the candidate in shadow while it is one),
    send applications, then a kill-switch burst."""
    ctx = as_person(Context.open(settings, clock=clock), PUBLISHER)  # who sets the routes and the kill switch
    gateway = None
    try:
        meet_the_people(ctx)
        portal = token_of(ctx, PORTAL, "the demo's traffic", hours=1)  # the portal posts the applications
        _shadow_route(ctx)
        started = ctx.clock.now()
        gateway = Gateway(ctx, ENVIRONMENT, pseudonym_key=load_keyring(settings)).start()
        with (serving(create_app(settings, gateway)) as url,
              httpx.Client(base_url=url, timeout=30, headers={"Authorization": f"Bearer {portal}"}) as client):
            def send(case_id: str, inputs: dict[str, Any]) -> dict[str, Any]:
                response = client.post(f"/v1/services/{SERVICE_NAME}/decisions",
                                       json={"case_id": case_id, "inputs": inputs})
                response.raise_for_status()
                return response.json()

            runtime = gateway.runtime(SERVICE_NAME)
            answering = runtime.stable.record.name if runtime.stable else "the fallback"
            shadowing = f", {runtime.shadow.record.name} in shadow" if runtime.shadow else ""
            step(f"serving at {url}: {applications} applications, {answering} answering{shadowing}")
            served = stream(send, applications, seed, tick=tick)
            step("kill switch on: the fallback answers")
            fallback_by_hand(ctx, SERVICE_NAME, ENVIRONMENT, True)
            gateway.refresh()
            burst_tally = stream(send, burst, seed + 1, tick=tick)
            fallback_by_hand(ctx, SERVICE_NAME, ENVIRONMENT, False)
            gateway.refresh()
            step(f"kill switch off: {answering} answers again")
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
