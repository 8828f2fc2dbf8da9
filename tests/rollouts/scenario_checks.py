"""What the reference scenario must leave on record, read from the store alone: shared by the
scenario's own test (PostgreSQL) and the demo's (SQLite, through the real program)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from relevo.context import Context
from relevo.demo import SERVICE_NAME
from relevo.governance import checklist_of
from relevo.registry.queries import resolve_version
from relevo.rollouts.controller import CONTROLLER
from relevo.rollouts.queries import rollout_history, rollout_status
from relevo.routing.table import get_route
from relevo.settings import Settings
from relevo.store import connect
from relevo.store.tables import audit_events, decisions, incidents

ALL_CRITERIA = {"decision_rate(rejected)", "latency(800ms)", "correction_rate", "error_rate",
                "fairness(age_band:admissible)"}


def assert_scenario_recorded(settings: Settings) -> None:
    """v3 rolled back by the controller within its 48-hour canary, with an incident carrying the
    evidence; v2 promoted by the controller after every criterion was shown; all of it in the past."""
    read_at = datetime.now(timezone.utc)
    ctx = Context.open(settings)
    try:
        history = rollout_history(ctx, SERVICE_NAME, "production")
        assert [(r.candidate, r.state) for r in history] == [("v2", "promoted"), ("v3", "rolled_back")]
        good, bad = history
        assert bad.ended_at - bad.started_at < timedelta(hours=48)

        bad_status = rollout_status(ctx, SERVICE_NAME, "production", bad.id)
        failing = [m for m in bad_status.judgement.metrics if m.verdict == "fail"]
        assert [m.name for m in failing] == ["decision_rate(rejected)"]
        assert failing[0].lower <= failing[0].estimate <= failing[0].upper and failing[0].estimate > 0

        # Each started with its checklist closed by the story's people, as they would close it.
        v2 = {i.item: i for i in checklist_of(ctx, SERVICE_NAME, good.id).items}
        assert (v2["tests"].state, v2["staging"].state, v2["records"].state) == ("passed",) * 3
        assert (v2["dpia_review"].state, v2["dpia_review"].by) == ("attested", "dpo")  # a new model family
        assert (v2["conformity"].state, v2["conformity"].by) == ("attested", "service-owner")
        assert v2["runbook"].by == "relevo"  # its owner confirmed it
        assert v2["communication"].by == "relevo" and "public notice in es, en" in v2["communication"].evidence
        v3 = {i.item: i for i in checklist_of(ctx, SERVICE_NAME, bad.id).items}
        assert {k for k, i in v3.items() if i.state == "waived"} == {"tests", "staging", "shadow", "communication"}
        assert v3["dpia_review"].state == v3["conformity"].state == "not applicable"
        good_status = rollout_status(ctx, SERVICE_NAME, "production", good.id)
        assert [(h.step_index, h.verdict) for h in good_status.history] == [(0, "pass"), (1, "pass"),
                                                                                       (2, "pass")]
        shown = {m.name for h in good_status.history for m in h.metrics if m.verdict == "pass"}
        assert shown == ALL_CRITERIA

        with connect(ctx.engine) as conn:
            assert resolve_version(conn, SERVICE_NAME, "stable").name == "v2"
            incident = conn.execute(select(incidents)).mappings().one()
            events = conn.execute(select(audit_events).order_by(audit_events.c.id)).mappings().all()
            newest = conn.execute(select(func.max(decisions.c.created_at))).scalar()
        assert incident["status"] == "open" and "v3" in incident["title"]
        assert incident["evidence"]["judgement"]["metrics"], "the incident carries the judge's evidence"
        assert incident["opened_by"] == CONTROLLER
        actions = {e["action"] for e in events}
        assert {"rollout.started", "rollout.rolled_back", "incident.opened", "rollout.promoted"} <= actions
        # Simulated time ends in the past: nothing is dated after the moment it is read.
        assert newest <= read_at and max(e["at"] for e in events) <= read_at
        # Automatic transitions are the controller's, and carry the verdicts that caused them.
        automatic = [e for e in events if e["action"] in ("rollout.advanced", "rollout.rolled_back",
                                                          "rollout.promoted")]
        assert automatic and {e["actor"] for e in automatic} == {CONTROLLER}
        advanced = [e for e in events if e["action"] == "rollout.advanced"]
        assert advanced and all(e["details"]["verdict"] == "pass" and e["details"]["verdicts"] for e in advanced)
        [promoted] = [e for e in events if e["action"] == "rollout.promoted"]
        assert set(promoted["details"]["shown"]) == ALL_CRITERIA  # where each criterion was shown
        route = get_route(ctx, SERVICE_NAME, "production")
        assert route.mode == "stable" and route.candidate_version_id is None
    finally:
        ctx.close()
