"""ONNX artifacts exported with skl2onnx, run with onnxruntime."""

from __future__ import annotations

import sys

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType

from relevo.errors import InvalidInput, RelevoError
from relevo.loaders import ModelFailure, load_model
from tests.loaders.loader_testkit import (
    NUMERIC_NAMES,
    NUMERIC_SIGNATURE,
    numeric_data,
    rows,
    signature,
    spec,
)


def _export(estimator, path, zipmap):
    onx = convert_sklearn(
        estimator,
        initial_types=[("features", FloatTensorType([None, len(NUMERIC_NAMES)]))],
        options={id(estimator): {"zipmap": zipmap}},
    )
    path.write_bytes(onx.SerializeToString())


@pytest.mark.parametrize("zipmap", [False, True])
def test_onnx_answers_like_scikit_learn(tmp_path, numeric_model, zipmap):
    _export(numeric_model, tmp_path / "model.onnx", zipmap)
    model = load_model(tmp_path, spec("onnx", "model.onnx"), NUMERIC_SIGNATURE)
    x, _ = numeric_data(n=300, seed=11)
    predictions = model.predict(rows(x, NUMERIC_NAMES))
    assert [p.decision for p in predictions] == numeric_model.predict(x).tolist()
    got = np.array([[p.probabilities[c] for c in numeric_model.classes_] for p in predictions])
    np.testing.assert_allclose(got, numeric_model.predict_proba(x), rtol=0, atol=1e-5)


def test_probability_columns_out_of_signature_order_are_caught(tmp_path, numeric_model):
    _export(numeric_model, tmp_path / "model.onnx", zipmap=False)
    reversed_labels = signature(NUMERIC_NAMES, ["number"] * 3, labels=["grant", "deny"])
    model = load_model(tmp_path, spec("onnx", "model.onnx"), reversed_labels)
    x, _ = numeric_data(n=50, seed=12)
    with pytest.raises(ModelFailure, match="do not follow the signature's label order"):
        model.predict(rows(x, NUMERIC_NAMES))


def test_a_graph_with_two_inputs_is_refused(tmp_path):
    graph = helper.make_graph(
        [helper.make_node("Add", ["a", "b"], ["sum"])],
        "two-inputs",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, [None, 3]) for n in ("a", "b")],
        [helper.make_tensor_value_info("sum", TensorProto.FLOAT, [None, 3])],
    )
    onnx.save(helper.make_model(graph), tmp_path / "model.onnx")
    with pytest.raises(InvalidInput, match="has 2 inputs"):
        load_model(tmp_path, spec("onnx", "model.onnx"), NUMERIC_SIGNATURE)


def test_string_inputs_are_refused(tmp_path, numeric_model):
    _export(numeric_model, tmp_path / "model.onnx", zipmap=False)
    with_text = signature(["income", "household", "region"], ["number", "integer", "string"])
    with pytest.raises(InvalidInput, match="not numeric"):
        load_model(tmp_path, spec("onnx", "model.onnx"), with_text)


def test_missing_onnxruntime_says_how_to_install_it(tmp_path, numeric_model, monkeypatch):
    _export(numeric_model, tmp_path / "model.onnx", zipmap=False)
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(RelevoError, match=r"pip install 'relevo\[onnx\]'"):
        load_model(tmp_path, spec("onnx", "model.onnx"), NUMERIC_SIGNATURE)
