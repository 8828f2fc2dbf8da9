"""The rollout controller: an idempotent reconcile of every active rollout, run on clock ticks
and after batches of decisions.

For a running rollout: make sure the routing table matches the step; judge the step's
decisions; roll back at once on a failing verdict or a guard; when the step's minimum duration
is over, advance if every criterion that applies there has positive evidence (from this step
or an earlier one), or hold for a person if the evidence is not there. A held step is never
promoted by a timer, and the plan's promote step promotes only when every criterion was shown
within its tolerance somewhere (and the spec does not ask for an approver). Every automatic
action is recorded as the controller's.

A blue/green step has two phases, each judged and timed on its own decisions: the preview (the
candidate answers mirrored copies, judged on the pairs as a shadow step) and, once the preview
passed, the switch (the candidate answers every case, watched with the guards and the criteria
it alone can show for the step's `watch_after_switch`). Only then does the rollout move on.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta
from typing import Callable

from sqlalchemy import select

from relevo.analysis.judge import Verdict
from relevo.audit import checkpoint_if_due
from relevo.context import Context
from relevo.rollouts.judgement import judge_rollout, never_shown, record_verdict, record_verdict_in, shown_earlier
from relevo.rollouts.leadership import Lease
from relevo.errors import Refused
from relevo.rollouts.lifecycle import advance, apply_step_route, hold, promote, rollback, switch, wait_for_window
from relevo.rollouts.rollout import Rollout, load_rollout
from relevo.services.catalogue import get_spec
from relevo.services.windows import waiting_reason
from relevo.store import connect
from relevo.store.tables import rollouts

log = logging.getLogger(__name__)
CONTROLLER = "relevo-controller"  # the actor of every automatic action in the audit log


def _promote_or_hold(ctx: Context, rollout: Rollout) -> Rollout:
    """At the plan's promote step: promote when every criterion was shown within its tolerance
    and the spec does not ask for an approver's confirmation; otherwise hold for a person."""
    held = None
    with connect(ctx.engine) as conn:
        spec = get_spec(conn, rollout.service)
        policy = spec.rollout
        closed = waiting_reason(spec.windows, ctx.clock.now())
        if closed is not None:  # promoted at the window's opening
            return wait_for_window(conn, load_rollout(conn, rollout.id, lock=True), closed)
        missing = never_shown(policy, set(shown_earlier(conn, rollout, policy)))
        if missing or policy.require_approval:
            locked = load_rollout(conn, rollout.id, lock=True)
            if locked.state != "running":
                return locked
            reason = (f"no step showed {', '.join(missing)} within the tolerance; an approver may promote with an "
                      f"override and a reason" if missing else
                      "the spec asks for an approver's confirmation before every promotion")
            held = hold(conn, ctx, locked, reason)
    if held is not None:
        return held
    try:
        return promote(ctx, rollout.id, automatic=True)
    except Refused as exc:
        # The candidate no longer loads intact or answers (its files changed after the gateways
        # loaded it): it may be answering citizens at this moment, so it goes, with an incident.
        return rollback(ctx, rollout.id, str(exc), {"promotion_refused": str(exc)}, automatic=True)


def reconcile(ctx: Context, rollout_id: int) -> Rollout:
    """One idempotent step of the controller for one rollout (acting as the controller)."""
    ctx = ctx.acting_as(CONTROLLER)
    with connect(ctx.engine) as conn:
        rollout = load_rollout(conn, rollout_id)
        if rollout.state != "running":
            return rollout
        if rollout.step["kind"] != "promote":
            apply_step_route(conn, ctx, rollout)  # a restarted controller resumes where it was
    if rollout.step["kind"] == "promote":
        return _promote_or_hold(ctx, rollout)
    judgement = judge_rollout(ctx, rollout)
    record_verdict(ctx, rollout, judgement)
    if judgement.verdict is Verdict.FAIL:
        failing = [m for m in judgement.metrics if m.verdict is Verdict.FAIL]
        reason = judgement.guard or "; ".join(f"{m.name}: {m.reason}" for m in failing)
        return rollback(ctx, rollout.id, reason, {"judgement": judgement.as_dict()}, automatic=True)
    if ctx.clock.now() < rollout.step_ends_at():
        return rollout
    judged = rollout.step_label
    with connect(ctx.engine) as conn:
        rollout = load_rollout(conn, rollout_id, lock=True)
        if rollout.state != "running" or rollout.step_label != judged:
            return rollout
        closed = waiting_reason(get_spec(conn, rollout.service).windows, ctx.clock.now())
        if judgement.verdict is Verdict.PASS and closed is not None:
            return wait_for_window(conn, rollout, closed)  # it moves on at the window's opening, still judged
        record_verdict_in(conn, ctx, rollout, judgement, final=True)  # the numbers this step ends on
        if judgement.verdict is Verdict.PASS and rollout.phase == "preview":
            return switch(conn, ctx, rollout, judgement)
        moved = None
        if judgement.verdict is Verdict.PASS:
            moved = advance(conn, ctx, rollout, judgement)
        else:
            waiting = [f"{m.name}: {m.reason}" for m in judgement.metrics
                       if m.effective is not Verdict.PASS and m.verdict is not Verdict.NOT_APPLICABLE]
            if not waiting:
                waiting = ["no criterion could be judged in this step"]
            held = hold(conn, ctx, rollout, "step ended without conclusive evidence: " + "; ".join(waiting),
                        judgement)
    if moved is None:
        return held  # people are told after the commit: a webhook must not hold the store's write lock
    if moved.step["kind"] == "promote":
        return _promote_or_hold(ctx, moved)
    return moved


class Pacing:
    """Keeps judging to a share of one core. Judging re-reads a step's decisions (seconds for tens
    of thousands), so a rollout whose last reconcile took d seconds is reconciled again only
    d / share seconds later; the verdicts stay valid however seldom they are read."""

    def __init__(self, share: float = 0.05, now: Callable[[], float] = time.monotonic) -> None:
        self.share = share
        self.now = now
        self._due: dict[int, float] = {}

    def due(self, rollout_id: int) -> bool:
        """True when the rollout may be reconciled now."""
        return self.now() >= self._due.get(rollout_id, float("-inf"))

    def spent(self, rollout_id: int, seconds: float) -> None:
        """Record that reconciling the rollout took seconds (just now)."""
        self._due[rollout_id] = self.now() + seconds / self.share - seconds


def tick(ctx: Context, pacing: Pacing | None = None, leading: Callable[[], bool] | None = None) -> list[Rollout]:
    """Reconcile every running rollout once (those pacing lets through, if given), each while
    leading() renews the controller's lease (if given)."""
    with connect(ctx.engine) as conn:
        ids = list(conn.execute(select(rollouts.c.id).where(rollouts.c.state == "running")).scalars())
    out = []
    for rollout_id in ids:
        if pacing is not None and not pacing.due(rollout_id):
            continue
        if leading is not None and not leading():  # a long tick keeps the lease, or stops when it lapsed
            break
        started = time.perf_counter()
        try:
            out.append(reconcile(ctx, rollout_id))
        except Exception:  # one broken rollout must not stop the others being judged
            log.exception("reconciling rollout %s failed", rollout_id)
        if pacing is not None:
            pacing.spent(rollout_id, time.perf_counter() - started)
    return out


class Controller:
    """Runs tick() every interval in a background thread (inside `relevo serve` or alone), while
    it holds the controllers' lease; replicas without the lease stand by."""

    def __init__(self, ctx: Context, interval: float = 5.0, lease: Lease | None = None) -> None:
        self.ctx = ctx
        self.interval = interval
        # At least two intervals: a missed renewal is not a death. The lease is renewed before each
        # rollout is judged, so a tick judging many rollouts keeps it.
        self.lease = lease or Lease(ctx, ttl=max(ctx.controller_lease, timedelta(seconds=2 * interval)))
        self.pacing = Pacing()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="relevo-controller", daemon=True)

    def start(self) -> "Controller":
        """Start ticking."""
        self._thread.start()
        return self

    def step(self) -> list[Rollout] | None:
        """One tick if this controller leads (the rollouts reconciled), None if it stands by."""
        if not self.lease.acquire():
            return None
        done = tick(self.ctx, self.pacing, self.lease.acquire)
        try:  # the leader also signs the audit log's interval checkpoints
            checkpoint_if_due(self.ctx, self.ctx.audit_every)
        except Exception as exc:  # a missing key must not stop rollouts being judged; verify reports the gap
            log.warning("could not sign an audit checkpoint: %s", exc)
        return done

    def nudge(self) -> None:
        """Tick now rather than at the next interval (a gateway calls this after a batch of decisions)."""
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait(self.interval)
            if self._stop.is_set():
                return
            self._wake.clear()
            try:
                self.step()
            except Exception as exc:  # the store may be away for a while; try again next tick
                log.warning("controller tick failed: %s", exc)

    def close(self) -> None:
        """Stop ticking and hand the lease over."""
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=self.interval + 5)
        try:
            self.lease.release()
        except Exception as exc:  # the lease then simply expires
            log.warning("could not release the controller lease: %s", exc)
