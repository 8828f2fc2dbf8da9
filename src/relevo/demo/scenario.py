"""The reference scenario, simulated: a new licence pre-filter as a 5% canary for 48 hours.

v3 (which rejects noticeably more) is rolled out first and rolled back automatically on the
judge's evidence, with an incident; starting it again is refused until the incident records a
cause. Then v2 goes through the standard plan (shadow, 5% canary, 50% canary) and is promoted,
by the controller or, if a step ends without conclusive evidence, by an approver who did not
start the rollout. Then two days are monitored, the second under a new application form
(relevo.demo.monitoring_story). Everything runs through the real gateway, store and controller on a
simulated clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterator

from relevo.clock import SimulatedClock
from relevo.context import Context
from relevo.demo import SERVICE_NAME
from relevo.demo.applications import generate
from relevo.demo.monitoring_story import MonitoringStory, tell_monitoring
from relevo.demo.governance import DEMO_LEAD, prepare_release, record_production
from relevo.demo.people import APPROVER, PUBLISHER, as_person
from relevo.demo.traffic import REQUEST_FIELDS
from relevo.errors import Refused
from relevo.gateway import Gateway, load_keyring
from relevo.rollouts import (
    RolloutStatus,
    RolloutSummary,
    SimulationResult,
    promote,
    rollout_history,
    rollout_status,
    route_by_hand,
    simulate_rollout,
    start_rollout,
)
from relevo.settings import Settings

ENVIRONMENT = "production"
BAD_HORIZON = timedelta(days=3)  # v3's 48-hour canary, and a margin
GOOD_HORIZON = timedelta(days=11)  # v2's standard plan (9 days), and a margin
MONITORING_DAYS = timedelta(days=3)  # two monitored days after the promotion, from the next midnight
# simulated time ends before now (v2's deployment notice is given its lead time ahead)
SCENARIO_SPAN = BAD_HORIZON + DEMO_LEAD + GOOD_HORIZON + MONITORING_DAYS + timedelta(days=1)
JUDGE_EVERY = 10  # the controller's tick: every 1,000 simulated decisions (8 simulated hours)
HELD_REASON = ("the demo's reference scenario: the step ended without the evidence; promoted to finish the story, "
               "as an approver would after reading the verdicts")


@dataclass
class ScenarioReport:
    """What happened, for printing."""

    already_ran: bool = False
    bad: SimulationResult | None = None
    bad_status: RolloutStatus | None = None
    refused: str | None = None
    good: SimulationResult | None = None
    good_status: RolloutStatus | None = None
    approved_by: str | None = None
    held_because: str | None = None
    history: list[RolloutSummary] = field(default_factory=list)
    monitoring: MonitoringStory | None = None


def cases(seed: int) -> Iterator[tuple[str, dict, str]]:
    """Endless generated applications with the outcome a case worker would find."""
    block = 0
    while True:
        for i, row in enumerate(generate(2000, seed + block)):
            yield f"SIM-{seed + block:04d}-{i:05d}", {k: row[k] for k in REQUEST_FIELDS}, row["outcome"]
        block += 1


# The scenario rehearses the canary's automatic rollback on v3, which its suite already fails:
# the service owner waives what would otherwise hold it, and says why.
REHEARSAL = ("rehearsal of the canary's automatic rollback: v3 is sent to 5% of simulated applications on "
             "purpose, although its suite fails, to show the judge stopping it")
REHEARSAL_WAIVERS = {"tests": REHEARSAL, "staging": REHEARSAL,
                     "shadow": "the reference scenario's plan is a 5% canary for 48 hours, without shadowing",
                     "communication": "a rehearsal on simulated applications: no citizen gets v3's answers, so "
                                      "nobody is given notice"}


def run_scenario(settings: Settings, *, daily_cases: int = 3000, seed: int = 48,
                 step: Callable[[str], None] = lambda _: None, start: datetime | None = None,
                 monitoring: bool = True) -> ScenarioReport:
    """Run the reference scenario once per store; later runs only report its history.

    Simulated time starts at start (default: SCENARIO_SPAN before now), so that everything it
    records lies in the past: it never dates a decision, an incident or an audit event after the
    moment it is read.
    """
    report = ScenarioReport()
    now = datetime.now(timezone.utc).replace(microsecond=0)
    clock = SimulatedClock(start or now - SCENARIO_SPAN)
    ctx = as_person(Context.open(settings, clock=clock), PUBLISHER)  # who starts the rollouts
    try:
        report.history = rollout_history(ctx, SERVICE_NAME, ENVIRONMENT)
        if report.history:
            report.already_ran = True
            return report
        # An operator clears the demo's shadow route: each rollout sets the route its steps need.
        route_by_hand(ctx, SERVICE_NAME, ENVIRONMENT, clear_candidate=True, mode="stable", weight=0)
        gateway = Gateway(ctx, ENVIRONMENT, pseudonym_key=load_keyring(settings)).start()
        try:
            record_production(ctx)
            prepare_release(ctx, "v3", "canary-only", REHEARSAL_WAIVERS, step)
            step(f"rollout of v3 as a 5% canary for 48 h, {daily_cases} applications a day (simulated clock)")
            bad = start_rollout(ctx, SERVICE_NAME, "v3", ENVIRONMENT, plan="canary-only")
            report.bad = simulate_rollout(ctx, clock, gateway, bad, cases(seed), daily_cases=daily_cases, seed=seed,
                                          horizon=BAD_HORIZON, judge_every=JUDGE_EVERY)
            report.bad_status = rollout_status(ctx, SERVICE_NAME, ENVIRONMENT, bad.id)
            step(f"v3: {report.bad.rollout.state} after {report.bad.decisions} decisions "
                 f"({report.bad.simulated.total_seconds() / 3600:.1f} simulated hours)")
            try:
                start_rollout(ctx, SERVICE_NAME, "v3", ENVIRONMENT, plan="canary-only")
            except Refused as exc:
                report.refused = str(exc)
            prepare_release(ctx, "v2", step=step)
            good = start_rollout(ctx, SERVICE_NAME, "v2", ENVIRONMENT)
            step(f"rollout of v2 through the {good.plan_name} plan: " + ", ".join(
                f"{s['kind']}" + (f" {s['weight']:g}%" if "weight" in s else "") + (f" {s['duration']}" if "duration" in s else "")
                for s in good.plan if s["kind"] != "promote"))
            report.good = simulate_rollout(ctx, clock, gateway, good, cases(seed + 1000), daily_cases=daily_cases,
                                           seed=seed + 1, horizon=GOOD_HORIZON, judge_every=JUDGE_EVERY)
            if report.good.rollout.state == "held":
                # The evidence did not pass by the end of a step: only an approver's override,
                # with its reason on record, promotes now.
                report.held_because = report.good.rollout.hold_reason
                promote(as_person(ctx, APPROVER), good.id, override=HELD_REASON)
                report.approved_by = APPROVER
            report.good_status = rollout_status(ctx, SERVICE_NAME, ENVIRONMENT, good.id)
            if monitoring:
                step("monitoring: two days after the promotion, the second on a new application form")
                report.monitoring = tell_monitoring(ctx, clock, gateway, daily_cases, seed + 7, step)
        finally:
            gateway.close()
        report.history = rollout_history(ctx, SERVICE_NAME, ENVIRONMENT)
        return report
    finally:
        ctx.close()
