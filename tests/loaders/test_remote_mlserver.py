"""The remote loader against a real MLServer 1.7.1 (built by scripts/mlserver-env)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import joblib
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from relevo.loaders import ModelFailure, load_model
from tests.loaders.loader_testkit import (
    LABELS,
    NUMERIC_NAMES,
    NUMERIC_SIGNATURE,
    numeric_data,
    rows,
    signature,
    spec,
)

pytestmark = pytest.mark.mlserver

REPO = Path(__file__).resolve().parents[2]
MODEL_NAME = "relevo-lr"
STARTUP_TIMEOUT_S = 90


def _binary() -> Path:
    configured = os.environ.get("RELEVO_MLSERVER")
    binary = Path(configured) if configured else REPO / ".venv-mlserver" / "bin" / "mlserver"
    if binary.is_file() and os.access(binary, os.X_OK):
        return binary
    reason = f"no mlserver at {binary}: run scripts/mlserver-env (or set RELEVO_MLSERVER to an mlserver)"
    if os.environ.get("RELEVO_REQUIRE_MLSERVER") == "1":
        pytest.fail(f"RELEVO_REQUIRE_MLSERVER=1 but {reason}")
    pytest.skip(reason)


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _wait_ready(process: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            code = process.returncode
            pytest.fail(f"mlserver exited with {code} before it was ready; its log:\n{log.read_text()}")
        try:
            # MLServer answers 400, not 503, while models are still loading.
            if httpx.get(f"{url}/v2/health/ready", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    pytest.fail(f"mlserver was not ready within {STARTUP_TIMEOUT_S}s; its log:\n{log.read_text()}")


@pytest.fixture(scope="module")
def estimator() -> LogisticRegression:
    x, y = numeric_data(n=300, seed=21)
    return LogisticRegression().fit(x, y)


@pytest.fixture(scope="module")
def mlserver_url(tmp_path_factory, estimator):
    binary = _binary()
    root = tmp_path_factory.mktemp("mlserver")
    folder = root / MODEL_NAME
    folder.mkdir()
    joblib.dump(estimator, folder / "model.joblib")
    (folder / "model-settings.json").write_text(json.dumps({
        "name": MODEL_NAME,
        "implementation": "mlserver_sklearn.SKLearnModel",
        "parameters": {"uri": "./model.joblib"},
    }))
    http_port, grpc_port, metrics_port = _free_ports(3)
    (root / "settings.json").write_text(json.dumps({
        "host": "127.0.0.1", "http_port": http_port, "grpc_port": grpc_port, "metrics_port": metrics_port,
    }))
    log = root / "mlserver.log"
    with log.open("wb") as out:
        # Its own session, so teardown can stop the inference worker processes it forks too.
        process = subprocess.Popen(
            [str(binary), "start", str(root)],
            cwd=root,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{http_port}"
    try:
        _wait_ready(process, url, log)
        yield url
    finally:
        _stop(process)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def test_mlserver_answers_like_the_local_estimator(mlserver_url, estimator):
    x, _ = numeric_data(n=200, seed=22)
    remote = spec("remote", url=mlserver_url, model_name=MODEL_NAME)
    with load_model(REPO, remote, NUMERIC_SIGNATURE) as model:
        predictions = model.predict(rows(x, NUMERIC_NAMES))
    assert [p.decision for p in predictions] == estimator.predict(x).tolist()
    assert list(estimator.classes_) == LABELS  # the column order the signature promises
    got = np.array([[p.probabilities[label] for label in LABELS] for p in predictions])
    np.testing.assert_allclose(got, estimator.predict_proba(x), rtol=0, atol=1e-9)


def test_mlserver_labels_only(mlserver_url, estimator):
    x, _ = numeric_data(n=20, seed=23)
    labels_only = signature(NUMERIC_NAMES, ["number", "integer", "number"], probabilities=False)
    with load_model(REPO, spec("remote", url=mlserver_url, model_name=MODEL_NAME), labels_only) as model:
        predictions = model.predict(rows(x, NUMERIC_NAMES))
    expected = [(label, None) for label in estimator.predict(x)]
    assert [(p.decision, p.probabilities) for p in predictions] == expected


def test_a_wrong_model_name_is_a_model_failure(mlserver_url):
    wrong_name = spec("remote", url=mlserver_url, model_name="no-such-model")
    with load_model(REPO, wrong_name, NUMERIC_SIGNATURE) as model:
        with pytest.raises(ModelFailure, match="no-such-model.*HTTP 404"):
            model.predict(rows(numeric_data(n=2)[0], NUMERIC_NAMES))


def test_an_unreachable_server_fails_within_the_timeout():
    (closed_port,) = _free_ports(1)
    url = f"http://127.0.0.1:{closed_port}"
    unreachable = spec("remote", url=url, model_name=MODEL_NAME, timeout_s=1.0)
    with load_model(REPO, unreachable, NUMERIC_SIGNATURE) as model:
        started = time.monotonic()
        with pytest.raises(ModelFailure, match=f"remote model at {url}/v2/models/{MODEL_NAME}/infer"):
            model.predict(rows(numeric_data(n=2)[0], NUMERIC_NAMES))
    assert time.monotonic() - started < 1.5
