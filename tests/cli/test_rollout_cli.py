"""The rollout commands from the command line: start, status, check-plan, controller, rollback, incidents."""

from __future__ import annotations

import json

from relevo.services import load_spec

from tests.conftest import clear_checklist_in, prepare_demo


def test_rollout_commands(cli, settings):
    prepare_demo(settings)

    # The checklist holds the start until every item is closed: shown, attested, waived here.
    listed = cli("checklist", "licence-prefilter", "--version", "v3", "--plan", "canary-only", ok=False)
    assert listed.exit_code == 1 and "the rollout cannot start" in listed.stdout and "shadow" in listed.stdout
    refused = cli("rollout", "start", "licence-prefilter", "v3", "--plan", "canary-only", ok=False)
    assert "its checklist has open items" in refused.stderr and "runbook (" in refused.stderr
    assert "confirmed" in cli("runbook", "confirm", "licence-prefilter").stdout
    short = cli("waive", "licence-prefilter", "shadow", "--version", "v3", "--plan", "canary-only", "--reason", "no",
                ok=False)
    assert "needs a written reason" in short.stderr
    clear_checklist_in(settings, "v3", plan="canary-only")
    assert "runbook" in json.dumps(cli.json("checklist", "licence-prefilter", "--version", "v3", "--plan",
                                             "canary-only"))
    assert "Rollout 1 started" in cli("rollout", "start", "licence-prefilter", "v3", "--plan", "canary-only").stdout
    status = cli.json("rollout", "status", "licence-prefilter")
    assert status["state"] == "running" and status["step"]["kind"] == "canary"
    verdicts = {m["name"]: m["verdict"] for m in status["judgement"]["metrics"]}
    assert verdicts["decision_rate(rejected)"] == "not_yet" and set(verdicts.values()) == {"not_yet"}
    assert "rollout 1" in cli("controller", "--once").stdout  # nothing decided yet: still running
    text = cli("rollout", "status", "licence-prefilter").stdout
    assert "passes only on evidence that the candidate is within its tolerance" in text

    # At 300 cases a day a 5% canary can neither catch nor show anything: check-plan says so, exit 1.
    plan = cli("rollout", "check-plan", "licence-prefilter", "--plan", "canary-only", "--daily-cases", "300", ok=False)
    assert plan.exit_code == 1 and "no step of the plan shows" in plan.stdout and "problem:" in plan.stdout
    assert "(as given)" in plan.stdout and "blocking: " in plan.stdout  # the criterion that asks most
    words = " ".join(plan.stdout.split())  # as printed, whatever the terminal's width
    assert "latency(800ms): no step of the plan shows the share over budget under its limit" in words
    assert "it needs about" in words and "of the candidate's answers" in words
    standard = cli("rollout", "check-plan", "licence-prefilter").stdout  # at the traffic the spec declares
    assert "3,000 cases a day (declared in the spec)" in standard and "The plan passes its check" in standard

    result = cli("rollout", "promote", "1", ok=False)  # the starter cannot approve their own rollout
    assert result.exit_code == 1 and "cannot also approve" in result.stderr
    result = cli("--actor", "approver", "rollout", "promote", "1", ok=False)  # nor anyone, without evidence
    assert result.exit_code == 1 and "does not allow a promotion" in result.stderr and "--override" in result.stderr
    assert "incident 1 opened" in cli("rollout", "rollback", "1", "--reason", "checking the CLI").stdout
    ended = " ".join(cli("rollout", "status", "licence-prefilter").stdout.split())
    assert "v3 (against v1, stable when it started;" in ended and "rolled_back" in ended
    assert "The rollout has ended: the verdicts below are the last it kept" in ended
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
    clear_checklist_in(settings, None, plan="canary-only", spec=load_spec(changed))
    out = cli("rollout", "start", "licence-prefilter", "--spec", str(changed), "--plan", "canary-only").stdout
    assert "the stable version under the spec in" in out
    status = cli.json("rollout", "status", "licence-prefilter")
    assert status["candidate"] == status["stable"] == "v1"
    [service] = cli.json("service", "list")
    assert status["release"]["spec_sha256"] != service["spec_sha256"]
