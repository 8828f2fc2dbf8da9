"""The decision log's main reads go through the right index on both engines, whatever the size of
the log, and on PostgreSQL read only the months they need: the plan each engine chooses, read with
EXPLAIN.

On SQLite the plan is chosen without statistics, so an empty log shows it. PostgreSQL chooses by
its statistics, so its log here holds a year of a service's history (36,000 decisions outside any
step, 3,000 a month in its monthly partitions) and one step of 500 in the last days, analysed, as a
year of a city would be in proportion.
- The judge reads a rollout step by its label through the step's index (on PostgreSQL, in every
  month that holds decisions: an index scan on each, never a sequential one).
- Reads over a period (the monitors' window, the gateway's traffic since a moment) read the months
  the period covers and no other (PostgreSQL prunes the rest); on SQLite, through the service's index.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from sqlalchemy import event, text

from relevo.monitoring.collect import count_decisions, read_window
from relevo.monitoring.traffic import traffic_summary
from relevo.monitoring.windows import Window
from relevo.rollouts.observations import decisions_by_id, held_answers, observe_reviews, observe_step
from relevo.services.spec import ServiceSpec
from relevo.store import connect, partitions

STEP = "rollout-7/step-2-canary"
SERVICE = "licence-prefilter"
YEAR = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _plans(ctx, read) -> list[str]:
    """The engine's plan for each statement read(conn) runs, as text; on PostgreSQL each month's
    index named as the log's index it belongs to."""
    statements: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):  # not SQLite's BEGIN
            statements.append((statement, parameters))

    event.listen(ctx.engine, "before_cursor_execute", capture)
    try:
        with connect(ctx.engine) as conn:
            read(conn)
    finally:
        event.remove(ctx.engine, "before_cursor_execute", capture)
    sqlite = ctx.engine.dialect.name == "sqlite"
    with connect(ctx.engine) as conn:  # not the read's own: it may stream its results (the monitors' window)
        names = {} if sqlite else dict(conn.execute(text(
            "SELECT c.relname, p.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE c.relkind = 'i'")).all())
        plans = []
        for statement, parameters in statements:
            explain = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
            plan = "\n".join(str(row[-1]) for row in conn.exec_driver_sql(explain + statement, parameters).all())
            plans.append(re.sub(r"\b\w+_idx\b", lambda m: names.get(m[0], m[0]), plan))
    return plans


def _history(conn, history: int, step: int) -> None:
    """A year of a service's history, then one step's decisions, made in the database itself."""
    partitions.make_months(conn.engine, YEAR, ahead=11)
    conn.execute(text("""
        INSERT INTO decisions (id, reference, service, environment, case_pseudonym, served_by, decision,
                               latency_ms, inputs, step, created_at)
        SELECT md5(g::text), 'ref-' || g, 'licence-prefilter', 'production', md5('case' || g), 'model',
               'admissible', 12.5, '{"age_band": "30-44"}',
               CASE WHEN g > :history THEN :step ELSE NULL END,
               timestamp with time zone '2026-01-01 00:00+00' + g * interval '864 seconds'
        FROM generate_series(1, :total) AS g"""), {"history": history, "step": STEP, "total": history + step})
    conn.execute(text("ANALYZE decisions"))


def _months_read(plan: str) -> set[str]:
    return set(re.findall(r"\bdecisions_(\d{4}_\d{2}|default)\b", plan))


def test_the_step_and_a_periods_decisions_are_read_through_their_index_and_months(ctx):
    postgresql = ctx.engine.dialect.name == "postgresql"
    if postgresql:
        with connect(ctx.engine) as conn:
            _history(conn, 36_000, 500)
    [plan] = _plans(ctx, lambda conn: observe_step(conn, STEP, attributes=["age_band"]))
    assert "ix_decisions_step_created" in plan, plan
    assert "ix_decisions_service_env_created" not in plan, plan
    if postgresql:  # every month that holds decisions is read through the step's index (an empty one any way)
        holding = {f"2026_{month:02d}" for month in range(1, 13)}
        assert holding <= _months_read(plan) and plan.count("ix_decisions_step_created") >= len(holding), plan
        assert not set(re.findall(r"Seq Scan on decisions_(\w+)", plan)) & holding, plan
    else:
        assert "SCAN decisions" not in plan, plan

    june = Window("30d", datetime(2026, 7, 1, tzinfo=timezone.utc), datetime(2026, 6, 1, tzinfo=timezone.utc))
    spec = ServiceSpec(name=SERVICE)

    def window(conn) -> None:
        assert read_window(conn, spec, "production", june).decisions > 0 or not postgresql
        count_decisions(conn, SERVICE, "production", [june])

    reads = _plans(ctx, window)
    assert len(reads) == 3, reads  # the serving version, the window's decisions, their count
    since = datetime(2026, 11, 20, tzinfo=timezone.utc)
    reads += _plans(ctx, lambda conn: traffic_summary(conn, SERVICE, "production", since=since))
    for plan, months in zip(reads, [{"2026_06"}] * 3 + [{"2026_11", "2026_12", "default"}] * 2):
        if postgresql:
            # Only the period's months; a period open to the future also reads DEFAULT and the months ahead.
            assert _months_read(plan) - {"2027_01", "2027_02", "2027_03"} == months, plan
        else:
            assert "ix_decisions_service_env_created" in plan and "SCAN decisions" not in plan, plan


def _answered_step(conn, step: int) -> None:
    """A step's decisions, analysed; then a verdict and a shadow answer on each, not analysed: the
    statistics of a table filled since its last analysis (a month's first days, a busy hour)."""
    _history(conn, 0, step)
    conn.execute(text("""
        INSERT INTO feedback (decision_id, outcome, decision, reason, reviewer, at)
        SELECT id, 'corrected', 'inadmissible', 'checked', 'case-worker', created_at FROM decisions"""))
    conn.execute(text("""
        INSERT INTO shadow_decisions (decision_id, version_id, decision, latency_ms, created_at)
        SELECT id, 1, 'admissible', 3.5, created_at FROM decisions"""))


def test_a_steps_verdicts_and_shadow_answers_are_looked_up_by_decision_whatever_the_statistics(ctx):
    """Each of the step's decisions finds its current verdict and its shadow answer through their
    index on the decision: never a walk over every verdict or answer of the log (which the
    planner chose, for each decision, while the tables' statistics said they were empty)."""
    postgresql = ctx.engine.dialect.name == "postgresql"
    if postgresql:
        with connect(ctx.engine) as conn:
            _answered_step(conn, 2_000)
    now = YEAR + timedelta(days=30)

    def judge_reads(conn) -> None:
        observe_step(conn, STEP, attributes=["age_band"])
        observe_reviews(conn, STEP, timedelta(hours=24), YEAR + timedelta(days=5), now)
        held_answers(conn, STEP)

    plans = _plans(ctx, judge_reads)
    assert len(plans) >= 3, plans
    for plan in plans[:2] + plans[-1:]:  # the step, the verdicts crossing the delay, the held answers
        for table in ("feedback", "shadow_decisions"):
            if table not in plan:
                continue
            if postgresql:
                accesses = re.findall(rf"(\w[\w ]*?) on {table}\b", plan)
                assert accesses and set(accesses) <= {"Index Scan using ux_feedback_current_decision",
                                                      "Index Scan using pk_shadow_decisions"}, plan
                assert "Join Filter" not in plan, plan
            else:
                assert f"SCAN {table}" not in plan, plan
    # The decisions of verdicts or shadow answers that came late are looked up by their id, never
    # through the step's index (which walks every earlier decision of the step).
    [by_id] = _plans(ctx, lambda conn: list(decisions_by_id(conn, ["d-1", "d-2"])))
    assert "ix_decisions_step_created" not in by_id, by_id
    if not postgresql:
        assert "SCAN decisions" not in by_id, by_id
