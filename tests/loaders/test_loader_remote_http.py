"""The Open Inference Protocol client against a small in-process HTTP server with canned answers."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from relevo.errors import InvalidInput
from relevo.loaders import ModelFailure, Prediction, load_model
from tests.loaders.loader_testkit import (
    MIXED_SIGNATURE,
    NUMERIC_NAMES,
    NUMERIC_SIGNATURE,
    signature,
    spec,
)

ROWS = [{"income": 45.0, "household": 2, "debt": 0.5}, {"income": 10.0, "household": 1, "debt": 3.0}]


class Handler(BaseHTTPRequestHandler):
    requests: list[dict] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Handler.requests.append(body)
        model = self.path.split("/")[3]
        incomes = body["inputs"][0]["data"][:: body["inputs"][0]["shape"][1]]
        if model == "proba":
            data = [p for income in incomes for p in ((0.2, 0.8) if income > 30 else (0.7, 0.3))]
            output = {"name": "predict_proba", "datatype": "FP64", "shape": [len(incomes), 2], "data": data}
            self._answer(200, {"outputs": [output]})
        elif model == "predict-only":
            labels = ["grant" if income > 30 else "deny" for income in incomes]
            output = {"name": "predict", "datatype": "BYTES", "shape": [len(incomes)], "data": labels}
            self._answer(200, {"outputs": [output]})
        elif model == "short":
            self._answer(200, {"outputs": [{"name": "predict_proba", "data": [0.5]}]})
        elif model == "garbage":
            self._answer(200, b"<html>not json</html>")
        elif model == "slow":
            time.sleep(2)
            self._answer(200, {"outputs": []})
        else:
            self._answer(404, {"error": f"Model {model} not found"})

    def _answer(self, status: int, payload: object) -> None:
        raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        try:
            self.wfile.write(raw)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting, as intended
            pass

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def _remote(url, name, sig=NUMERIC_SIGNATURE, timeout_s=2.0):
    return load_model(Path(), spec("remote", url=url, model_name=name, timeout_s=timeout_s), sig)


def test_request_is_one_fp64_tensor_in_signature_order(server_url):
    with _remote(server_url, "proba") as model:
        predictions = model.predict(ROWS)
    assert Handler.requests[-1] == {
        "inputs": [
            {"name": "input-0", "datatype": "FP64", "shape": [2, 3], "data": [45.0, 2.0, 0.5, 10.0, 1.0, 3.0]}
        ],
        "outputs": [{"name": "predict_proba"}],
    }
    assert predictions == [
        Prediction("grant", {"deny": 0.2, "grant": 0.8}),
        Prediction("deny", {"deny": 0.7, "grant": 0.3}),
    ]


def test_labels_only_signature_asks_for_predict(server_url):
    labels_only = signature(NUMERIC_NAMES, ["number"] * 3, probabilities=False)
    with _remote(server_url, "predict-only", labels_only) as model:
        assert model.predict(ROWS) == [Prediction("grant"), Prediction("deny")]
    assert Handler.requests[-1]["outputs"] == [{"name": "predict"}]


def test_a_server_answering_only_predict_is_used(server_url):
    with _remote(server_url, "predict-only") as model:
        assert model.predict(ROWS) == [Prediction("grant"), Prediction("deny")]


@pytest.mark.parametrize(
    ("name", "cause"),
    [
        ("unknown", "HTTP 404: .*not found"),
        ("garbage", "malformed answer"),
        ("short", "has 1 values; expected shape \\[2, 2\\]"),
    ],
)
def test_bad_answers_are_model_failures_naming_the_url(server_url, name, cause):
    with _remote(server_url, name) as model, pytest.raises(ModelFailure, match=cause) as failure:
        model.predict(ROWS)
    assert f"{server_url}v2/models/{name}/infer" in str(failure.value)


def test_a_slow_server_times_out(server_url):
    with _remote(server_url, "slow", timeout_s=0.3) as model:
        started = time.monotonic()
        with pytest.raises(ModelFailure, match="timed out"):
            model.predict(ROWS)
    assert time.monotonic() - started < 1.5


def test_string_inputs_are_refused_at_load():
    with pytest.raises(InvalidInput, match="not numeric"):
        _remote("http://127.0.0.1:9", "any", MIXED_SIGNATURE)


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/", "127.0.0.1:8080", "http://"])
def test_urls_that_are_not_http_are_refused_at_load(url):
    with pytest.raises(InvalidInput, match="not an http:// or https:// URL"):
        _remote(url, "any")
