"""A Model served elsewhere, spoken to over the Open Inference Protocol (V2) REST API."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import httpx
import numpy as np

from relevo.errors import InvalidInput
from relevo.loaders.base import Prediction
from relevo.loaders.errors import ModelFailure
from relevo.loaders.outputs import Answers
from relevo.loaders.rows import non_numeric_inputs, to_matrix
from relevo.loaders.signature import ModelSpec, Signature

INPUT_NAME = "input-0"


class RemoteModel:
    """POSTs one FP64 [n, k] tensor per call to /v2/models/<name>/infer, over one HTTP client."""

    def __init__(self, spec: ModelSpec, signature: Signature) -> None:
        self.url = f"{(spec.url or '').rstrip('/')}/v2/models/{spec.model_name}/infer"
        self.signature = signature
        self.labels = list(signature.outputs.labels)
        self.wanted = "predict_proba" if signature.outputs.probabilities else "predict"
        self.answers = Answers(signature, f"at {self.url}")
        self.client = httpx.Client(timeout=spec.timeout_s)

    def predict(self, rows: Sequence[Mapping[str, Any]]) -> list[Prediction]:
        """One Prediction per row; ModelFailure on transport errors, timeouts or bad answers."""
        if not rows:
            return []
        matrix = to_matrix(rows, self.signature)
        request = {
            "inputs": [{
                "name": INPUT_NAME,
                "datatype": "FP64",
                "shape": list(matrix.shape),
                "data": matrix.reshape(-1).tolist(),
            }],
            "outputs": [{"name": self.wanted}],
        }
        outputs = self._post(request)
        if "predict_proba" in outputs:
            return self._from_probabilities(outputs["predict_proba"], len(rows))
        if "predict" in outputs:
            return [self.answers.make(label) for label in self._data(outputs["predict"], (len(rows),))]
        raise self._failure(f"answered neither predict nor predict_proba (outputs: {sorted(outputs)})")

    def close(self) -> None:
        """Close the HTTP connections."""
        self.client.close()

    def __enter__(self) -> "RemoteModel":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _post(self, request: dict[str, Any]) -> dict[str, Mapping[str, Any]]:
        try:
            response = self.client.post(self.url, json=request)
        except httpx.TimeoutException as exc:
            raise self._failure(f"timed out ({type(exc).__name__})") from exc
        except httpx.HTTPError as exc:
            raise self._failure(f"{type(exc).__name__}: {exc}") from exc
        if not response.is_success:
            raise self._failure(f"HTTP {response.status_code}: {response.text[:300]}")
        try:
            body = response.json()
            return {output["name"]: output for output in body["outputs"]}
        except (ValueError, KeyError, TypeError) as exc:
            cause = f"malformed answer ({type(exc).__name__}: {exc}): {response.text[:300]}"
            raise self._failure(cause) from exc

    def _from_probabilities(self, output: Mapping[str, Any], n: int) -> list[Prediction]:
        # The protocol sends bare columns; the signature's label order says which is which.
        try:
            proba = np.asarray(self._data(output, (n, len(self.labels))), dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise self._failure(f"predict_proba values are not numbers: {exc}") from exc
        proba = proba.reshape(n, len(self.labels))
        decisions = proba.argmax(axis=1).tolist()
        return [
            self.answers.make(self.labels[best], dict(zip(self.labels, row)))
            for best, row in zip(decisions, proba.tolist())
        ]

    def _data(self, output: Mapping[str, Any], shape: tuple[int, ...]) -> list[Any]:
        data = output.get("data")
        if isinstance(data, list) and data and isinstance(data[0], list):  # some servers nest rows
            data = [value for row in data for value in (row if isinstance(row, list) else [row])]
        if not isinstance(data, list) or len(data) != int(np.prod(shape)):
            raise self._failure(
                f"output {output.get('name')!r} has {len(data) if isinstance(data, list) else 'no'} "
                f"values; expected shape {list(shape)}"
            )
        return data

    def _failure(self, cause: str) -> ModelFailure:
        return ModelFailure(f"remote model at {self.url}: {cause}")


def load_remote(spec: ModelSpec, signature: Signature) -> RemoteModel:
    """A client for a model on an Open Inference Protocol server; nothing is contacted yet."""
    text = non_numeric_inputs(signature)
    if text:
        raise InvalidInput(f"remote models take one FP64 tensor, but inputs {text} are not numeric")
    try:
        url = httpx.URL(spec.url or "")
    except httpx.InvalidURL as exc:
        raise InvalidInput(f"remote model url {spec.url!r} is not a URL: {exc}") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise InvalidInput(f"remote model url {spec.url!r} is not an http:// or https:// URL with a host")
    return RemoteModel(spec, signature)
