"""Declarative and entry-point fallback rules, and spec validation of rules."""

import pytest
import yaml

from relevo.demo import spec_resource
from relevo.errors import InvalidInput
from relevo.gateway.fallback import Rules
from relevo.services.spec import Fallback, parse_spec


def _demo_rules():
    spec = parse_spec(yaml.safe_load(spec_resource().read_text()), "demo")
    return Rules(spec.fallback, spec.decisions)


def test_first_matching_rule_answers_and_no_match_means_manual():
    rules = _demo_rules()
    assert rules.answer({"documents_complete": 0.2}).decision == "rejected"
    complete = {"documents_complete": 1.0, "zoning_compatible": True, "prior_infractions": 0}
    assert rules.answer(complete).decision == "admissible"
    assert rules.answer(complete | {"prior_infractions": 2}) is None
    assert rules.answer({}) is None  # missing fields never match


def test_entrypoint_rules(tmp_path, monkeypatch):
    (tmp_path / "municipal_rules.py").write_text(
        "def decide(inputs):\n"
        "    if inputs['documents_complete'] < 0.1:\n"
        "        return 'rejected', 'empty file'\n"
        "    return None\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    rules = Rules(Fallback(entrypoint="municipal_rules:decide"), ["admissible", "rejected"])
    assert rules.answer({"documents_complete": 0.0}).reason == "empty file"
    assert rules.answer({"documents_complete": 0.5}) is None
    with pytest.raises(InvalidInput, match="cannot be loaded"):
        Rules(Fallback(entrypoint="no_such_module:decide"), ["a", "b"])


def test_spec_refuses_rules_on_unknown_fields_or_labels():
    body = yaml.safe_load(spec_resource().read_text())
    body["fallback"]["rules"][0]["decision"] = "maybe"
    with pytest.raises(InvalidInput, match="not one of decisions"):
        parse_spec(body, "spec.yaml")
    body = yaml.safe_load(spec_resource().read_text())
    body["fallback"]["rules"][0]["when"] = {"colour": {"eq": "red"}}
    with pytest.raises(InvalidInput, match="unknown fields: colour"):
        parse_spec(body, "spec.yaml")
