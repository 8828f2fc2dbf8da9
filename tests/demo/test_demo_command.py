"""`relevo demo` as a user runs it: the real program, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys

from sqlalchemy import func, select

from relevo.store.engine import create
from relevo.store.tables import decisions, shadow_decisions


def _relevo(env, *args):
    return subprocess.run([sys.executable, "-m", "relevo", *args], env=env, capture_output=True, text=True, timeout=300)


def test_demo_registers_three_verified_versions_and_reruns_cleanly(cli_env, settings):
    first = _relevo(cli_env, "demo")
    assert first.returncode == 0, first.stderr
    assert "licence-prefilter" in first.stdout and "Traceback" not in first.stderr
    listed = json.loads(_relevo(cli_env, "versions", "licence-prefilter", "--json").stdout)
    assert [(v["version"], v["tags"]) for v in listed] == [("v1", []), ("v2", ["candidate", "stable"]), ("v3", [])]

    rates = {}
    for v in ("v1", "v2", "v3"):
        shown = json.loads(_relevo(cli_env, "show", "licence-prefilter", v, "--json").stdout)
        rates[v] = shown["metadata"]["metrics"]["rejection_rate"]
        assert shown["profile"]["rows"] == 1000
        assert "applicant_id" not in shown["profile"]["features"]
        assert {"age_band", "nationality_group", "outcome"} <= set(shown["profile"]["features"])
    assert rates["v3"] - rates["v1"] >= 0.08  # the version the rollback scenario needs

    # the reference scenario: v3 rolled back with an incident, its retry refused, v2 promoted
    assert "v3 was rolled back automatically" in first.stdout and "incident 1 opened" in first.stdout
    assert "Retrying v3 was refused" in first.stdout and "v2 was promoted" in first.stdout
    history = json.loads(_relevo(cli_env, "rollout", "history", "licence-prefilter", "--json").stdout)
    assert [(r["candidate"], r["state"]) for r in history] == [("v2", "promoted"), ("v3", "rolled_back")]

    # the traffic part: every answer recorded, v1 answered, v2 shadowed, the kill switch's burst fell back
    assert "560 decisions, all recorded" in first.stdout
    engine = create(settings.resolved_database_url())
    with engine.connect() as conn:
        traffic = decisions.c.step.is_(None)  # the served traffic, before any rollout step
        by = dict(conn.execute(select(decisions.c.served_by, func.count()).where(traffic)
                               .group_by(decisions.c.served_by)).all())
        shadowed = conn.execute(select(func.count()).select_from(
            shadow_decisions.join(decisions, decisions.c.id == shadow_decisions.c.decision_id)).where(traffic)).scalar()
    engine.dispose()
    assert sum(by.values()) == 560 and by["version"] == 500 and by.get("rules", 0) + by.get("manual", 0) == 60
    assert shadowed == 500

    again = _relevo(cli_env, "demo", "--applications", "10", "--burst", "0")  # deterministic training: the same artifacts, nothing new
    assert again.returncode == 0, again.stderr
    assert len(json.loads(_relevo(cli_env, "versions", "licence-prefilter", "--json").stdout)) == 3
    assert "already ran on this store" in again.stdout
    after = json.loads(_relevo(cli_env, "versions", "licence-prefilter", "--json").stdout)
    assert [(v["version"], v["tags"]) for v in after] == [("v1", []), ("v2", ["candidate", "stable"]), ("v3", [])]
    assert _relevo(cli_env, "verify", "licence-prefilter").returncode == 0
