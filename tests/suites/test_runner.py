"""The suite runner against versions made to fail one check each: each check catches its own
defect and only that one; the run is stored and audited, and bad input is named."""

from __future__ import annotations

import pytest
import yaml

from relevo.audit import read_events
from relevo.errors import InvalidInput, NotFound
from relevo.services import parse_spec
from relevo.suites import load_suite, parse_suite, run_suite, suite_runs
from tests.suites.conftest import SERVICE, SPEC, SUITE, write_reference

EXPECTED = {"good": set(), "wrong_golden": {"golden"}, "worse": {"regression"}, "slow": {"latency"},
            "long_string": {"robustness"}, "unfair": {"fairness"}}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_each_check_catches_its_own_defect_and_only_that_one(ctx, eligibility):
    for name, failing in EXPECTED.items():
        run = run_suite(ctx, SERVICE, eligibility[name])
        assert {r.check for r in run.failures} == failing, (name, [(r.name, r.detail) for r in run.failures])
        assert run.outcome == ("passed" if not failing else "failed")
        assert {r.check for r in run.results} == {"golden", "regression", "latency", "robustness", "fairness"}
    runs = {r.version: r for r in suite_runs(ctx, SERVICE)}
    good = runs[eligibility["good"]]
    # The stable version is not compared with itself: regression does not apply, and is not a pass.
    assert [r.outcome for r in good.results if r.check == "regression"] == ["not applicable"]
    worse = runs[eligibility["worse"]]
    accuracy = next(r for r in worse.results if r.name == "accuracy")
    assert accuracy.lower <= accuracy.measured <= accuracy.upper and accuracy.measured == pytest.approx(-0.1, abs=0.002)
    long_string = next(r for r in runs[eligibility["long_string"]].results if r.check == "robustness")
    assert "ValueError: text too long" in long_string.detail and "s='" in long_string.detail
    # Shrunk to the simplest failing case: a text one character past the model's limit.
    shrunk = long_string.detail.split("s='")[1].split("'")[0]
    assert len(shrunk) == 11
    unfair = next(r for r in runs[eligibility["unfair"]].results if r.check == "fairness")
    assert unfair.measured == pytest.approx(0.4 / 0.6, abs=0.01) and unfair.upper < 0.8
    events = [e for e in read_events(ctx, service=SERVICE, action="suite.full_failed")
              if e.subject == f"{SERVICE}/{eligibility['worse']}"]
    assert events and events[0].details["failed"] and events[0].details["version_sha256"] == worse.version_sha256
    assert worse.fingerprint["packages_sha256"] and worse.environment == "staging"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_version_that_hangs_is_reported_and_not_asked_again(ctx, eligibility, tmp_path, monkeypatch):
    from relevo.registry import register_version
    from relevo.suites import answering
    from tests.suites.conftest import VERSIONS, version_folder

    monkeypatch.setattr(answering, "HANG_S", 0.3)
    monkeypatch.setitem(VERSIONS, "hangs", 'import time\n\ndef predict(row):\n    if row["s"] == "golden":\n'
                                           '        time.sleep(30)\n    return decide(row)\n')
    folder, meta = version_folder(tmp_path / "more", "hangs")
    version = register_version(ctx, SERVICE, folder, meta).name
    run = run_suite(ctx, SERVICE, version)
    golden = next(r for r in run.results if r.check == "golden")
    assert golden.outcome == "failed" and "no answer within the service's timeout (1000 ms): it hung" in golden.detail
    assert run.outcome == "failed"


def test_bad_suites_are_named_and_nothing_is_recorded(ctx, tmp_path):
    spec = parse_spec(SPEC, "eligibility.yaml")
    write_reference(tmp_path)

    def refused(body, *match):
        with pytest.raises((InvalidInput, NotFound)) as caught:
            parse_suite(body, "eligibility.tests.yaml", spec, tmp_path)
        for text in match:
            assert text in str(caught.value), str(caught.value)

    refused({}, "the suite is empty")
    refused(SUITE | {"golden": [{"name": "c1", "inputs": {"x": 2, "s": "a"}, "expect": "maybe"}]},
            "golden[0] (c1).expect: 'maybe' is not one of the decisions", "golden[0] (c1).inputs.x")
    refused(SUITE | {"golden": [{"name": "c1", "inputs": {}, "expect": "yes", "tolerance": "wide"}]},
            "eligibility.tests.yaml", "golden.0.tolerance")
    refused(SUITE | {"smoke": ["nowhere"]}, "smoke names cases that are not golden cases: nowhere")
    refused(SUITE | {"fairness": [{"attribute": "x", "label": "yes", "min_ratio": 0.8}]},
            "fairness[0].attribute: 'x' is not a protected input")
    refused(SUITE | {"reference": {"file": "absent.csv", "label": "truth"}}, "reference.file not found")
    (tmp_path / "wrong.csv").write_text("x,colour,truth\n0.5,red,yes\n")
    refused(SUITE | {"reference": {"file": "wrong.csv", "label": "truth"}},
            "columns colour are not inputs of eligibility", "required inputs s have no column")
    (tmp_path / "typed.csv").write_text("x,s,truth\n0.5,a,yes\n7,b,no\n")
    refused(SUITE | {"reference": {"file": "typed.csv", "label": "truth"}}, "row 3: x:")
    (tmp_path / "broken.yaml").write_text("golden: [\n")
    with pytest.raises(InvalidInput, match="broken.yaml is not valid YAML"):
        load_suite(tmp_path / "broken.yaml", spec)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_service_without_a_suite_says_how_to_give_one(ctx, eligibility):
    from relevo.services.catalogue import apply_spec

    apply_spec(ctx, parse_spec(SPEC | {"name": "other"}, "other.yaml"))
    with pytest.raises(NotFound, match="other has no test suite: name one in its spec"):
        run_suite(ctx, "other", "v1")
    with pytest.raises(NotFound, match="unknown environment 'qa'"):
        run_suite(ctx, SERVICE, eligibility["good"], environment="qa")
    assert yaml  # the module's YAML import serves the broken-file case above
