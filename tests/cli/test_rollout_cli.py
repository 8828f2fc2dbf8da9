"""The rollout commands from the command line: start, status, check-plan, controller, rollback, incidents."""

from __future__ import annotations

from tests.conftest import prepare_demo


def test_rollout_commands(cli, settings):
    prepare_demo(settings)

    assert "Rollout 1 started" in cli("rollout", "start", "licence-prefilter", "v3", "--plan", "canary-only").stdout
    status = cli.json("rollout", "status", "licence-prefilter")
    assert status["state"] == "running" and status["step"]["kind"] == "canary"
    names = [m["name"] for m in status["judgement"]["metrics"]]
    assert "decision_rate(rejected)" in names and all(m["verdict"] == "not_yet" for m in status["judgement"]["metrics"])
    assert "rollout 1" in cli("controller", "--once").stdout  # nothing decided yet: still running

    plan = cli("rollout", "check-plan", "licence-prefilter", "--plan", "canary-only", "--daily-cases", "300").stdout
    assert "cannot reliably catch a regression twice the tolerance" in plan

    result = cli("rollout", "promote", "1", ok=False)  # the starter cannot approve their own rollout
    assert result.exit_code == 1 and "cannot also approve" in result.stderr
    assert "incident 1 opened" in cli("rollout", "rollback", "1", "--reason", "checking the CLI").stdout
    result = cli("rollout", "start", "licence-prefilter", "v3", ok=False)
    assert "must record a cause" in result.stderr
    cli("incident", "document", "1", "--cause", "a test rollback from the CLI", "--remediation", "nothing to mend")
    incidents = cli.json("incident", "list")
    assert incidents[0]["status"] == "documented"
    history = cli.json("rollout", "history", "licence-prefilter")
    assert [(r["candidate"], r["state"]) for r in history] == [("v3", "rolled_back")]


def test_rollout_of_a_spec_change_from_the_command_line(cli, settings, tmp_path):
    import yaml

    from relevo.demo import spec_resource

    prepare_demo(settings)
    body = yaml.safe_load(spec_resource().read_text())
    body["threshold"] = {"label": "rejected", "min_probability": 1.5}
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(body))
    result = cli("rollout", "start", "licence-prefilter", "--spec", str(broken), ok=False)
    assert result.exit_code != 0 and "broken.yaml" in result.stderr and "threshold.min_probability" in result.stderr

    body["threshold"]["min_probability"] = 0.8
    changed = tmp_path / "stricter.yaml"
    changed.write_text(yaml.safe_dump(body))
    out = cli("rollout", "start", "licence-prefilter", "--spec", str(changed), "--plan", "canary-only").stdout
    assert "the stable version under the spec in" in out
    status = cli.json("rollout", "status", "licence-prefilter")
    assert status["candidate"] == status["stable"] == "v1"
    [service] = cli.json("service", "list")
    assert status["release"]["spec_sha256"] != service["spec_sha256"]
