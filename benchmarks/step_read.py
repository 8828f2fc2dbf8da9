"""Reading one rollout step from a large decision log: the step's index vs the service's.

    python benchmarks/step_read.py [--history 3000000] [--step 60000] [--repeat 3]

A SQLite decision log holds --history decisions of one service outside any step (a year of a large
city is some 11 million; 3 million by default, built in the database itself in about a minute) and
one step of --step decisions at its end. Each contender reads the step's rows as the judge does
(`relevo.rollouts.observations.observe_step`: the decisions with their shadow answers and current
feedback, one protected input read from each decision's inputs):
- "the step's index": the query as Relevo runs it (filtered by the step's label, which names its
  rollout), through `ix_decisions_step_created`;
- "the service's index" (the baseline, the query as it was before): the same read filtered by
  service and environment too, which SQLite answered through `ix_decisions_service_env_created`,
  reading every decision of the service's history; forced here with INDEXED BY so the baseline is the
  plan SQLite chose for it.
Median of --repeat runs each, interleaved, on a warm page cache; the ratio is printed.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import event, text

from relevo.rollouts.observations import observe_step
from relevo.store import upgrade
from relevo.store.engine import create

STEP = "rollout-7/step-2-canary"


def _fill(engine, history: int, step: int) -> None:
    """history decisions of the service, then the step's, one a minute, made by SQLite itself."""
    with engine.begin() as conn:
        conn.execute(text("""
            WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < :total)
            INSERT INTO decisions (id, reference, service, environment, case_pseudonym, served_by, decision,
                                   latency_ms, inputs, step, created_at)
            SELECT printf('%032x', n), 'ref-' || n, 'licence-prefilter', 'production', printf('case-%d', n),
                   'model', 'admissible', 12.5, '{"age_band": "30-44", "district": "north"}',
                   CASE WHEN n > :history THEN :step END,
                   strftime('%Y-%m-%d %H:%M:%f', '2026-01-01', printf('+%d minutes', n))
            FROM g"""), {"total": history + step, "history": history, "step": STEP})


def _steps_index(engine) -> float:
    started = time.perf_counter()
    with engine.connect() as conn:
        obs = observe_step(conn, STEP, attributes=["age_band"])
    assert obs.n > 0
    return time.perf_counter() - started


def _services_index(engine) -> float:
    """The same statement with the service's filters and its index, as SQLite planned it before."""
    def rewrite(conn, cursor, statement, parameters, context, executemany):
        statement = statement.replace("FROM decisions ", "FROM decisions INDEXED BY ix_decisions_service_env_created ", 1)
        statement = statement.replace("WHERE decisions.step = ?", "WHERE decisions.service = 'licence-prefilter' AND "
                                      "decisions.environment = 'production' AND decisions.step = ?", 1)
        return statement, parameters

    event.listen(engine, "before_cursor_execute", rewrite, retval=True)
    try:
        return _steps_index(engine)
    finally:
        event.remove(engine, "before_cursor_execute", rewrite)


def main() -> None:
    """Build the log, time both reads, print the medians and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--history", type=int, default=3_000_000)
    parser.add_argument("--step", type=int, default=60_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'relevo.db'}"
        upgrade(url)
        engine = create(url)
        started = time.perf_counter()
        _fill(engine, args.history, args.step)
        print(f"log: {args.history:,} decisions of history and a step of {args.step:,} "
              f"(built in {time.perf_counter() - started:.0f} s)")
        _steps_index(engine), _services_index(engine)  # warm the page cache for both
        step_times, service_times = [], []
        for _ in range(args.repeat):
            step_times.append(_steps_index(engine))
            service_times.append(_services_index(engine))
        ours, baseline = statistics.median(step_times), statistics.median(service_times)
        print(f"the step's index (Relevo)           {ours:8.3f} s")
        print(f"the service's index (before)        {baseline:8.3f} s")
        print(f"ratio, before / now                 {baseline / ours:8.1f}x")
        engine.dispose()


if __name__ == "__main__":
    main()
