"""The judge reads a rollout step through the step's own index on both engines, whatever the size of
the service's history: the plan each engine chooses for the step's query, read with EXPLAIN.

On SQLite the plan is chosen without statistics, so an empty log shows it. PostgreSQL chooses by
its statistics, so its log here holds a long history (60,000 decisions of the service, outside any
step) and one step of 500, analysed, as a year of a city would be in proportion.
"""

from __future__ import annotations

from sqlalchemy import event, text

from relevo.rollouts.observations import observe_step
from relevo.store import connect

STEP = "rollout-7/step-2-canary"


def _plan(ctx) -> str:
    """The engine's plan for the step's query, as text."""
    statements: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    event.listen(ctx.engine, "before_cursor_execute", capture)
    try:
        with connect(ctx.engine) as conn:
            observe_step(conn, STEP, attributes=["age_band"])
            statement, parameters = statements[-1]
            explain = "EXPLAIN QUERY PLAN " if ctx.engine.dialect.name == "sqlite" else "EXPLAIN "
            rows = conn.exec_driver_sql(explain + statement, parameters).all()
    finally:
        event.remove(ctx.engine, "before_cursor_execute", capture)
    return "\n".join(str(row[-1]) for row in rows)


def _history(conn, history: int, step: int) -> None:
    """A service's long history and one step's decisions, made in the database itself."""
    conn.execute(text("""
        INSERT INTO decisions (id, reference, service, environment, case_pseudonym, served_by, decision,
                               latency_ms, inputs, step, created_at)
        SELECT md5(g::text), 'ref-' || g, 'licence-prefilter', 'production', md5('case' || g), 'model',
               'admissible', 12.5, '{"age_band": "30-44"}',
               CASE WHEN g > :history THEN :step ELSE NULL END,
               timestamp with time zone '2026-01-01 00:00+00' + g * interval '1 minute'
        FROM generate_series(1, :total) AS g"""), {"history": history, "step": STEP, "total": history + step})
    conn.execute(text("ANALYZE decisions"))


def test_a_steps_decisions_are_read_through_the_steps_index(ctx):
    if ctx.engine.dialect.name == "postgresql":
        with connect(ctx.engine) as conn:
            _history(conn, 60_000, 500)
    plan = _plan(ctx)
    assert "ix_decisions_step_created" in plan, plan
    assert "ix_decisions_service_env_created" not in plan, plan
    assert "SCAN decisions" not in plan and "Seq Scan on decisions" not in plan, plan
