"""`relevo demo` as a user runs it: the real program, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys


def _relevo(env, *args):
    return subprocess.run([sys.executable, "-m", "relevo", *args], env=env, capture_output=True, text=True, timeout=300)


def test_demo_registers_three_verified_versions_and_reruns_cleanly(cli_env):
    first = _relevo(cli_env, "demo")
    assert first.returncode == 0, first.stderr
    assert "licence-prefilter" in first.stdout and "Traceback" not in first.stderr
    listed = json.loads(_relevo(cli_env, "versions", "licence-prefilter", "--json").stdout)
    assert [(v["version"], v["tags"]) for v in listed] == [("v1", ["stable"]), ("v2", ["candidate"]), ("v3", [])]

    rates = {}
    for v in ("v1", "v2", "v3"):
        shown = json.loads(_relevo(cli_env, "show", "licence-prefilter", v, "--json").stdout)
        rates[v] = shown["metadata"]["metrics"]["rejection_rate"]
        assert shown["profile"]["rows"] == 1000
        assert "applicant_id" not in shown["profile"]["features"]
        assert {"age_band", "nationality_group", "outcome"} <= set(shown["profile"]["features"])
    assert rates["v3"] - rates["v1"] >= 0.08  # the version the rollback scenario needs

    again = _relevo(cli_env, "demo")  # deterministic training: the same artifacts, nothing new
    assert again.returncode == 0, again.stderr
    assert len(json.loads(_relevo(cli_env, "versions", "licence-prefilter", "--json").stdout)) == 3
    assert _relevo(cli_env, "verify", "licence-prefilter").returncode == 0
