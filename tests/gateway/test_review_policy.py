"""The review policy: which automated answers wait for a case worker, and how a spec may say so."""

import pytest
import yaml

from relevo.demo import spec_resource
from relevo.errors import InvalidInput
from relevo.services.review_policy import ProbabilityBand, ReviewPolicy
from relevo.services.spec import parse_spec


def test_each_part_of_the_policy_holds_its_cases_and_names_why():
    policy = ReviewPolicy(labels=["rejected"], probability_bands=[ProbabilityBand(label="admissible", low=0.4,
                                                                                    high=0.6)],
                          groups={"age_band": ["65+"], "resident": [True]})
    assert policy.active and not ReviewPolicy().active
    assert policy.reason("rejected", {"rejected": 0.99}, {}) == "label rejected"
    assert policy.reason("admissible", {"admissible": 0.55}, {}) == "p(admissible) 0.4-0.6"
    assert policy.reason("admissible", {"admissible": 0.4}, {}) == "p(admissible) 0.4-0.6"  # ends included
    assert policy.reason("admissible", {"admissible": 0.61}, {}) is None
    assert policy.reason("admissible", None, {}) is None  # rules give no probabilities
    # The group's value stays out of the reason: a protected field may be personal, and reasons are logged.
    assert policy.reason("admissible", {"admissible": 0.9}, {"age_band": "65+"}) == "group age_band"
    assert policy.reason("admissible", {"admissible": 0.9}, {"age_band": "30-44"}) is None
    assert policy.reason("admissible", None, {"resident": True}) == "group resident"
    assert ReviewPolicy(groups={"count": [1]}).reason("a", None, {"count": True}) is None  # True is not 1


def _demo(**review) -> dict:
    body = yaml.safe_load(spec_resource().read_text())
    body["review"] = review
    return body


def test_the_demo_spec_takes_a_review_policy():
    spec = parse_spec(_demo(labels=["rejected"], probability_bands=[{"label": "admissible", "low": 0.3, "high": 0.7}],
                            groups={"age_band": ["65+"]}), "spec.yaml")
    assert spec.review.labels == ["rejected"] and spec.review.groups == {"age_band": ["65+"]}


@pytest.mark.parametrize("review, message", [
    ({"labels": ["maybe"]}, "review.labels: 'maybe' is not one of decisions"),
    ({"probability_bands": [{"label": "maybe", "low": 0.1, "high": 0.2}]}, "label 'maybe' is not one of decisions"),
    ({"probability_bands": [{"label": "rejected", "low": 0.7, "high": 0.2}]}, "low is greater than high"),
    ({"probability_bands": [{"label": "rejected", "low": 0.1, "high": 1.5}]}, "less than or equal to 1"),
    ({"groups": {"district": ["north"]}}, "'district' is not a protected input"),
    ({"groups": {"colour": ["red"]}}, "'colour' is not a protected input"),
    ({"groups": {"age_band": ["90+"]}}, "'90+' is not one of the field's enum"),
    ({"groups": {"age_band": [65]}}, "65 is not a string value"),
    ({"label": ["rejected"]}, "label"),
])
def test_a_policy_that_cannot_hold_what_it_says_is_refused(review, message):
    with pytest.raises(InvalidInput, match="review") as refused:
        parse_spec(_demo(**review), "spec.yaml")
    assert message in str(refused.value)
