"""Drills end to end: each scenario rehearsed on a scratch copy of the demo service, the real gateway
and controller acting, measured against the runbook's targets and recorded in the real store."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from relevo.cli.main import app
from relevo.cli.output import console
from relevo.context import Context
from relevo.drills import drill_history, run_drill
from relevo.drills.scratch_postgres import postgres_programs
from relevo.errors import Conflict, InvalidInput, NotFound, Refused
from relevo.evidence import evidence_of, evidence_zip
from relevo.rollouts import rollback
from relevo.services.catalogue import apply_spec, get_spec
from relevo.settings import Settings
from relevo.store import connect
from relevo.store.tables import audit_events, decisions
from relevo.web import evidence_html

from tests.conftest import REQUIRE_POSTGRES, prepare_demo, start_cleared

S = "licence-prefilter"
REASON = "quarterly rehearsal of the production route, agreed with the service owner"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """One demo store for every drill here (drills never write to it but their record)."""
    folder = tmp_path_factory.mktemp("drills")
    settings = prepare_demo(Settings(home=folder / "home", database_url=f"sqlite:///{folder / 'relevo.db'}",
                                     actor="tester"))
    ctx = Context.open(settings)
    yield settings, ctx
    ctx.close()


def _audited(ctx: Context, drill_id: int) -> dict:
    with connect(ctx.engine) as conn:
        row = conn.execute(select(audit_events.c.action, audit_events.c.details).where(
            audit_events.c.subject == f"{S}/drill-{drill_id}")).one()
    return {"action": row.action} | row.details


@pytest.mark.parametrize("scenario", ["bad-candidate", "model-down", "slow-model", "database-restart"])
def test_each_scenario_on_the_simulated_clock(store, scenario):
    _, ctx = store
    drill = run_drill(ctx, S, "staging", scenario)
    assert drill.outcome == "passed", drill.details["findings"]
    assert (drill.clock, drill.lost, drill.unanswered, drill.details["findings"]) == ("simulated", 0, 0, [])
    assert 0 <= drill.detect_seconds <= drill.recover_seconds <= drill.target_recover_seconds
    assert drill.target_detect_seconds == 3600 and drill.target_recover_seconds == 4 * 3600  # the runbook's defaults
    assert "reference profile" in drill.details["traffic"]
    moments = [m["what"] for m in drill.details["timeline"]]
    details = drill.details
    if scenario == "bad-candidate":
        # Rolled back by the judge on the rejections it gives too often, in the plan's shadow step.
        assert details["rollout_state"] == "rolled_back" and details["unfavourable"] == "rejected"
        assert any("rolled back" in m and "decision_rate(rejected)" in m for m in moments)
        assert drill.detect_seconds > 0  # the judge needed evidence: simulated time passed
        assert details["rehearsal"]["identities"] == ["drill-operator", "drill-approver"]
    elif scenario in ("model-down", "slow-model"):
        cause = "error" if scenario == "model-down" else "timeout"
        assert details["fallback_causes"][cause] >= 10 and details["fallback_causes"]["circuit_open"] > 0
        assert set(details["served_by"]) <= {"rules", "manual"}  # the fallback answered every case after the fault
        assert details["model_answering_again_after_seconds"] is not None  # the breaker closed once it was lifted
    else:
        # The store really went away: writes failed, clients retried with their key, nothing was lost.
        assert details["failed_attempts"] > 0 and details["retried_requests"] > 0
        assert details["measured_on"].startswith("the real clock")
    # The record, its audit event; and the drill's decisions never reached the real store.
    assert drill_history(ctx, S, limit=50)[0].id == drill.id
    assert _audited(ctx, drill.id)["action"] == "drill.passed"
    with connect(ctx.engine) as conn:
        assert conn.execute(select(decisions.c.id).limit(1)).first() is None


def test_a_drill_on_the_real_clock_measures_recovery(store):
    _, ctx = store
    drill = run_drill(ctx, S, "staging", "model-down", real_time=True)
    assert (drill.outcome, drill.clock, drill.lost, drill.unanswered) == ("passed", "real", 0, 0)
    # The breaker opened once enough calls had failed, at 100 requests a second: a fraction of a second, measured.
    assert 0 <= drill.detect_seconds < drill.recover_seconds < 3
    assert drill.details["fallback_causes"]["error"] >= 10


def test_a_database_restart_on_a_scratch_postgresql_cluster(store):
    _, ctx = store
    try:
        postgres_programs()
    except Conflict as exc:
        if REQUIRE_POSTGRES:
            pytest.fail(str(exc))
        pytest.skip(str(exc))
    drill = run_drill(ctx, S, "staging", "database-restart", database="postgresql")
    assert (drill.outcome, drill.lost, drill.unanswered) == ("passed", 0, 0), drill.details["findings"]
    assert drill.details["database"] == "postgresql" and drill.details["failed_attempts"] > 0
    assert 0 < drill.recover_seconds < 30  # a fast shutdown and start, measured


def test_production_needs_an_approvers_override(store):
    _, ctx = store
    with pytest.raises(Refused, match="a drill rehearses in staging"):
        run_drill(ctx, S, "production", "model-down")
    operator = ctx.acting_as("olga", frozenset({("operator", None)}))
    with pytest.raises(Refused, match="approver"):
        run_drill(operator, S, "production", "model-down", override=REASON)
    with pytest.raises(Refused, match="does not hold"):
        run_drill(ctx.acting_as("ana", frozenset({("case_worker", None)})), S, "staging", "model-down")
    with pytest.raises(Conflict, match="an override is for a drill against production"):
        run_drill(ctx, S, "staging", "model-down", override=REASON)
    with pytest.raises(InvalidInput, match="at least 10"):
        run_drill(ctx.acting_as("ana", frozenset({("approver", None)})), S, "production", "model-down",
                  override="because")
    drill = run_drill(ctx.acting_as("ana", frozenset({("approver", None)})), S, "production", "model-down",
                      override=REASON)
    assert (drill.environment, drill.override_reason, drill.run_by, drill.outcome) == (
        "production", REASON, "ana", "passed")
    assert _audited(ctx, drill.id)["override_reason"] == REASON


def test_bad_input_is_named(store):
    _, ctx = store
    with pytest.raises(NotFound, match="preproduction"):
        run_drill(ctx, S, "preproduction", "model-down")
    with pytest.raises(NotFound, match="no-such-service"):
        run_drill(ctx, "no-such-service", "staging", "model-down")
    with pytest.raises(InvalidInput, match="unknown scenario 'power-cut'"):
        run_drill(ctx, S, "staging", "power-cut")  # type: ignore[arg-type]


def test_a_target_that_cannot_be_met_fails_the_drill_from_the_cli(store, monkeypatch):
    settings, ctx = store
    env = {"RELEVO_HOME": str(settings.home), "RELEVO_DATABASE_URL": settings.database_url or "",
           "RELEVO_ACTOR": "tester", "COLUMNS": "200"}
    with connect(ctx.engine) as conn:
        spec = get_spec(conn, S)
    # The judge needs evidence: minutes of simulated traffic, never one second.
    apply_spec(ctx, spec.model_copy(update={"runbook": spec.runbook.model_copy(update={"detect": "1s"})}))
    try:
        result = CliRunner().invoke(app, ["drill", "run", S, "--scenario", "bad-candidate"], env=env)
    finally:
        apply_spec(ctx, spec)
    assert result.exit_code == 1, result.output
    assert "time to detect" in result.output and "FAILED" in result.output
    assert "beyond the runbook's target of 1s" in result.output
    [failed] = [d for d in drill_history(ctx, S) if d.outcome == "failed"]
    assert failed.target_detect_seconds == 1 and failed.detect_seconds > 1
    assert failed.details["findings"] == [f"detected after {failed.detect_seconds:g} s, beyond the runbook's "
                                          "target of 1s"]
    assert _audited(ctx, failed.id)["action"] == "drill.failed"

    history = CliRunner().invoke(app, ["drill", "history", S, "--json"], env=env)
    assert history.exit_code == 0, history.output
    listed = json.loads(history.stdout)
    assert listed[0]["id"] == failed.id and listed[0]["outcome"] == "failed"
    assert {d["scenario"] for d in listed} >= {"bad-candidate"}
    # The terminal's width is read when the console is made (before the env above): a wide one here.
    monkeypatch.setattr(console, "_width", 160)
    table = CliRunner().invoke(app, ["drill", "history", S], env=env)
    assert "bad-candidate" in table.output and "failed" in table.output


def test_the_evidence_pack_shows_the_services_drills(store):
    _, ctx = store
    drill = run_drill(ctx, S, "staging", "model-down")
    rollout = start_cleared(ctx, S, "v2")
    rollback(ctx, rollout.id, "a rollback to end the rollout whose evidence is packed")
    found = evidence_of(ctx, S, rollout.id)
    assert drill.id in [d.id for d in found.drills]
    with zipfile.ZipFile(io.BytesIO(evidence_zip(found, evidence_html(found)))) as archive:
        report = archive.read("report.html").decode()
        data = json.loads(archive.read("evidence.json"))
    assert "<h2>Drills</h2>" in report and "model-down" in report
    assert drill.id in [d["id"] for d in data["drills"]]
