"""The four rehearsed faults: how each is injected into the scratch world, and what counts as its
detection and its recovery, measured from the moment of the fault."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from relevo.drills.drive import BATCH, Driver
from relevo.drills.faults import Bias, Faults
from relevo.drills.world import World
from relevo.gateway.gateway import Gateway
from relevo.rollouts.controller import Controller, reconcile
from relevo.rollouts.incidents import list_incidents
from relevo.rollouts.lifecycle import start_rollout
from relevo.rollouts.rollout import Rollout, load_rollout
from relevo.store import connect

WARM_UP = 2  # batches answered as usual before the fault
TAIL = 3  # batches after recovery, showing it holds
MAX_REQUESTS = 2000  # a drill that has not recovered by then has its answer
REAL_HORIZON_S = 8.0  # on the real clock: seconds of traffic after the fault, at most
BIAS_SHARE = 0.6  # of the cases the stable version decides otherwise, the bad candidate turns this share
FAULT_CAUSES = ("error", "timeout", "circuit_open", "unavailable")


@dataclass
class Measured:
    """A scenario's moments (on the driver's stopwatch) and what it found."""

    detect_at: float | None = None
    recover_at: float | None = None
    findings: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    lost: int = 0  # acknowledged decisions the scratch decision log does not hold afterwards


@dataclass(frozen=True)
class Setting:
    """What a scenario needs besides its world: the gateway, the traffic's driver, the faults, the horizon."""

    world: World
    gateway: Gateway
    driver: Driver
    faults: Faults
    horizon_s: float  # seconds after the fault the drill waits for detection and recovery, at most
    stable_files: Path  # the real stable version's files (for the bad candidate's copy)


def _going(s: Setting) -> bool:
    after = s.driver.since_fault(s.driver.now())
    limit = REAL_HORIZON_S if s.driver.real_time else s.horizon_s
    return s.driver.sent < MAX_REQUESTS and (after is None or after <= limit)


def _tail(s: Setting) -> None:
    for _ in range(TAIL):
        s.driver.batch()


def unfavourable(world: World) -> str:
    """The decision a bad candidate gives too often: the one the spec's decision_rate criterion watches,
    else the last of its decisions."""
    watched = [c.label for c in world.spec.rollout.criteria if c.metric == "decision_rate" and c.label]
    return str(watched[0]) if watched else world.spec.decisions[-1]


def bad_candidate(s: Setting) -> Measured:
    """A candidate that gives the unfavourable decision far more often, rolled out with the spec's default
    plan: detected when the judge (or a guard) rolls it back; recovered when the route is back on stable."""
    world, driver, out = s.world, s.driver, Measured()
    candidate = world.candidate_copy(s.stable_files)
    label = unfavourable(world)
    s.faults.bias(candidate.id, Bias(label, tuple(world.spec.decisions), BIAS_SHARE))
    world.clear_checklist(candidate)
    s.gateway.refresh()  # the candidate is loaded (wrapped) before it is routed
    for _ in range(WARM_UP):
        driver.batch()
    rollout = start_rollout(world.ctx, world.spec.name, candidate.name, world.environment)
    controller = None
    if driver.real_time:  # the controller as `relevo serve` runs it: ticks, and nudged every 50 decisions
        controller = Controller(world.ctx, interval=1.0).start()
        s.gateway.after_batch = controller.nudge
    # Versions are named as the real store names them: the scratch store numbers its copies anew.
    real = world.real_stable.name
    driver.fault(f"a bad copy of {real} (giving {label} on {BIAS_SHARE:.0%} of the other cases) rolled out with "
                 f"the {rollout.plan_name} plan")
    try:
        while _going(s) and out.recover_at is None:
            at = driver.now()
            answers = driver.batch()
            rollout = _judged(s, rollout)
            if out.detect_at is not None and not any(a.decision and a.decision.arm == "candidate" for a in answers) \
                    and _on_stable(s):
                out.recover_at = at
                driver.mark(f"every case answered by {real} alone", at)
            if out.detect_at is None and rollout.state == "rolled_back":
                out.detect_at = driver.now() if rollout.ended_at is None else driver.moment(rollout.ended_at)
                driver.mark(f"rolled back: {_reason(s, rollout)}", out.detect_at)
            elif rollout.state not in ("running", "rolled_back"):
                out.findings.append(f"the rollout of the bad candidate ended {rollout.state}, not rolled back")
                break
    finally:
        if controller is not None:
            controller.close()
    if out.recover_at is not None:
        _tail(s)
    served = Counter(a.decision.arm for a in driver.after_fault() if a.decision is not None)
    out.details = {"candidate": f"a bad copy of {real}", "unfavourable": label, "bias_share": BIAS_SHARE,
                   "plan": rollout.plan_name, "rollout_state": rollout.state,
                   "candidate_answers_to_citizens": served.get("candidate", 0)}
    if out.detect_at is None:
        out.findings.append(f"the judge did not roll the bad candidate back within {driver.sent} requests")
    return out


def _judged(s: Setting, rollout: Rollout) -> Rollout:
    """The rollout after the controller's look at the batch (on the simulated clock, it is reconciled here)."""
    if rollout.state != "running":
        return rollout
    if not s.driver.real_time:
        s.gateway.wait_for_shadow()  # shadow answers of the batch are evidence too
        return reconcile(s.world.ctx, rollout.id)
    with connect(s.world.ctx.engine) as conn:
        return load_rollout(conn, rollout.id)


def _on_stable(s: Setting) -> bool:
    route = s.gateway.runtime(s.world.spec.name).route
    return route is not None and route.candidate_version_id is None and route.mode == "stable"


def _reason(s: Setting, rollout: Rollout) -> str:
    """The rollback's incident, as its title says it."""
    found = [i for i in list_incidents(s.world.ctx, s.world.spec.name) if i.id == rollout.incident_id]
    return found[0].title if found else "by the controller"


def _model_failure(kind: str, inject: Callable[[Setting], str]) -> Callable[[Setting], Measured]:
    def scenario(s: Setting) -> Measured:
        world, driver, out = s.world, s.driver, Measured()
        for _ in range(WARM_UP):
            driver.batch()
        driver.fault(inject(s))
        while _going(s) and out.recover_at is None:
            for a in driver.batch():
                if a.decision is None:
                    continue
                cause = a.decision.fallback_cause
                if out.detect_at is None and cause in FAULT_CAUSES:
                    out.detect_at = a.at
                    driver.mark(f"first answer by the fallback ({a.decision.served_by}, {cause})", a.at)
                if out.recover_at is None and cause == "circuit_open":
                    out.recover_at = a.at
                    driver.mark("circuit breaker open: every case answered by the fallback at once", a.at)
        if out.recover_at is not None:
            _tail(s)
        after = [a.decision for a in driver.after_fault() if a.decision is not None]
        out.details = {"fallback_causes": dict(Counter(str(d.fallback_cause) for d in after)),
                       "served_by": dict(Counter(d.served_by for d in after))}
        s.faults.clear(world.stable.id)
        restored = _restored(s)
        out.details["model_answering_again_after_seconds"] = restored
        if out.detect_at is None:
            out.findings.append(f"no answer came from the fallback within {driver.sent} requests of the {kind}")
        elif out.recover_at is None:
            out.findings.append(f"the circuit breaker never opened within {driver.sent} requests: every case still "
                                f"waited on the {kind}")
        return out

    return scenario


def _restored(s: Setting) -> float | None:
    """Once the fault is lifted: seconds until the version answers again (the breaker's half-open probes)."""
    lifted = s.driver.now()
    for _ in range(TAIL * 2):
        if any(a.decision is not None and a.decision.served_by == "version" for a in s.driver.batch()):
            s.driver.mark("fault lifted: the version answers again")
            return round(s.driver.now() - lifted, 3)
    s.driver.mark("fault lifted: the breaker still holds the version off (its open_seconds)")
    return None


def _down(s: Setting) -> str:
    s.faults.down(s.world.stable.id)
    return f"{s.world.real_stable.name} raises on every call"


def _slow(s: Setting) -> str:
    timeout = s.world.spec.timeout_ms / 1000
    sleep = min(timeout * 3, timeout + 1.0)
    s.faults.slow(s.world.stable.id, sleep)
    return f"{s.world.real_stable.name} takes {sleep * 1000:.0f} ms a call (the spec's timeout is {timeout * 1000:.0f} ms)"


def database_restart(s: Setting) -> Measured:
    """The scratch database restarts under traffic: detected at the first failed write (or readiness
    going unready), recovered once writes succeed again; clients retry with their Idempotency-Key."""
    world, driver, out = s.world, s.driver, Measured()
    for _ in range(WARM_UP):
        driver.batch()
    restart = threading.Thread(target=world.restart_database, args=(s.gateway.log,), name="drill-restart")
    readiness: list[tuple[float, bool]] = []

    def watch() -> None:  # a load balancer's readiness checks, ten a second
        while restart.is_alive():
            readiness.append((driver.now(), not s.gateway.readiness(deadline=0.5)))
            restart.join(0.1)
        readiness.append((driver.now(), not s.gateway.readiness(deadline=0.5)))

    driver.fault(f"the scratch {world.database} database restarts under traffic")
    restart.start()
    watcher = threading.Thread(target=watch, name="drill-readiness")
    watcher.start()
    while restart.is_alive() or (driver.failures and not _answered_after(driver, driver.failures[-1])):
        if not _going(s):
            break
        driver.batch()
    restart.join()
    watcher.join()
    driver.mark("the database is up again")
    unready = [at for at, ready in readiness if not ready]
    failed = [at for at in driver.failures if at >= (driver.fault_at or 0.0)]
    firsts = [t for t in (min(failed, default=None), min(unready, default=None)) if t is not None]
    if firsts:
        out.detect_at = min(firsts)
        driver.mark("first failed write" if failed and out.detect_at == min(failed) else "readiness unready",
                    out.detect_at)
    if failed:
        last = max(failed)
        later = [a.at for a in driver.answers if a.decision is not None and a.at >= last]
        if later:
            out.recover_at = min(later)
            driver.mark("writes succeed again", out.recover_at)
    elif out.detect_at is not None:
        out.recover_at = max((at for at, ready in readiness if ready), default=None)
    _tail(s)
    out.details = {"failed_attempts": len(failed), "readiness_unready_checks": len(unready),
                   "retried_requests": sum(1 for a in driver.answers if a.attempts > 1)}
    if out.detect_at is None:
        out.findings.append("no write failed and readiness never went unready: the restart was not seen, so "
                            "nothing could be measured")
    return out


def _answered_after(driver: Driver, at: float) -> bool:
    """True when the last batch holds an answer given after the moment at."""
    return any(a.decision is not None and a.at > at for a in driver.answers[-BATCH:])


SCENARIO_RUNS: dict[str, Callable[[Setting], Measured]] = {
    "bad-candidate": bad_candidate,
    "model-down": _model_failure("model that is down", _down),
    "slow-model": _model_failure("slow model", _slow),
    "database-restart": database_restart,
}
