"""The reference scenario end to end on a simulated clock: v3 as a 5% canary is rolled back
automatically with an incident, its retry is refused, v2 is promoted by the controller once every
criterion was shown within its tolerance; all of it dated in the past.

On PostgreSQL here; on SQLite the demo's own test runs it through the real program and checks the
same record (tests/demo/test_demo_command.py).
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from relevo.context import Context
from relevo.demo.scenario import run_scenario
from relevo.demo.setup import set_up_demo
from relevo.store import connect
from relevo.store.tables import decisions, feedback

from tests.conftest import demo_training
from tests.rollouts.scenario_checks import assert_scenario_recorded


@pytest.mark.parametrize("database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
def test_reference_scenario(settings):
    set_up_demo(settings, trained=demo_training())
    report = run_scenario(settings, daily_cases=3000, monitoring=False)  # the demo's test runs that chapter
    assert report.bad.rollout.state == "rolled_back"
    assert "must record a cause" in report.refused
    assert report.good.rollout.state == "promoted", report.good_status.hold_reason
    assert report.approved_by is None, "the standard plan shows every criterion: no override needed"
    assert report.good.reviews > 0  # late feedback reached the judge
    assert_scenario_recorded(settings)

    ctx = Context.open(settings)
    try:
        with connect(ctx.engine) as conn:
            recorded = conn.execute(select(func.count()).select_from(decisions)).scalar()
            reviewed = conn.execute(select(func.count()).select_from(feedback)).scalar()
    finally:
        ctx.close()
    assert recorded == report.bad.decisions + report.good.decisions
    assert reviewed == report.bad.reviews + report.good.reviews

    again = run_scenario(settings)
    assert again.already_ran and len(again.history) == 2
