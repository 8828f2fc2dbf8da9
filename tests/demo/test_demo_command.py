"""`relevo demo` as a user runs it: the real program, on SQLite (the whole story) and PostgreSQL
(the story without the reference scenario, which tests/rollouts/test_reference_scenario.py runs
on both engines)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timezone

from sqlalchemy import func, select

from relevo.store.engine import create
from relevo.store.tables import audit_events, decisions, rollouts as rollouts_table, shadow_decisions

from tests.rollouts.scenario_checks import assert_scenario_recorded


def _relevo(env, *args):
    return subprocess.run([sys.executable, "-m", "relevo", *args], env=env, capture_output=True, text=True, timeout=300)


def _json(env, *args):
    result = _relevo(env, *args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_demo_registers_three_verified_versions_and_reruns_cleanly(cli_env, settings):
    full = settings.database_url.startswith("sqlite")
    first = _relevo(cli_env, "demo", *([] if full else ["--no-scenario"]))
    assert first.returncode == 0, first.stderr
    assert "licence-prefilter" in first.stdout and "Traceback" not in first.stderr

    rates = {}
    for v in ("v1", "v3"):
        shown = _json(cli_env, "show", "licence-prefilter", v)
        rates[v] = shown["metadata"]["metrics"]["rejection_rate"]
        assert shown["profile"]["rows"] == 1000
        assert "applicant_id" not in shown["profile"]["features"]
        assert {"age_band", "nationality_group", "outcome"} <= set(shown["profile"]["features"])
    assert rates["v3"] - rates["v1"] >= 0.2  # the version the rollback scenario needs

    # the traffic part: every answer recorded, v1 answered, v2 shadowed, the kill switch's burst fell back
    assert "560 decisions, all recorded" in first.stdout
    engine = create(settings.resolved_database_url())
    with engine.connect() as conn:
        # The served traffic: before any rollout step (the monitoring chapter's days come after the rollouts).
        first_rollout = conn.execute(select(func.min(rollouts_table.c.started_at))).scalar()
        traffic = decisions.c.step.is_(None)
        if first_rollout is not None:
            traffic = traffic & (decisions.c.created_at < first_rollout)
        by = dict(conn.execute(select(decisions.c.served_by, func.count()).where(traffic)
                               .group_by(decisions.c.served_by)).all())
        shadowed = conn.execute(select(func.count()).select_from(
            shadow_decisions.join(decisions, decisions.c.id == shadow_decisions.c.decision_id)).where(traffic)).scalar()
        newest = max(conn.execute(select(func.max(decisions.c.created_at))).scalar(),
                     conn.execute(select(func.max(audit_events.c.at))).scalar())
    engine.dispose()
    assert sum(by.values()) == 560 and by["version"] == 500 and by.get("rules", 0) + by.get("manual", 0) == 60
    assert shadowed == 500
    assert newest <= datetime.now(timezone.utc), "the demo dates nothing after now"

    # The audit log shows changes of state by default: v1 went in front of citizens by the demo's
    # approver, with the reason on record; case work is left out.
    default = _json(cli_env, "audit", "--limit", "100000")
    [override] = [e for e in default if e["action"] == "override.recorded"]
    assert override["actor"] == "service-owner" and "first version" in override["details"]["reason"]
    assert not [e for e in default if e["action"].startswith(("decision.", "review."))]

    if full:
        # the reference scenario: v3 rolled back with an incident, its retry refused, v2 promoted
        assert "v3 was rolled back automatically" in first.stdout and "incident 1 opened" in first.stdout
        assert "Retrying v3 was refused" in first.stdout
        assert "v2 was promoted by the controller: every criterion was shown within its tolerance" in first.stdout
        assert_scenario_recorded(settings)
        rollouts = _json(cli_env, "audit", "--action", "rollout.*", "--by", "relevo-controller", "--limit", "1000")
        assert {e["action"] for e in rollouts} >= {"rollout.rolled_back", "rollout.advanced", "rollout.promoted"}
        # Monitoring: a usual day raises nothing; the day of the new application form raises one
        # input-drift alert, which reaches the team's channel; the HTML report is written.
        words = " ".join(first.stdout.split())
        assert "usual applications; the monitors found nothing to alert on" in words
        assert "Alert 1 opened (warning): input_drift(psi > 0.2)" in words
        assert "received 1 notice(s): alert.opened (warning)" in words and "documents_complete" in words
        assert (settings.home / "licence-prefilter-monitoring.html").stat().st_size > 1_000_000  # plotly inline
        [alert] = _json(cli_env, "monitor", "alerts", "licence-prefilter")
        assert alert["rule"] == "input_drift(psi > 0.2)" and alert["status"] == "open"
        # The shipped plan passes its own check, sized with the disagreement its shadow step measured.
        plan = _relevo(cli_env, "rollout", "check-plan", "licence-prefilter")
        assert plan.returncode == 0, plan.stdout
        assert "The plan passes its check" in plan.stdout and "measured on rollout-2/step-0-shadow" in plan.stdout

    # deterministic training: the same artifacts, nothing new
    again = _relevo(cli_env, "demo", "--applications", "10", "--burst", "0", *([] if full else ["--no-scenario"]))
    assert again.returncode == 0, again.stderr
    assert "10 decisions, all recorded" in again.stdout  # today's traffic, counted alone
    if full:
        assert "already ran on this store" in again.stdout
    tags = {v["version"]: v["tags"] for v in _json(cli_env, "versions", "licence-prefilter")}
    stable = "v2" if full else "v1"
    assert len(tags) == 3 and "stable" in tags[stable] and tags["v3"] == []
    # v2 is the candidate until the story's rollout promotes it; then it is not one any more.
    assert tags["v2"] == (["stable"] if full else ["candidate"])
    assert _relevo(cli_env, "verify", "licence-prefilter").returncode == 0
