"""Running a drill: who may, where, and the drill itself: a scratch world, its gateway with the fault
hook, the traffic, the scenario's measures held against the runbook's targets; stored and audited."""

from __future__ import annotations

import os
from datetime import datetime
from typing import Callable, Literal

from sqlalchemy import Connection

from relevo.audit.reasons import Reason, check_reason
from relevo.clock import SimulatedClock, SystemClock, parse_duration
from relevo.context import Context
from relevo.drills.drive import BATCH, REAL_RATE, Driver
from relevo.drills.faults import Faults
from relevo.drills.records import Drill, record_drill
from relevo.drills.scenarios import REAL_HORIZON_S, SCENARIO_RUNS, Measured, Setting
from relevo.drills.traffic import traffic_for
from relevo.drills.world import World, build_world
from relevo.errors import Conflict, InvalidInput, Refused
from relevo.gateway.gateway import Gateway
from relevo.routing.environments import known_environment
from relevo.services.catalogue import get_spec, spec_digest
from relevo.services.roles import require_role
from relevo.services.runbook_policy import SCENARIOS
from relevo.services.spec import ServiceSpec
from relevo.store import connect

Scenario = Literal["bad-candidate", "model-down", "slow-model", "database-restart"]
Database = Literal["sqlite", "postgresql"]
REHEARSES_IN = "staging"


def _may_run(conn: Connection, ctx: Context, service: str, environment: str, override: str | None) -> str | None:
    """Refused unless the actor is an operator or approver of the service; against production, an
    approver with a reason. The override's reason, checked, or None."""
    refusals = []
    for role in ("operators", "approvers"):
        try:
            require_role(conn, ctx, service, role)
            break
        except Refused as exc:
            refusals.append(str(exc))
    else:
        raise Refused(f"only an operator or an approver of {service} runs its drills: {'; '.join(refusals)}")
    if environment != "production":
        if override is not None:
            raise Conflict(f"an override is for a drill against production; this one runs in {environment} and "
                           "needs none")
        return None
    if override is None:
        raise Refused(f"a drill rehearses in {REHEARSES_IN} (or another environment citizens are not answered in), "
                      f"not in production: an approver of {service} may run one against production's route with "
                      "--override REASON")
    require_role(conn, ctx, service, "approvers")
    return check_reason(override, "a drill against production")


def run_drill(ctx: Context, service: str, environment: str = REHEARSES_IN, scenario: Scenario = "bad-candidate",
              real_time: bool = False, database: Database = "sqlite", override: Reason | None = None,
              progress: Callable[[str], None] | None = None) -> Drill:
    """Rehearse a fault (scenario) on a scratch copy of the service in environment: the real gateway and
    controller act; detection and recovery are timed against the runbook's targets; stored and audited."""
    if scenario not in SCENARIOS:
        raise InvalidInput(f"unknown scenario {scenario!r}: one of {', '.join(SCENARIOS)}")
    if database not in ("sqlite", "postgresql"):
        raise InvalidInput(f"a drill's scratch database is sqlite or postgresql, not {database!r}")
    known_environment(ctx, environment)
    with connect(ctx.engine) as conn:
        spec = get_spec(conn, service)
        reason = _may_run(conn, ctx, service, environment, override)
    started = ctx.clock.now()
    tell = progress or (lambda _line: None)
    tell(f"building a scratch world for {service} ({database})")
    clock = SystemClock() if real_time else SimulatedClock(started)
    world = build_world(ctx, spec, environment, database, clock)
    try:
        measured, driver = _rehearse(ctx, spec, world, scenario, real_time, tell)
    finally:
        world.close()
    return _recorded(ctx, spec, environment, scenario, real_time, database, reason, started, measured, driver, world)


def _rehearse(ctx: Context, spec: ServiceSpec, world: World, scenario: str, real_time: bool,
              tell: Callable[[str], None]) -> tuple[Measured, Driver]:
    traffic = traffic_for(ctx, spec, world.real_stable)
    faults = Faults()
    gateway = Gateway(world.ctx, world.environment, pseudonym_key=os.urandom(32), faults=faults).start()
    stopwatch = "real" if scenario == "database-restart" else "clock"  # a restart takes the time it takes
    driver = Driver(world, gateway, traffic, real_time=real_time, stopwatch=stopwatch, progress=tell)
    targets = [parse_duration(spec.runbook.detect), parse_duration(spec.runbook.recover)]
    horizon = 2 * max(t.total_seconds() for t in targets)
    setting = Setting(world, gateway, driver, faults, horizon, ctx.blobs.local_path(world.real_stable.blob_uri))
    try:
        measured = SCENARIO_RUNS[scenario](setting)
    finally:
        driver.close()
        gateway.close()
    measured.lost = driver.lost()  # read before the scratch store goes
    measured.details |= {"traffic": traffic.source, "daily_cases": round(traffic.daily_cases, 1),
                         "pace": (f"{REAL_RATE:g} requests a second" if real_time else
                                  f"{traffic.daily_cases:,.0f} cases a day ({traffic.pace})"),
                         "measured_on": ("the real clock" if real_time or stopwatch == "real" else "the simulated clock")
                         + (" (a restart takes the time it takes)" if stopwatch == "real" and not real_time else ""),
                         "resolution_seconds": round(driver.resolution_s, 1)}
    return measured, driver


def _recorded(ctx: Context, spec: ServiceSpec, environment: str, scenario: str, real_time: bool, database: str,
              reason: str | None, started: datetime, measured: Measured, driver: Driver, world: World) -> Drill:
    target_detect = parse_duration(spec.runbook.detect).total_seconds()
    target_recover = parse_duration(spec.runbook.recover).total_seconds()
    detect = driver.since_fault(measured.detect_at)
    recover = driver.since_fault(measured.recover_at)
    findings = list(measured.findings)
    if detect is not None and detect > target_detect:
        findings.append(f"detected after {detect:g} s, beyond the runbook's target of {spec.runbook.detect}")
    if measured.detect_at is not None and recover is None and not findings:
        findings.append("never recovered within the drill")
    if recover is not None and recover > target_recover:
        findings.append(f"recovered after {recover:g} s, beyond the runbook's target of {spec.runbook.recover}")
    lost = measured.lost
    unanswered = sum(1 for a in driver.answers if a.decision is None)
    if lost:
        findings.append(f"{lost} acknowledged decisions are missing from the decision log")
    if unanswered:
        reasons = sorted({a.error or "" for a in driver.answers if a.decision is None})
        findings.append(f"{unanswered} requests got no answer ({'; '.join(reasons[:2])})")
    passed = detect is not None and recover is not None and not findings
    drill = Drill(
        service=spec.name, environment=environment, scenario=scenario, clock="real" if real_time else "simulated",
        outcome="passed" if passed else "failed", detect_seconds=detect, recover_seconds=recover,
        target_detect_seconds=target_detect, target_recover_seconds=target_recover, requests=driver.sent,
        lost=lost, unanswered=unanswered, started_at=started, finished_at=ctx.clock.now(), run_by=ctx.actor,
        override_reason=reason,
        details={"findings": findings, "timeline": driver.timeline(), "database": database,
                 "stable": world.real_stable.name, "spec_sha256": spec_digest(spec), "rehearsal": world.rehearsal,
                 "batch": BATCH, "real_horizon_seconds": REAL_HORIZON_S if real_time else None} | measured.details)
    with connect(ctx.engine) as conn:
        drill_id = record_drill(conn, ctx, drill)
    return Drill(**{**drill.__dict__, "id": drill_id})
