"""A weaker suite does not replace a service's suite quietly: each way it loosens is named, and only
an approver's written override applies it, kept in the audit log."""

from __future__ import annotations

import pytest

from relevo.audit import read_events
from relevo.errors import Conflict, InvalidInput, Refused
from relevo.services import parse_spec
from relevo.suites import apply_suite, parse_suite
from relevo.suites.loosening import suite_loosened
from tests.suites.conftest import SERVICE, SPEC, SUITE, write_reference

GOLDEN = {"name": "clear-no", "inputs": {"x": 0.05, "s": "golden", "group": "b"}, "expect": "no"}
PERSON = frozenset({("operator", None)})


def test_each_way_a_suite_loosens_is_named_and_stricter_ones_are_not(tmp_path):
    spec = parse_spec(SPEC, "eligibility.yaml")
    write_reference(tmp_path)
    base = SUITE | {"golden": SUITE["golden"] + [GOLDEN]}

    def loosened(**changes) -> list[str]:
        return suite_loosened(parse_suite(base, "a.yaml", spec, tmp_path),
                              parse_suite(base | changes, "b.yaml", spec, tmp_path))

    assert loosened() == []
    assert loosened(golden=SUITE["golden"]) == ["golden case clear-no is dropped"]
    assert loosened(smoke=["clear-yes"]) == ["smoke case clear-no no longer runs before traffic"]
    assert loosened(golden=SUITE["golden"] + [GOLDEN | {"expect": "yes"}]) == [
        "golden case clear-no asks another decision or of other inputs"]
    assert loosened(regression={"metrics": [{"metric": "accuracy", "margin": 0.1}]}) == [
        "regression allows accuracy to drop 0.1 (was 0.05)", "regression allows accuracy to drop more within a group"]
    assert loosened(regression={"metrics": [{"metric": "accuracy", "margin": 0.01}]}) == []  # stricter
    assert loosened(latency={"calls": 40, "p95_ms": 50}) == ["latency allows p95 50 ms over 40 calls (was 10 ms over 40)"]
    assert loosened(robustness=None) == ["the robustness check is dropped"]
    assert loosened(fairness=[{"attribute": "group", "label": "yes", "min_ratio": 0.5}]) == [
        "fairness on group accepts a ratio of 0.5 (was 0.8)"]
    assert loosened(alpha=0.2) == ["alpha is larger (0.2, was 0.05): narrower intervals pass more easily"]
    (tmp_path / "fewer.csv").write_text("\n".join((tmp_path / "reference.csv").read_text().splitlines()[:-5]) + "\n")
    assert loosened(reference={"file": "fewer.csv", "label": "truth"}) == [
        "5 of the 2000 reference cases are dropped or relabelled"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_weaker_suite_needs_an_approvers_written_override(ctx, eligibility, tmp_path):
    spec = parse_spec(SPEC, "eligibility.yaml")
    write_reference(tmp_path)
    weaker = parse_suite(SUITE | {"latency": None}, "eligibility.tests.yaml", spec, tmp_path)
    operator = ctx.acting_as("olga", PERSON)
    with pytest.raises(Conflict, match="weaker than the current one:\n  - the latency check is dropped\nan approver"):
        apply_suite(operator, SERVICE, weaker)
    with pytest.raises(Refused):
        apply_suite(operator, SERVICE, weaker, override="the latency budget moves to the load tests")
    approver = ctx.acting_as("ana", frozenset({("approver", None)}))
    with pytest.raises(InvalidInput, match="written reason"):
        apply_suite(approver, SERVICE, weaker, override="ok")
    assert apply_suite(approver, SERVICE, weaker, override="the latency budget moves to the load tests") == "applied"
    event = read_events(ctx, service=SERVICE, action="suite.applied")[-1]
    assert (event.actor, event.details["loosened"], event.details["override_reason"]) == (
        "ana", ["the latency check is dropped"], "the latency budget moves to the load tests")
    # A stricter suite needs no one's override.
    assert apply_suite(operator, SERVICE, parse_suite(SUITE, "eligibility.tests.yaml", spec, tmp_path)) == "applied"
