"""Judging a rollout step as it grows: a tick from the kept evidence vs reading the whole step.

    python benchmarks/judge_tick.py [--sizes 10000,100000,1000000,3000000] [--old-up-to 1000000]
        [--ticks 5] [--history 0] [--log-sizes 0,3000000,11000000] [--log-step 60000]
        [--rates 1,10,100] [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test] [--profile]

A store (SQLite in a temporary folder by default; on PostgreSQL a fresh schema of the database
given, dropped at the end) holds the demo service with v2 rolling out as a 5% canary (the demo
spec's `canary-only` plan, its checklist closed as the reference scenario does), on a simulated
clock. The step's decisions are made by the database itself (a recursive CTE on SQLite,
generate_series on PostgreSQL), 30,000 a day, one every 2.88 s: about 5% under the candidate arm,
27% rejected, latencies of 30-730 ms with 1% over the 800 ms budget, 0.3% answered by the rules
after a model timeout, the minimised inputs as the gateway logs them (age_band among them), and
for 30% of them a case worker's current verdict (13% corrections) given 1-11 h later (within the
12 h review delay), when that moment is past. --history decisions of the same service come
before the step (a tenth under another rollout's step label, the rest under none), with their
verdicts too. On PostgreSQL the months they fall in are made first, and the tables ANALYZEd after
each fill (autovacuum would do it; the planner's estimates are what the judge's reads run on).

For each step size (the step filled up to it, the clock 3 s after its last decision):
- old judge (sizes up to --old-up-to: at 3,000,000 it takes minutes and some 7 GB): the judgement
  as every tick made it before, one reading of the whole step and a replay of every batch from
  the start (`observe_step` + `judge_step` with a fresh `Ledger()`, the verdicts from
  `observe_reviews` from the step's start);
- catch-up: the first judgement with nothing kept (`judge_rollout`, keep=True), which reads the
  step in chunks and keeps its evidence: once per step (or when the criteria change);
- tick: --ticks times, 1,000 new decisions spread over the next 2 minutes (3% of them with a
  verdict within the minute) and the clock moved 2 minutes, then one `judge_rollout` (keep=True);
  the median is printed, per 1,000 new decisions;
- status: `rollout_status` right after a tick (it advances the kept evidence in memory with what
  is newer than it: the decisions of the last settle horizon), median of 3.
The old judge, the catch-up and one more tick each run in a forked child process, whose peak
resident memory above its start (Linux VmHWM, reset through /proc/self/clear_refs) is printed as
MB: everything the judgement allocates (numpy arrays, the database driver's rows), nothing the
parent held. The old judge and the catch-up are timed in that child (one run each: seconds); the
ticks and status in the parent, on its warm connection pool, as the controller runs them. The
incremental judgement after the catch-up is checked to equal the old judge's.

With --log-sizes, a second store holds a step of --log-step decisions and a log growing to each
history size in turn (rows outside the step, before it): tick and status are measured at each, to
show that neither slows with the log (the step is read through its own index).
With --rates, a third store holds a step of --log-step decisions, and then decisions come at each
rate in turn (decisions a second) with a judgement after every 50 of them, as `relevo serve`'s
gateway nudges its judge (JUDGING_BATCH): after more than a minute of them, the median of --ticks
such judgements (CPU ms), per 1,000 new decisions, and the share of a core the judge then takes.
A judgement reads again the decisions of the last minute (the settle window), so its cost per new
decision grows with the rate.
--profile prints the top functions of one more tick at each size (cProfile).

The machine the numbers in docs/benchmarks.md come from is shared: timings are noisy.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
import traceback
from contextlib import ExitStack, contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Iterator

from sqlalchemy import delete, text

from relevo.clock import SimulatedClock
from relevo.context import Context
from relevo.demo import SERVICE_NAME as SERVICE
from relevo.demo.governance import prepare_release
from relevo.demo.people import PUBLISHER, as_person, meet_the_people
from relevo.demo.scenario import REHEARSAL_WAIVERS
from relevo.demo.setup import set_up_demo
from relevo.demo.training import train_versions
from relevo.gateway.gateway import JUDGING_BATCH
from relevo.registry import resolve_version
from relevo.rollouts import start_rollout
from relevo.rollouts.judgement import judge_rollout, judge_step, judged_attributes, shown_earlier
from relevo.rollouts.ledger import Ledger
from relevo.rollouts.observations import observe_reviews, observe_step
from relevo.rollouts.queries import rollout_status
from relevo.services.catalogue import get_spec
from relevo.services.rollout_policy import parse_duration
from relevo.settings import Settings
from relevo.store import connect
from relevo.store import partitions
from relevo.store.tables import step_evidence
from scratch_schema import scratch_schema

ENVIRONMENT = "production"
GAP_MS = 2880  # 30,000 decisions a day
CHUNK = 1_000_000  # rows made in one transaction
TICK = 1000  # new decisions between two ticks
TICK_SPAN = timedelta(minutes=2)
AGE_BANDS = ("18-29", "30-44", "45-64", "65+")
LICENCES = ("activity", "works_minor", "works_major", "terrace", "events")
DISTRICTS = ("centre", "north", "south", "east", "west", "harbour")


def _pick(expr: str, values: tuple[str, ...]) -> str:
    """SQL choosing one of values by expr modulo their count (either engine)."""
    whens = " ".join(f"WHEN {i} THEN '{v}'" for i, v in enumerate(values))
    return f"CASE ({expr}) % {len(values)} {whens} END"


class Log:
    """The decision log of one store, filled by the database itself: decision n is made at
    t0 + n * gap (n < 0: history before the step)."""

    def __init__(self, ctx: Context, label: str, stable_id: int, candidate_id: int) -> None:
        self.ctx, self.label, self.stable_id, self.candidate_id = ctx, label, stable_id, candidate_id
        self.postgres = ctx.engine.dialect.name == "postgresql"

    def _sql(self, step: str, verdicts: bool) -> str:
        pg = self.postgres
        series = ("SELECT CAST(k AS BIGINT) AS k FROM generate_series(0, :count - 1) AS k" if pg else
                  "WITH RECURSIVE g(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM g WHERE k < :count - 1) SELECT k FROM g")
        hexid = "lpad(to_hex({}), 32, '0')" if pg else "printf('%032x', {})"
        moment = ("(TIMESTAMPTZ 'epoch' + ({}) * INTERVAL '1 millisecond')" if pg else
                  "(strftime('%Y-%m-%d %H:%M:%S', ({0}) / 1000, 'unixepoch') || printf('.%06d', (({0}) % 1000) * 1000))")
        obj = "jsonb_build_object" if pg else "json_object"
        # n is the decision's number (negative in the history, mapped to positive ids); h* are
        # independent hashes of it, so arm, outcome, latency and inputs do not move together.
        hashed = f"""
            SELECT n, ms, abs(n) + CASE WHEN n < 0 THEN 100000000000 ELSE 0 END AS idn,
                   (abs(n) * 2654435761 + 7) % 1000003 % 100 AS h_arm,
                   (abs(n) * 40503 + 11) % 999983 % 100 AS h_dec,
                   (abs(n) * 69069 + 3) % 1000033 % 1000 AS h_lat,
                   (abs(n) * 22695477 + 1) % 1000037 % 1000 AS h_fail,
                   (abs(n) * 1103515245 + 12345) % 1000039 AS h_in,
                   (abs(n) * 7919 + 5) % 1000081 % 100 AS h_fb,
                   (abs(n) * 31337 + 17) % 1000099 % 100 AS h_fix
            FROM (SELECT CAST(:first AS BIGINT) + k * :direction AS n, CAST(:t0 AS BIGINT) + k * :direction * :gap AS ms
                  FROM ({series}) AS g) AS r"""
        label = "CASE WHEN h_dec < 27 THEN 'rejected' ELSE 'admissible' END"
        if not verdicts:
            return f"""
            INSERT INTO decisions (id, reference, service, environment, case_pseudonym, arm, routed_version_id,
                                   served_by, decision, probabilities, fallback_cause, latency_ms, model_latency_ms,
                                   inputs, route_revision, step, created_at)
            SELECT {hexid.format('idn')}, 'LIC-' || {hexid.format('idn')}, '{SERVICE}', '{ENVIRONMENT}',
                   {hexid.format('idn * 7')} || {hexid.format('idn * 13')},
                   CASE WHEN h_arm < 5 AND n >= 0 THEN 'candidate' ELSE 'stable' END,
                   CASE WHEN h_arm < 5 AND n >= 0 THEN {self.candidate_id} ELSE {self.stable_id} END,
                   CASE WHEN h_fail < 3 THEN 'rules' ELSE 'version' END, {label},
                   CASE WHEN h_fail < 3 THEN NULL ELSE {obj}('admissible', (100 - h_dec) / 100.0,
                                                             'rejected', h_dec / 100.0) END,
                   CASE WHEN h_fail < 3 THEN 'timeout' END,
                   CASE WHEN h_lat < 10 THEN 950.0 ELSE 30 + h_lat * 0.7 END,
                   CASE WHEN h_fail < 3 THEN NULL ELSE 20 + h_lat * 0.6 END,
                   {obj}('licence_type', {_pick('h_in', LICENCES)}, 'district', {_pick('h_in / 5', DISTRICTS)},
                         'documents_complete', (h_in / 30 % 101) / 100.0, 'zoning_compatible', h_in % 7 > 0,
                         'prior_infractions', h_in / 3030 % 4, 'applicant_kind',
                         {_pick('h_in / 11', ('individual', 'company', 'association'))},
                         'submission_channel', {_pick('h_in / 13', ('online', 'in_person', 'post'))},
                         'applicant_id', 'hmac:' || {hexid.format('idn * 3')} || {hexid.format('idn * 5')},
                         'age_band', {_pick('h_in / 17', AGE_BANDS)},
                         'nationality_group', {_pick('h_in / 19', ('national', 'eu', 'non_eu'))}),
                   1, {step}, {moment.format('ms')}
            FROM ({hashed}) AS h"""
        return f"""
            INSERT INTO feedback (decision_id, outcome, decision, reason, reviewer, at)
            SELECT {hexid.format('idn')}, CASE WHEN h_fix < 13 THEN 'corrected' ELSE 'confirmed' END,
                   CASE WHEN (h_fix < 13) = (h_dec < 27) THEN 'admissible' ELSE 'rejected' END,
                   'reviewed', 'case-worker-1', {moment.format('ms + :review_base + abs(n) % 11 * :review_step')}
            FROM ({hashed}) AS h
            WHERE h_fb < :reviewed_share AND ms + :review_base + abs(n) % 11 * :review_step <= :reviewed_by"""

    def fill(self, first: int, count: int, t0: datetime, gap_ms: int, step: str | None, reviewed_share: int,
             review_base: timedelta, review_step: timedelta, reviewed_by: datetime, direction: int = 1) -> None:
        """count decisions numbered first, first + direction, ..., the k-th made at t0 + k * gap
        (direction -1: going back in time), with the verdicts of reviewed_share % of them, each
        given review_base + (n mod 11) * review_step after its decision, if by reviewed_by."""
        step_sql = "NULL" if step is None else f"'{step}'"
        if step is None:  # a tenth of the history under an earlier rollout's step
            step_sql = "CASE WHEN h_arm >= 90 THEN 'rollout-0/step-1-canary' END"
        base = {"t0": int(t0.timestamp() * 1000), "gap": gap_ms, "direction": direction,
                "reviewed_share": reviewed_share, "review_base": int(review_base.total_seconds() * 1000),
                "review_step": int(review_step.total_seconds() * 1000),
                "reviewed_by": int(reviewed_by.timestamp() * 1000)}
        done = 0
        while done < count:
            part = min(CHUNK, count - done)
            params = base | {"first": first + done * direction, "count": part,
                             "t0": base["t0"] + done * direction * gap_ms}
            with self.ctx.engine.begin() as conn:
                conn.execute(text(self._sql(step_sql, verdicts=False)), params)
                conn.execute(text(self._sql(step_sql, verdicts=True)), params)
            done += part
        if self.postgres:
            with self.ctx.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("ANALYZE decisions")
                conn.exec_driver_sql("ANALYZE feedback")

    def make_months(self, start: datetime, end: datetime) -> None:
        """PostgreSQL: the decision log's month partitions from start to end (none on SQLite)."""
        with self.ctx.engine.connect() as conn:
            if not partitions.partitioned(conn):
                return
        month = partitions.month_of(start)
        while month.start <= end:
            partitions.make_month(self.ctx.engine, month)
            month = partitions.month_of(month.end)


class Step:
    """The rollout's step as it grows: decisions numbered from 1, one every GAP_MS from t0."""

    def __init__(self, log: Log, clock: SimulatedClock, rollout) -> None:
        self.log, self.clock, self.rollout = log, clock, rollout
        self.t0 = clock.now()
        self.decisions = 0
        self.last = self.t0  # the last decision's moment
        self.history = 0

    def grow_to(self, size: int) -> None:
        """Decisions at 30,000 a day up to size; the clock 3 s after the last."""
        count = size - self.decisions
        if count <= 0:
            return
        first = self.last + timedelta(milliseconds=GAP_MS)
        end = self.last + timedelta(milliseconds=GAP_MS * count)
        self.log.make_months(first, end + timedelta(days=35))
        self._to(end + timedelta(seconds=3))
        self.log.fill(self.decisions + 1, count, first, GAP_MS, self.rollout.step_label, 30, timedelta(hours=1),
                      timedelta(hours=1), self.clock.now())
        self.decisions, self.last = size, end

    def tick_news(self) -> None:
        """TICK decisions over the next 2 minutes, 3% of them with a verdict within the minute."""
        self._news(TICK, int(TICK_SPAN.total_seconds() * 1000 / TICK), after_ms=1000)

    def nudged_news(self, rate: int) -> None:
        """JUDGING_BATCH decisions at rate a second (3% with a verdict), the clock just after them."""
        gap = max(1000 // rate, 1)
        self._news(JUDGING_BATCH, gap, after_ms=gap)

    def _news(self, count: int, gap_ms: int, after_ms: int) -> None:
        """count decisions one every gap_ms after the last, the clock after_ms past the last of them,
        3% with a verdict given within seconds (by then)."""
        span = timedelta(milliseconds=gap_ms * count)
        self._to(self.last + span + timedelta(milliseconds=after_ms))
        self.log.fill(self.decisions + 1, count, self.last + timedelta(milliseconds=gap_ms), gap_ms,
                      self.rollout.step_label, 3, timedelta(seconds=5), timedelta(seconds=5), self.clock.now())
        self.decisions += count
        self.last += span

    def add_history(self, total: int) -> None:
        """Decisions before the step (numbered -1, -2, ...) up to total."""
        count = total - self.history
        if count <= 0:
            return
        oldest = self.t0 - timedelta(milliseconds=GAP_MS * total)
        self.log.make_months(oldest, self.t0)
        self.log.fill(-(self.history + 1), count, self.t0 - timedelta(milliseconds=GAP_MS * (self.history + 1)), GAP_MS,
                      None, 30, timedelta(hours=1), timedelta(hours=1), self.t0, direction=-1)
        self.history = total

    def _to(self, moment: datetime) -> None:
        if moment > self.clock.now():
            self.clock.advance(moment - self.clock.now())


def _vm(field: str) -> int:
    """A /proc/self/status memory figure, in kB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def in_child(ctx: Context, work: Callable[[], object]) -> tuple[float, float, float, object]:
    """(seconds, CPU seconds, peak MB above its start, result) of work() run in a forked child:
    the high-water mark of its resident memory, reset at the start, so what the parent holds is
    not counted."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            os.close(read)
            ctx.engine.dispose(close=False)  # the parent's connections stay the parent's
            gc.collect()
            Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
            base = _vm("VmRSS")
            started, cpu = time.perf_counter(), time.process_time()
            result = work()
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
            peak = _vm("VmHWM")
            data = json.dumps([elapsed, cpu, (peak - base) / 1024, result], default=str).encode()
            while data:
                data = data[os.write(write, data):]
        except BaseException:
            traceback.print_exc()
            code = 1
        finally:
            os._exit(code)
    os.close(write)
    chunks = []
    while chunk := os.read(read, 1 << 16):
        chunks.append(chunk)
    os.close(read)
    _, status = os.waitpid(pid, 0)
    if status:
        sys.exit("a measured run failed (see above)")
    elapsed, cpu, mb, result = json.loads(b"".join(chunks))
    return elapsed, cpu, mb, result


def old_judge(ctx: Context, rollout) -> dict:
    """The judgement as every tick made it before: the whole step read, every batch replayed."""
    now = ctx.clock.now()
    with connect(ctx.engine) as conn:
        policy = get_spec(conn, rollout.service).rollout
        shown = shown_earlier(conn, rollout, policy)
        obs = observe_step(conn, rollout.step_label, judged_attributes(policy))
        read: dict = {}

        def reviews(criterion):
            delay = parse_duration(criterion.review_delay)
            if delay not in read:
                read[delay] = observe_reviews(conn, rollout.step_label, delay, None, now)
            return read[delay]

        return judge_step(policy, rollout, obs, now, shown, Ledger(), reviews).as_dict()


def _plain(value: object) -> object:
    """value as it comes back from a child (through JSON)."""
    return json.loads(json.dumps(value, default=str))


def forget_kept(ctx: Context) -> None:
    """Drop the kept evidence: the next judgement catches up from the step's start."""
    with connect(ctx.engine) as conn:
        conn.execute(delete(step_evidence))


def timed(work: Callable[[], object]) -> tuple[float, float]:
    """(seconds, CPU seconds of this process) work() took."""
    started, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - started, time.process_time() - cpu


def _median(runs: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def measure_ticks(ctx: Context, step: Step, ticks: int) -> tuple[tuple[float, float], float, tuple[float, float]]:
    """((s, CPU s) median of the ticks, one tick's MB in a child, (s, CPU s) median of status)
    as the step grows by TICK a tick."""
    times = []
    for _ in range(ticks):
        step.tick_news()
        times.append(timed(lambda: judge_rollout(ctx, step.rollout)))
    step.tick_news()
    mb = in_child(ctx, lambda: judge_rollout(ctx, step.rollout).verdict.value)[2]
    status = [timed(lambda: rollout_status(ctx, SERVICE, ENVIRONMENT, step.rollout.id)) for _ in range(3)]
    return _median(times), mb, _median(status)


def _tick_line(tick: tuple[float, float], mb: float, status: tuple[float, float]) -> str:
    return (f"tick {tick[0] * 1000:.0f} ms (CPU {tick[1] * 1000:.0f}) per {TICK:,} new, +{mb:.0f} MB; "
            f"status {status[0] * 1000:.0f} ms (CPU {status[1] * 1000:.0f})")


def profile_tick(ctx: Context, step: Step, top: int = 15) -> None:
    """The top functions of one more tick, by cumulative and own time."""
    step.tick_news()
    profiler = cProfile.Profile()
    profiler.runcall(judge_rollout, ctx, step.rollout)
    for key in ("cumulative", "tottime"):
        print(f"-- one tick at {step.decisions:,} decisions, by {key}")
        pstats.Stats(profiler, stream=sys.stdout).sort_stats(key).print_stats(top)


def open_store(settings: Settings, trained, start: datetime) -> tuple[Context, SimulatedClock, Step]:
    """The demo with v2 started as a 5% canary at start, on a simulated clock."""
    clock = SimulatedClock(start)
    set_up_demo(settings, clock=clock, trained=trained)
    ctx = Context.open(settings, clock=clock)
    meet_the_people(ctx)
    prepare_release(ctx, "v2", "canary-only", REHEARSAL_WAIVERS)
    rollout = start_rollout(as_person(ctx, PUBLISHER), SERVICE, "v2", ENVIRONMENT, plan="canary-only")
    with connect(ctx.engine) as conn:
        stable, candidate = (resolve_version(conn, SERVICE, v).id for v in ("v1", "v2"))
    log = Log(ctx, rollout.step_label, stable, candidate)
    return ctx, clock, Step(log, clock, rollout)


def sizes_axis(args, settings: Settings, trained, start: datetime) -> None:
    """The table of tick, status, catch-up and the old judge by step size."""
    ctx, clock, step = open_store(settings, trained, start)
    try:
        if args.history:
            began = time.perf_counter()
            step.add_history(args.history)
            print(f"history: {args.history:,} decisions before the step (made in {time.perf_counter() - began:.0f} s)",
                  flush=True)
        rows = []
        for size in args.sizes:
            began = time.perf_counter()
            step.grow_to(size)
            print(f"step of {size:,} decisions (filled in {time.perf_counter() - began:.0f} s)", flush=True)
            old = None
            if size <= args.old_up_to:
                old = in_child(ctx, lambda: old_judge(ctx, step.rollout))
                print(f"  old judge {old[0]:.2f} s (CPU {old[1]:.2f} s), +{old[2]:.0f} MB", flush=True)
            forget_kept(ctx)
            catch_up = in_child(ctx, lambda: judge_rollout(ctx, step.rollout).verdict.value)
            print(f"  catch-up {catch_up[0]:.2f} s (CPU {catch_up[1]:.2f} s), +{catch_up[2]:.0f} MB", flush=True)
            if old is not None:
                same = _plain(judge_rollout(ctx, step.rollout, keep=False).as_dict()) == old[3]
                print(f"  kept evidence gives the old judge's judgement: {'yes' if same else 'NO'}", flush=True)
                if not same:
                    sys.exit("the incremental judgement differs from the old judge's")
            tick, tick_mb, status = measure_ticks(ctx, step, args.ticks)
            print(f"  {_tick_line(tick, tick_mb, status)}", flush=True)
            rows.append((size, old, catch_up, tick, tick_mb, status))
            if args.profile:
                profile_tick(ctx, step)
        print()
        print(f"{ctx.engine.dialect.name}, step sizes (history {args.history:,}); old judge up to "
              f"{args.old_up_to:,} decisions (beyond, it takes minutes and gigabytes); ticks: median of "
              f"{args.ticks}, of {TICK:,} new decisions each; wall ms (CPU ms of the judging process)")
        print(f"{'decisions':>10} {'old s (CPU)':>14} {'old MB':>7} {'tick ms (CPU)':>14} {'tick MB':>8} "
              f"{'status ms (CPU)':>16} {'catch-up s (CPU)':>17} {'catch MB':>9} {'old/tick':>9}")
        for size, old, catch_up, tick, tick_mb, status in rows:
            old_s = f"{old[0]:6.1f} ({old[1]:5.1f}) {old[2]:7.0f}" if old else f"{'-':>14} {'-':>7}"
            ratio = f"{old[0] / tick[0]:8.0f}x" if old else f"{'-':>9}"
            print(f"{size:>10,} {old_s} {tick[0] * 1000:6.0f} ({tick[1] * 1000:5.0f}) {tick_mb:8.0f} "
                  f"{status[0] * 1000:8.0f} ({status[1] * 1000:5.0f}) {catch_up[0]:9.1f} ({catch_up[1]:5.1f}) "
                  f"{catch_up[2]:9.0f} {ratio}")
        print("goals: a tick <= 50 ms per 1,000 new decisions, status < 200 ms, a tick's memory < 100 MB")
    finally:
        ctx.close()


@contextmanager
def judged_step(settings: Settings, trained, start: datetime, size: int) -> Iterator[tuple[Context, Step]]:
    """A store whose step holds size decisions, judged once (the catch-up), closed after."""
    ctx, clock, step = open_store(settings, trained, start)
    try:
        step.grow_to(size)
        judge_rollout(ctx, step.rollout)
        yield ctx, step
    finally:
        ctx.close()


def log_axis(args, settings: Settings, trained, start: datetime) -> None:
    """The table of tick and status by the size of the log outside the step."""
    with judged_step(settings, trained, start, args.log_step) as (ctx, step):
        rows = []
        for history in args.log_sizes:
            began = time.perf_counter()
            step.add_history(history)
            print(f"history of {history:,} decisions (made in {time.perf_counter() - began:.0f} s)", flush=True)
            tick, tick_mb, status = measure_ticks(ctx, step, args.ticks)
            print(f"  {_tick_line(tick, tick_mb, status)}", flush=True)
            rows.append((history, step.decisions, tick, tick_mb, status))
            if args.profile:
                profile_tick(ctx, step)
        print()
        print(f"{ctx.engine.dialect.name}, log size: a step of about {args.log_step:,} decisions; ticks: median of "
              f"{args.ticks}")
        print(f"{'history':>11} {'step':>8} {'tick ms (CPU)':>14} {'tick MB':>8} {'status ms (CPU)':>16}")
        for history, decisions, tick, tick_mb, status in rows:
            print(f"{history:>11,} {decisions:>8,} {tick[0] * 1000:6.0f} ({tick[1] * 1000:5.0f}) {tick_mb:8.0f} "
                  f"{status[0] * 1000:8.0f} ({status[1] * 1000:5.0f})")


def rates_axis(args, settings: Settings, trained, start: datetime) -> None:
    """The table of a nudged judgement's cost by the rate decisions come at."""
    with judged_step(settings, trained, start, args.log_step) as (ctx, step):
        rows = []
        for rate in args.rates:
            for _ in range(max(int(70 * rate / JUDGING_BATCH), 1)):  # past a minute at this rate
                step.nudged_news(rate)
                judge_rollout(ctx, step.rollout)
            times = []
            for _ in range(args.ticks):
                step.nudged_news(rate)
                times.append(timed(lambda: judge_rollout(ctx, step.rollout)))
            cpu = _median(times)[1]
            rows.append((rate, cpu))
            print(f"  {rate:,} decisions/s: a judgement every {JUDGING_BATCH} takes {cpu * 1000:.0f} ms of CPU", flush=True)
        print()
        print(f"{ctx.engine.dialect.name}, nudged judgements: a step of about {args.log_step:,} decisions, a judgement "
              f"every {JUDGING_BATCH} new ones; median of {args.ticks}")
        print(f"{'decisions/s':>12} {'judgement ms (CPU)':>19} {'per 1,000 new':>14} {'share of a core':>16}")
        for rate, cpu in rows:
            print(f"{rate:>12,} {cpu * 1000:19.0f} {cpu * 1000 * 1000 / JUDGING_BATCH:14.0f} "
                  f"{cpu * rate / JUDGING_BATCH:16.2%}")


def _numbers(value: str) -> list[int]:
    return [int(v) for v in value.split(",") if v.strip()]


def main() -> None:
    """Set up the stores, run the axes asked for, print the tables."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=_numbers, default=[10_000, 100_000, 1_000_000, 3_000_000],
                        help="step sizes, comma-separated ('' for none)")
    parser.add_argument("--old-up-to", type=int, default=1_000_000, help="largest step the old judge reads")
    parser.add_argument("--ticks", type=int, default=5, help="ticks timed at each size (median)")
    parser.add_argument("--history", type=int, default=0, help="decisions before the step, for the sizes")
    parser.add_argument("--log-sizes", type=_numbers, default=[], help="history sizes for the log axis")
    parser.add_argument("--log-step", type=int, default=60_000, help="the step's decisions on the log and rate axes")
    parser.add_argument("--rates", type=_numbers, default=[], help="decisions a second for the nudged-judgement axis")
    parser.add_argument("--database-url", default=None, help="a PostgreSQL database (default: SQLite in a temp dir)")
    parser.add_argument("--profile", action="store_true", help="cProfile one more tick at each size")
    args = parser.parse_args()
    # Everything the benchmark records lies in the past (the largest step is 100 days).
    start = (datetime.now(timezone.utc) - timedelta(days=120)).replace(hour=0, minute=0, second=0, microsecond=0)
    with tempfile.TemporaryDirectory(prefix="relevo-judge-tick-") as folder:
        trained = train_versions(Path(folder) / "training")
        axes = [(sizes_axis, "sizes")] if args.sizes else []
        axes += [(log_axis, "log")] if args.log_sizes else []
        axes += [(rates_axis, "rates")] if args.rates else []
        for axis, name in axes:
            with ExitStack() as stack:
                url = (stack.enter_context(scratch_schema(args.database_url)) if args.database_url
                       else f"sqlite:///{Path(folder) / f'{name}.db'}")
                settings = Settings(home=Path(folder) / f"home-{name}", database_url=url, actor="benchmark")
                axis(args, settings, trained, start)

if __name__ == "__main__":
    main()
