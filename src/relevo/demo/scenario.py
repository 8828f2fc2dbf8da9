"""The reference scenario, simulated: a new licence pre-filter as a 5% canary for 48 hours.

v3 (which rejects noticeably more) is rolled out first and rolled back automatically on the
judge's evidence, with an incident; starting it again is refused until the incident records a
cause. Then v2 goes through the standard plan (shadow, 5% canary, 50% canary) and is promoted,
by the controller or, if a step ends without conclusive evidence, by an approver who did not
start the rollout. Everything runs through the real gateway, store and controller on a
simulated clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Iterator

from relevo.clock import SimulatedClock
from relevo.context import Context
from relevo.demo import SERVICE_NAME
from relevo.demo.applications import generate
from relevo.demo.traffic import REQUEST_FIELDS
from relevo.errors import Refused
from relevo.gateway.gateway import Gateway
from relevo.gateway.pseudonym import load_key
from relevo.rollouts import lifecycle
from relevo.rollouts.queries import rollout_history, rollout_status
from relevo.rollouts.simulation import SimulationResult, simulate_rollout
from relevo.routing.table import set_route
from relevo.settings import Settings

ENVIRONMENT = "production"
APPROVER = "service-owner"


@dataclass
class ScenarioReport:
    """What happened, for printing."""

    already_ran: bool = False
    bad: SimulationResult | None = None
    bad_status: dict | None = None
    refused: str | None = None
    good: SimulationResult | None = None
    good_status: dict | None = None
    approved_by: str | None = None
    history: list[dict] = field(default_factory=list)


def cases(seed: int) -> Iterator[tuple[str, dict, str]]:
    """Endless generated applications with the outcome a case worker would find."""
    block = 0
    while True:
        for i, row in enumerate(generate(2000, seed + block)):
            yield f"SIM-{seed + block:04d}-{i:05d}", {k: row[k] for k in REQUEST_FIELDS}, row["outcome"]
        block += 1


def run_scenario(settings: Settings, *, daily_cases: int = 3000, seed: int = 48,
                 step: Callable[[str], None] = lambda _: None) -> ScenarioReport:
    """Run the reference scenario once per store; later runs only report its history."""
    report = ScenarioReport()
    clock = SimulatedClock(datetime.now(timezone.utc).replace(microsecond=0))
    ctx = Context.open(settings, clock=clock)
    try:
        report.history = rollout_history(ctx, SERVICE_NAME, ENVIRONMENT)
        if report.history:
            report.already_ran = True
            return report
        set_route(ctx, SERVICE_NAME, ENVIRONMENT, stable="v1", clear_candidate=True, mode="stable", weight=0)
        gateway = Gateway(ctx, ENVIRONMENT, pseudonym_key=load_key(settings.pseudonym_key, settings.home)).start()
        try:
            step(f"rollout of v3 as a 5% canary for 48 h, {daily_cases} applications a day (simulated clock)")
            bad = lifecycle.start_rollout(ctx, SERVICE_NAME, "v3", ENVIRONMENT, plan="canary-only")
            report.bad = simulate_rollout(ctx, clock, gateway, bad, cases(seed), daily_cases=daily_cases, seed=seed)
            report.bad_status = rollout_status(ctx, SERVICE_NAME, ENVIRONMENT, bad.id)
            step(f"v3: {report.bad.rollout.state} after {report.bad.decisions} decisions "
                 f"({report.bad.simulated.total_seconds() / 3600:.1f} simulated hours)")
            try:
                lifecycle.start_rollout(ctx, SERVICE_NAME, "v3", ENVIRONMENT, plan="canary-only")
            except Refused as exc:
                report.refused = str(exc)
            step("rollout of v2 through the standard plan: shadow 24 h, canary 5% 48 h, canary 50% 24 h")
            good = lifecycle.start_rollout(ctx, SERVICE_NAME, "v2", ENVIRONMENT)
            report.good = simulate_rollout(ctx, clock, gateway, good, cases(seed + 1000), daily_cases=daily_cases,
                                           seed=seed + 1)
            if report.good.rollout.state == "held":
                approver = Context(ctx.engine, ctx.blobs, clock, APPROVER)
                lifecycle.promote(approver, good.id)
                report.approved_by = APPROVER
            report.good_status = rollout_status(ctx, SERVICE_NAME, ENVIRONMENT, good.id)
        finally:
            gateway.close()
        report.history = rollout_history(ctx, SERVICE_NAME, ENVIRONMENT)
        return report
    finally:
        ctx.close()
