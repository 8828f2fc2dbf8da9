"""Request inputs validated against the spec, each error naming its field."""

import pytest
import yaml

from relevo.demo import spec_resource
from relevo.errors import InvalidInput
from relevo.gateway.validation import InputRejected, InputValidator, example_inputs
from relevo.services.spec import parse_spec

SPEC = parse_spec(yaml.safe_load(spec_resource().read_text()), "demo")
VALIDATOR = InputValidator(SPEC)
GOOD = example_inputs(SPEC)


def test_the_example_is_valid_and_optional_fields_may_be_absent():
    assert VALIDATOR.validate(GOOD) == GOOD
    without = {k: v for k, v in GOOD.items() if k not in ("applicant_id", "age_band")}
    assert VALIDATOR.validate(without)["age_band"] is None


@pytest.mark.parametrize("change, field, words", [
    ({"documents_complete": "0.5"}, "documents_complete", "number"),
    ({"documents_complete": True}, "documents_complete", "number"),
    ({"documents_complete": 1.5}, "documents_complete", "less than or equal"),
    ({"documents_complete": float("nan")}, "documents_complete", "finite"),
    ({"prior_infractions": 1.5}, "prior_infractions", "integer"),
    ({"prior_infractions": -1}, "prior_infractions", "greater than or equal"),
    ({"zoning_compatible": "yes"}, "zoning_compatible", "boolean"),
    ({"district": "atlantis"}, "district", "centre"),
    ({"colour": "red"}, "colour", "Extra inputs"),
    ({"applicant_id": "x" * 41}, "applicant_id", "at most 40"),
])
def test_each_bad_value_is_named(change, field, words):
    with pytest.raises(InputRejected) as err:
        VALIDATOR.validate(GOOD | change)
    assert err.value.errors[0][0] == field and words in err.value.errors[0][1]


def test_a_whole_number_is_an_integer_as_json_schema_says():
    assert VALIDATOR.validate(GOOD | {"prior_infractions": 6.0})["prior_infractions"] == 6
    assert type(VALIDATOR.validate(GOOD | {"prior_infractions": 6.0})["prior_infractions"]) is int
    for wrong in ("6", True, 6.5, float("inf")):
        with pytest.raises(InputRejected, match="prior_infractions"):
            VALIDATOR.validate(GOOD | {"prior_infractions": wrong})


def test_any_identifier_is_a_field_name():
    from relevo.gateway.validation import InputValidator
    from relevo.services.spec import parse_spec

    spec = parse_spec({"name": "odd-names", "decisions": ["yes"], "inputs": {
        "_": {"type": "integer"}, "model_config": {"type": "string"}, "validate": {"type": "boolean"}}}, "spec")
    validator = InputValidator(spec)
    assert validator.validate({"_": 1, "model_config": "x", "validate": True}) == {
        "_": 1, "model_config": "x", "validate": True}
    with pytest.raises(InputRejected) as err:
        validator.validate({"_": "1", "validate": True, "other": 1})
    assert sorted(field for field, _ in err.value.errors) == ["_", "model_config", "other"]


def test_an_integer_field_with_fractional_bounds_takes_the_whole_numbers_between():
    from relevo.gateway.validation import InputValidator
    from relevo.services.spec import parse_spec

    spec = parse_spec({"name": "bounds", "decisions": ["yes"], "inputs": {
        "n": {"type": "integer", "minimum": -0.5, "maximum": 2.5}}}, "spec")
    validator = InputValidator(spec)
    assert [validator.validate({"n": n})["n"] for n in (0, 2)] == [0, 2]
    for outside in (-1, 3):
        with pytest.raises(InputRejected, match="n: Input should be"):
            validator.validate({"n": outside})
    with pytest.raises(InvalidInput, match="finite"):
        parse_spec({"name": "bounds", "inputs": {"n": {"type": "number", "maximum": float("inf")}}}, "spec")


def test_missing_required_and_non_object_inputs():
    with pytest.raises(InputRejected, match="district: Field required"):
        VALIDATOR.validate({k: v for k, v in GOOD.items() if k != "district"})
    with pytest.raises(InputRejected, match="must be an object"):
        VALIDATOR.validate(["not", "an", "object"])


def test_every_bad_field_is_named_at_once_and_unstorable_text_is_refused():
    with pytest.raises(InputRejected) as err:
        VALIDATOR.validate(GOOD | {"documents_complete": "1", "prior_infractions": "2", "district": "mars"})
    assert {field for field, _ in err.value.errors} == {"documents_complete", "prior_infractions", "district"}
    for bad, why in (("A-\x00-1", "must not contain NUL"), ("A-\ud800", "must be valid Unicode text")):
        with pytest.raises(InputRejected, match=f"applicant_id: {why}"):
            VALIDATOR.validate(GOOD | {"applicant_id": bad})
