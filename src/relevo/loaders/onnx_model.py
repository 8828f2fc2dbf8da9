"""Running an ONNX classifier (e.g. exported with skl2onnx) with onnxruntime."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from relevo.errors import InvalidInput, RelevoError
from relevo.loaders.artifact import entry_path
from relevo.loaders.base import Prediction
from relevo.loaders.errors import ModelFailure
from relevo.loaders.outputs import Answers
from relevo.loaders.rows import non_numeric_inputs, to_matrix
from relevo.loaders.signature import ModelSpec, Signature

INPUT_DTYPES = {"tensor(float)": np.float32, "tensor(double)": np.float64}
LABEL_TYPES = ("tensor(string)", "tensor(int64)")
# Ties and float32 rounding: the label may sit this far below the top probability.
TIE_TOLERANCE = 1e-6


class OnnxModel:
    """One input tensor [n, k] in signature order; a label output, then optionally probabilities."""

    def __init__(self, session: Any, signature: Signature, source: str) -> None:
        self.session = session
        self.signature = signature
        self.source = source
        self.answers = Answers(signature, source)
        self.labels = list(signature.outputs.labels)
        self.input_name, self.dtype = _input(session, signature, source)
        self.output_names = _outputs(session, source)

    def predict(self, rows: Sequence[Mapping[str, Any]]) -> list[Prediction]:
        """One Prediction per row; ModelFailure if the session fails or answers off-signature."""
        if not rows:
            return []
        matrix = to_matrix(rows, self.signature).astype(self.dtype)
        try:
            results = self.session.run(self.output_names, {self.input_name: matrix})
        except Exception as exc:  # onnxruntime raises its own exception types
            raise ModelFailure(f"model {self.source} failed to run: {type(exc).__name__}: {exc}") from exc
        labels = [str(label) for label in np.asarray(results[0]).reshape(-1).tolist()]
        if len(labels) != len(rows):
            raise ModelFailure(f"model {self.source} returned {len(labels)} labels for {len(rows)} rows")
        if len(results) == 1:
            return [self.answers.make(label) for label in labels]
        probabilities = self._probabilities(results[1], labels)
        return [self.answers.make(label, probs) for label, probs in zip(labels, probabilities)]

    def _probabilities(self, output: Any, labels: list[str]) -> list[Mapping[Any, float]]:
        if isinstance(output, list):  # the ZipMap form: one {label: probability} per row
            if len(output) != len(labels):
                raise ModelFailure(
                    f"model {self.source} returned {len(output)} probability rows for {len(labels)} rows"
                )
            return output
        proba = np.asarray(output, dtype=np.float64)
        if proba.shape != (len(labels), len(self.labels)):
            raise ModelFailure(
                f"model {self.source} returned probabilities of shape {proba.shape}, "
                f"expected ({len(labels)}, {len(self.labels)}) for labels {self.labels}"
            )
        # A bare array does not say which column is which label; the signature's order is the
        # contract, and a label that is not its row's most probable column means it was broken.
        columns = {label: index for index, label in enumerate(self.labels)}
        for row, label in zip(proba, labels):
            if label in columns and row[columns[label]] < row.max() - TIE_TOLERANCE:
                raise ModelFailure(
                    f"model {self.source} answered {label!r} but gave another label the highest "
                    f"probability: its probability columns do not follow the signature's label order "
                    f"{self.labels} (export with that class order, or keep skl2onnx's zipmap)"
                )
        return [dict(zip(self.labels, row)) for row in proba.tolist()]


def load_onnx(artifact_dir: Path, spec: ModelSpec, signature: Signature) -> OnnxModel:
    """Open an ONNX file in an onnxruntime session on the CPU."""
    try:
        import onnxruntime
    except ImportError:
        raise RelevoError(
            "ONNX models need onnxruntime, which is not installed: pip install 'relevo[onnx]'"
        ) from None
    path = entry_path(artifact_dir, spec)
    try:
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise InvalidInput(f"cannot open ONNX file {path}: {type(exc).__name__}: {exc}") from exc
    return OnnxModel(session, signature, source=str(path))


def _input(session: Any, signature: Signature, source: str) -> tuple[str, type]:
    inputs = session.get_inputs()
    if len(inputs) != 1:
        raise InvalidInput(
            f"ONNX model {source} has {len(inputs)} inputs ({', '.join(i.name for i in inputs)}); "
            f"relevo feeds exactly one [n, {len(signature.names)}] tensor in signature order"
        )
    tensor = inputs[0]
    if tensor.type not in INPUT_DTYPES:
        raise InvalidInput(f"ONNX model {source} input {tensor.name!r} is {tensor.type}; relevo feeds floats")
    text = non_numeric_inputs(signature)
    if text:
        raise InvalidInput(f"ONNX model {source} takes one float tensor, but inputs {text} are not numeric")
    width = tensor.shape[1] if len(tensor.shape) == 2 else None
    if len(tensor.shape) != 2 or (isinstance(width, int) and width != len(signature.names)):
        raise InvalidInput(
            f"ONNX model {source} input {tensor.name!r} has shape {tensor.shape}; "
            f"the signature needs [n, {len(signature.names)}]"
        )
    return tensor.name, INPUT_DTYPES[tensor.type]


def _outputs(session: Any, source: str) -> list[str]:
    outputs = session.get_outputs()
    if not outputs or outputs[0].type not in LABEL_TYPES:
        found = ", ".join(f"{o.name}: {o.type}" for o in outputs) or "none"
        raise InvalidInput(f"ONNX model {source} must output a label tensor first; its outputs: {found}")
    if len(outputs) == 1:
        return [outputs[0].name]
    probability = outputs[1]
    if not (probability.type in INPUT_DTYPES or probability.type.startswith("seq(map(")):
        raise InvalidInput(
            f"ONNX model {source} output {probability.name!r} is {probability.type}; "
            f"expected class probabilities (a float tensor or a ZipMap sequence)"
        )
    return [outputs[0].name, probability.name]
