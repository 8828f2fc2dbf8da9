"""The reference scenario end to end on a simulated clock, on SQLite and PostgreSQL: v3 as a 5%
canary is rolled back automatically with an incident, its retry is refused, v2 is promoted."""

from __future__ import annotations

from sqlalchemy import func, select

from relevo.context import Context
from relevo.demo.scenario import run_scenario
from relevo.demo.setup import set_up_demo
from relevo.registry.queries import resolve_version
from relevo.routing.table import get_route
from relevo.store import connect
from relevo.store.tables import audit_events, decisions, feedback, incidents


def test_reference_scenario(settings):
    set_up_demo(settings)
    report = run_scenario(settings, daily_cases=3000)

    bad = report.bad
    assert bad.rollout.state == "rolled_back"
    assert bad.simulated.total_seconds() < 48 * 3600, "the judge should act before the step ends"
    failing = [m for m in report.bad_status["judgement"]["metrics"] if m["verdict"] == "fail"]
    assert [m["name"] for m in failing] == ["decision_rate(rejected)"]
    assert failing[0]["lower"] is not None and failing[0]["estimate"] > 0
    assert "must record a cause" in report.refused

    good = report.good
    assert good.rollout.state in ("promoted", "held")
    assert report.good_status["state"] == "promoted"
    assert good.reviews > 0  # late feedback reached the judge

    ctx = Context.open(settings)
    try:
        with connect(ctx.engine) as conn:
            assert resolve_version(conn, "licence-prefilter", "stable").name == "v2"
            incident = conn.execute(select(incidents)).mappings().one()
            assert incident["status"] == "open" and "v3" in incident["title"]
            assert incident["evidence"]["metrics"], "the incident carries the judge's evidence"
            recorded = conn.execute(select(func.count()).select_from(decisions)).scalar()
            assert recorded == bad.decisions + good.decisions
            assert conn.execute(select(func.count()).select_from(feedback)).scalar() == bad.reviews + good.reviews
            actions = set(conn.execute(select(audit_events.c.action)).scalars())
        assert {"rollout.started", "rollout.rolled_back", "incident.opened", "rollout.promoted"} <= actions
        route = get_route(ctx, "licence-prefilter", "production")
        assert route.mode == "stable" and route.candidate_version_id is None
    finally:
        ctx.close()

    again = run_scenario(settings)
    assert again.already_ran and len(again.history) == 2
