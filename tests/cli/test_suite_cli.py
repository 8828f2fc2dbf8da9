"""Test suites from the command line: applied with the spec, run with `relevo test` (a table, JUnit
XML, exit 1 on a failure), and their smoke cases refusing a rollout before any traffic."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
import yaml

from tests.suites.conftest import SERVICE, SPEC, SUITE, version_folder, write_reference


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_smoke_gate_refuses_a_rollout_and_names_the_case(cli, tmp_path):
    cli.init()
    (tmp_path / "eligibility.tests.yaml").write_text(yaml.safe_dump(SUITE | {"robustness": {"examples": 20}}))
    write_reference(tmp_path)
    spec_file = tmp_path / "eligibility.yaml"
    spec_file.write_text(yaml.safe_dump(SPEC | {"tests": "eligibility.tests.yaml"}))
    broken = tmp_path / "broken.tests.yaml"
    broken.write_text(yaml.safe_dump(SUITE | {"smoke": ["absent-case"]}))
    spec_broken = tmp_path / "broken.yaml"
    spec_broken.write_text(yaml.safe_dump(SPEC | {"tests": "broken.tests.yaml"}))
    refused = cli("service", "apply", spec_broken, ok=False)  # a broken suite: the service is not even declared
    said = " ".join(refused.stderr.split())
    assert refused.exit_code == 1 and "broken.tests.yaml" in said and "absent-case" in said
    assert "no service is declared yet" in " ".join(cli("test", SERVICE, "v1", ok=False).stderr.split())

    applied = cli("service", "apply", spec_file).stdout
    assert "Test suite eligibility.tests.yaml: applied (1 golden cases, 2000 reference cases)" in " ".join(applied.split())
    for name in ("good", "wrong_golden"):
        folder, meta = version_folder(tmp_path / "versions", name)
        cli("register", SERVICE, folder, "--metadata", meta)
    cli("route", SERVICE, "--stable", "v1", "--override", "the first version of the test service")

    junit = tmp_path / "v2.xml"
    ran = cli("test", SERVICE, "v2", "--junit", junit, ok=False)
    words = " ".join(ran.stdout.split())
    assert ran.exit_code == 1 and "clear-yes" in words and "decided no, expected yes" in words
    assert f"{SERVICE} v2 against stable v1: failed" in words
    failures = ET.parse(junit).getroot().findall(".//testcase/failure")
    assert [f.get("message") for f in failures] == ["decided no, expected yes"]

    refused = cli("rollout", "start", SERVICE, "v2", ok=False)
    assert refused.exit_code == 1
    said = " ".join(refused.stderr.split())
    assert "eligibility v2 failed its smoke tests" in said and "no traffic will reach it: clear-yes: decided no" in said
    assert cli.json("rollout", "history", SERVICE) == []  # nothing started, nothing routed
    runs = cli.json("test-runs", SERVICE)
    assert [(r["version"], r["kind"], r["outcome"]) for r in runs] == [("v2", "smoke", "failed"), ("v2", "full", "failed")]
    events = cli.json("audit", "--service", SERVICE, "--limit", "200")
    assert {"suite.applied", "suite.full_failed", "suite.smoke_failed"} <= {e["action"] for e in events}
