"""`relevo service init`: a spec and metadata drafted from a model and its data, personal until reviewed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import skops.io
import yaml
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from relevo.errors import InvalidInput, NotFound, Refused
from relevo.registry import draft_service, parse_metadata
from relevo.registry.reference_data import profile_reference_data
from relevo.services import parse_spec

# The model reads its columns in this order, which is not the data's.
MODEL_INPUTS = ["items", "bulky", "district", "elderly"]


@pytest.fixture(scope="module")
def pickups(tmp_path_factory):
    """A pickup-triage pipeline fitted on a DataFrame, saved with skops, and its data as CSV."""
    folder = tmp_path_factory.mktemp("pickups")
    rng = np.random.default_rng(3)
    n = 300
    data = pd.DataFrame({
        "request_id": [f"R{i:04d}" for i in range(n)], "district": rng.choice(["north", "south", "centre"], n),
        "items": rng.integers(1, 12, n), "bulky": rng.choice(["sofa", "fridge", "mattress"], n),
        "weight_kg": rng.uniform(5, 90, n).round(1), "elderly": rng.choice([True, False], n),
        "age_band": rng.choice(["18-39", "40-64", "65+"], n)})
    data["outcome"] = np.where(data["items"] > 6, "needs_review", "scheduled")
    pipeline = make_pipeline(make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), ["bulky", "district"]), (StandardScaler(), ["items"]),
        remainder="passthrough"), LogisticRegression())
    pipeline.fit(data[MODEL_INPUTS], data["outcome"])
    skops.io.dump(pipeline, folder / "pickup.skops")
    data.to_csv(folder / "pickups.csv", index=False)
    return folder


def test_inputs_order_and_labels_come_from_the_model_types_and_values_from_the_data(pickups):
    draft = draft_service("bulky-pickup", pickups / "pickup.skops", pickups / "pickups.csv", label="outcome",
                          personal=["request_id"], protected=["age_band"])
    assert draft.inputs == MODEL_INPUTS and draft.labels == ["needs_review", "scheduled"]
    assert draft.other_fields == ["request_id", "weight_kg", "age_band"] and draft.unreviewed == []
    spec = yaml.safe_load(draft.spec)
    assert spec["inputs"]["items"] == {"type": "integer"}
    assert spec["inputs"]["bulky"] == {"type": "string", "enum": ["fridge", "mattress", "sofa"]}
    assert spec["inputs"]["weight_kg"] == {"type": "number", "required": False}
    assert spec["inputs"]["elderly"] == {"type": "boolean"}
    assert spec["inputs"]["request_id"] == {"type": "string", "required": False, "personal": True}
    assert spec["inputs"]["age_band"]["protected"] is True
    assert "daily_cases" not in spec["rollout"]  # check-plan asks for the traffic rather than size for a guess
    metadata = yaml.safe_load(draft.metadata)
    assert [f["name"] for f in metadata["signature"]["inputs"]] == MODEL_INPUTS
    assert metadata["model"].get("trusted_types", []) == skops.io.get_untrusted_types(file=pickups / "pickup.skops")


def test_what_only_a_person_can_write_is_todo_and_refused_until_written(pickups, tmp_path):
    draft = draft_service("bulky-pickup", pickups / "pickup.skops", pickups / "pickups.csv", label="outcome")
    with pytest.raises(InvalidInput, match=r"still has TODO in description, owner"):
        parse_spec(yaml.safe_load(draft.spec), "bulky-pickup.yaml")
    with pytest.raises(InvalidInput, match=r"still has TODO in description, code_revision, author, intended_use, "
                                           r"limitations"):
        parse_metadata(yaml.safe_load(draft.metadata), "bulky-pickup.metadata.yaml")
    written = draft.metadata
    for field in ("description", "code_revision", "author", "intended_use", "limitations"):
        written = "\n".join(f"{field}: written" if line.startswith(f"{field}: TODO") else line
                            for line in written.splitlines())
    assert parse_metadata(yaml.safe_load(written), "bulky-pickup.metadata.yaml").author == "written"


def test_without_a_review_every_field_is_personal_so_nothing_is_profiled(pickups):
    draft = draft_service("bulky-pickup", pickups / "pickup.skops", pickups / "pickups.csv", label="outcome")
    assert draft.unreviewed == [*MODEL_INPUTS, "request_id", "weight_kg", "age_band"]
    assert all(field.get("personal") for field in yaml.safe_load(draft.spec)["inputs"].values())
    assert "# TODO: personal data?" in draft.spec
    metadata = yaml.safe_load(draft.metadata)
    personal = {f["name"] for f in metadata["signature"]["inputs"] + metadata["other_fields"] if f.get("personal")}
    profile = profile_reference_data(pickups / "pickups.csv", personal)
    assert set(profile["features"]) == {"outcome"} and len(profile["skipped"]) == 7


def test_without_the_model_saying_its_labels_the_outcome_column_is_asked_for(pickups, tmp_path):
    model = tmp_path / "pickup.onnx"
    model.write_bytes(b"not read: an ONNX graph names tensors, not fields")
    with pytest.raises(InvalidInput, match="give --label COLUMN"):
        draft_service("bulky-pickup", model, pickups / "pickups.csv")
    draft = draft_service("bulky-pickup", model, pickups / "pickups.csv", label="outcome", personal=["request_id"])
    assert draft.inputs[:2] == ["request_id", "district"] and "outcome" not in draft.inputs
    assert "TODO: check the order" in draft.metadata


def test_mistakes_are_named(pickups, tmp_path):
    model, data = pickups / "pickup.skops", pickups / "pickups.csv"
    with pytest.raises(InvalidInput, match="--personal names citizen, which the data does not have"):
        draft_service("bulky-pickup", model, data, label="outcome", personal=["citizen"])
    with pytest.raises(InvalidInput, match="either personal .* or protected"):
        draft_service("bulky-pickup", model, data, label="outcome", personal=["age_band"], protected=["age_band"])
    with pytest.raises(InvalidInput, match="not a column"):
        draft_service("bulky-pickup", model, data, label="result")
    with pytest.raises(InvalidInput, match="not a service name"):
        draft_service("Bulky Pickup", model, data)
    with pytest.raises(NotFound, match="data file not found"):
        draft_service("bulky-pickup", model, tmp_path / "nothing.csv")
    partial = tmp_path / "partial.csv"
    pd.read_csv(data).drop(columns=["district"]).to_csv(partial, index=False)
    with pytest.raises(InvalidInput, match="the model reads district, which partial.csv does not have"):
        draft_service("bulky-pickup", model, partial, label="outcome")


class VendorBooster(LogisticRegression):
    """A vendor's own estimator class: skops does not know it."""


def test_types_from_outside_the_scientific_stack_need_a_person(pickups, tmp_path):
    data = pd.read_csv(pickups / "pickups.csv")
    model = VendorBooster().fit(data[["items", "weight_kg"]].to_numpy(), data["outcome"])
    skops.io.dump(model, tmp_path / "vendor.skops")
    name = f"{__name__}.VendorBooster"
    with pytest.raises(Refused, match=rf"{name}.*--trust-type"):
        draft_service("bulky-pickup", tmp_path / "vendor.skops", pickups / "pickups.csv", label="outcome")
    draft = draft_service("bulky-pickup", tmp_path / "vendor.skops", pickups / "pickups.csv", label="outcome",
                          trust_types=[name])
    assert name in yaml.safe_load(draft.metadata)["model"]["trusted_types"]
