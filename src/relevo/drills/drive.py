"""Driving a drill's traffic through its gateway, as clients do: each request with an Idempotency-Key,
retried while the store is away, until answered or the client gives up; and what was answered,
when, and whether the decision log still holds it afterwards."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

from sqlalchemy import select

from relevo.clock import SimulatedClock
from relevo.drills.traffic import Traffic
from relevo.drills.world import World
from relevo.errors import NotFound, RelevoError, StoreUnavailable
from relevo.gateway.decision import Decision
from relevo.gateway.gateway import Gateway
from relevo.gateway.validation import InputRejected
from relevo.store.tables import decisions

BATCH = 10  # requests sent together: the simulated clock moves by their arrival times after each batch
CLIENTS = 8  # concurrent clients
REAL_RATE = 100.0  # requests a second on the real clock: a few seconds of traffic show what a day does not
PATIENCE_S = 30.0  # how long a client keeps retrying a request (real seconds) before it gives up
RETRY_S = (0.05, 0.5)  # a client's first wait before a retry, and its longest


@dataclass(frozen=True)
class Answer:
    """One request: when it was answered (seconds on the drill's stopwatch), what it got, after how many tries."""

    at: float
    case_id: str
    decision: Decision | None
    attempts: int
    error: str | None = None  # why it got no answer


class Driver:
    """Sends the traffic, paced on the simulated clock (or at REAL_RATE on the real one), and keeps the answers."""

    def __init__(self, world: World, gateway: Gateway, traffic: Traffic, *, real_time: bool,
                 stopwatch: str = "clock", progress: Callable[[str], None] | None = None) -> None:
        self.world = world
        self.gateway = gateway
        self.clock = world.ctx.clock
        self.real_time = real_time
        self.stopwatch = stopwatch  # clock: the drill's clock; real: seconds as they pass, whatever the clock
        self.cases = traffic.stream()
        self.seconds_per_case = 86400 / traffic.daily_cases
        self.progress = progress or (lambda _line: None)
        self.answers: list[Answer] = []
        self.failures: list[float] = []  # when an attempt failed (the store away), on the stopwatch
        self._moments: list[tuple[float, str]] = []
        self.fault_at: float | None = None
        self._clock_start = self.clock.now()
        self._monotonic_start = time.monotonic()
        self._pool = ThreadPoolExecutor(max_workers=CLIENTS, thread_name_prefix="drill-client")

    @property
    def resolution_s(self) -> float:
        """How finely a moment is measured: one batch's worth of arrivals on the simulated clock."""
        return 0.0 if self.real_time or self.stopwatch == "real" else BATCH * self.seconds_per_case

    def now(self) -> float:
        """Seconds since the drill began, on its stopwatch."""
        if self.stopwatch == "real":
            return time.monotonic() - self._monotonic_start
        return (self.clock.now() - self._clock_start).total_seconds()

    def moment(self, at: datetime) -> float:
        """A time of the drill's clock on its stopwatch (the clock's stopwatch only)."""
        return (at - self._clock_start).total_seconds()

    def since_fault(self, at: float | None) -> float | None:
        """A moment as seconds after the fault (None stays None)."""
        return None if at is None or self.fault_at is None else round(max(0.0, at - self.fault_at), 3)

    def mark(self, what: str, at: float | None = None) -> None:
        """A moment of the timeline (at: when, on the stopwatch; default now)."""
        self._moments.append((self.now() if at is None else at, what))
        self.progress(what)

    def timeline(self) -> list[dict[str, Any]]:
        """The moments in order, in seconds after the fault (before it: negative)."""
        origin = self.fault_at or 0.0
        return [{"at_seconds": round(at - origin, 3), "what": what} for at, what in sorted(self._moments, key=lambda m: m[0])]

    def fault(self, what: str) -> None:
        """The fault is injected now."""
        self.fault_at = self.now()
        self.mark(what)

    def batch(self) -> list[Answer]:
        """Send one batch and pace the clock; its answers."""
        started = time.monotonic()
        if not self.real_time:
            try:  # as the gateway's poll would have by now: the clock jumped
                self.gateway.refresh()
            except RelevoError:
                pass  # the store is away; the poll says so in readiness
        chunk = [next(self.cases) for _ in range(BATCH)]
        answers = list(self._pool.map(self._ask, chunk))
        self.answers.extend(answers)
        if self.real_time:
            time.sleep(max(0.0, started + BATCH / REAL_RATE - time.monotonic()))
        elif isinstance(self.clock, SimulatedClock):
            self.clock.advance(timedelta(seconds=self.seconds_per_case * len(chunk)))
        if len(self.answers) % (20 * BATCH) == 0:
            self.progress(f"{len(self.answers)} requests sent")
        return answers

    def _ask(self, case: tuple[str, dict[str, Any]]) -> Answer:
        case_id, inputs = case
        key = uuid.uuid4().hex  # a retry is the same request: never a second decision
        attempts, wait = 0, RETRY_S[0]
        give_up = time.monotonic() + PATIENCE_S
        while True:
            attempts += 1
            try:
                decision = self.gateway.decide(self.world.spec.name, case_id, inputs, idempotency_key=key)
                return Answer(self.now(), case_id, decision, attempts)
            except InputRejected as exc:
                return Answer(self.now(), case_id, None, attempts, f"refused: {exc}")
            except (StoreUnavailable, NotFound) as exc:  # a 503, or the service not served yet: retried
                self.failures.append(self.now())
                if time.monotonic() + wait > give_up:
                    return Answer(self.now(), case_id, None, attempts, str(exc))
            time.sleep(wait)
            wait = min(wait * 2, RETRY_S[1])

    @property
    def sent(self) -> int:
        """Requests sent so far."""
        return len(self.answers)

    def after_fault(self) -> list[Answer]:
        """The answers given after the fault."""
        return [a for a in self.answers if self.fault_at is not None and a.at >= self.fault_at]

    def lost(self) -> int:
        """Acknowledged decisions the scratch decision log does not hold."""
        given = [a.decision.id for a in self.answers if a.decision is not None]
        found: set[str] = set()
        with self.world.ctx.engine.connect() as conn:
            for start in range(0, len(given), 500):
                found.update(conn.execute(select(decisions.c.id).where(
                    decisions.c.id.in_(given[start:start + 500]))).scalars())
        return len(set(given) - found)

    def close(self) -> None:
        """Stop the clients."""
        self._pool.shutdown(wait=True)
