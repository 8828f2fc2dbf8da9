"""Environments' fingerprints, `relevo env diff`, and what makes a version validated in staging:
a real second runtime (one more package installed) recorded by the real program."""

from __future__ import annotations

import json

import pytest

from relevo.environments.diff import differences
from tests.conftest import prepare_demo

S = "licence-prefilter"


def test_differences_name_each_part_and_package():
    left = {"python": "3.11.7", "packages": ["numpy==2.1.0", "scipy==1.14.0"], "packages_sha256": "a" * 64,
            "services": {S: {"spec_sha256": "b" * 64, "stable": {"version": "v1", "sha256": "c" * 64}}}}
    right = {"python": "3.12.1", "packages": ["numpy==2.2.0", "pandas==2.2.0"], "packages_sha256": "d" * 64,
             "services": {S: {"spec_sha256": "b" * 64, "stable": {"version": "v2", "sha256": "e" * 64}}}}
    found = {d.what: (d.left, d.right) for d in differences(left, right)}
    assert found == {"Python": ("3.11.7", "3.12.1"), "installed packages (hash)": ("a" * 12, "d" * 12),
                     "package numpy": ("2.1.0", "2.2.0"), "package pandas": (None, "2.2.0"),
                     "package scipy": ("1.14.0", None), f"{S}: stable": ("v1 (cccccccccccc)", "v2 (eeeeeeeeeeee)")}
    assert [d.what for d in differences(left, left)] == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_staging_validation_holds_a_passed_run_against_productions_runtime(cli, settings, tmp_path):
    prepare_demo(settings)
    assert "staging has no fingerprint yet" in " ".join(cli("env", "diff", "staging", "production", ok=False).stderr.split())
    cli("env", "fingerprint", "--env", "production")
    cli("env", "fingerprint", "--env", "staging")
    shown = cli("env", "diff", "staging", "production", ok=False)
    assert shown.exit_code == 1 and "differences" in shown.stdout
    found = {d["what"]: (d["left"], d["right"]) for d in json.loads(
        cli("env", "diff", "staging", "production", "--json", ok=False).stdout)["differences"]}
    assert found[f"{S}: stable"][0] is None and found[f"{S}: stable"][1].startswith("v1 (")  # only production routes it
    assert "Python" not in found and "installed packages (hash)" not in found  # the same runtime on both

    assert "no full test run of v2 in staging" in " ".join(cli("env", "validation", S, "v2", ok=False).stdout.split())
    cli("test", S, "v2", "--env", "staging")
    valid = " ".join(cli("env", "validation", S, "v2").stdout.split())
    assert "validated in staging: test run" in valid and "passed in staging on production's runtime" in valid

    # Production's machine now has one more package: the real program records its fingerprint.
    site = tmp_path / "site"
    (site / "municipal_addon-1.0.dist-info").mkdir(parents=True)
    (site / "municipal_addon-1.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: municipal-addon\nVersion: 1.0\n")
    cli.env["PYTHONPATH"] = str(site)
    done = cli.process("env", "fingerprint", "--env", "production")
    assert done.returncode == 0, done.stderr
    del cli.env["PYTHONPATH"]
    held = cli("env", "validation", S, "v2", ok=False)
    words = " ".join(held.stdout.split())
    assert held.exit_code == 1 and "on a runtime that differs from production's in 2 ways" in words
    assert "package municipal-addon: staging (absent), production 1.0" in words

    refused = cli("env", "waive", S, "v2", "--reason", "an add-on the model never imports", ok=False)
    assert "tester ran test run" in " ".join(refused.stderr.split())  # four eyes: not the one who ran the tests
    waived = " ".join(cli("--actor", "approver", "env", "waive", S, "v2", "--reason",
                          "an add-on the model never imports").stdout.split())
    assert "validated in staging" in waived and "waived by approver" in waived
    # A replay from the command line (nothing recorded in production yet: an honest, empty report).
    replayed = " ".join(cli("replay", S, "--version", "v3").stdout.split())
    assert "Replay 1: 0 recorded production cases of licence-prefilter, 0 replayed to v3 in staging" in replayed
    events = {e["action"] for e in cli.json("audit", "--service", S, "--limit", "200")}
    assert {"suite.full_passed", "environment.differences_waived"} <= events
    fingerprints = [e for e in cli.json("audit", "--action", "environment.*", "--limit", "50")
                    if e["action"] == "environment.fingerprinted"]
    newest = max(fingerprints, key=lambda e: e["id"])
    assert len(fingerprints) == 3 and "package municipal-addon" in newest["details"]["changed"]
