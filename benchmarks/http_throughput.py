"""HTTP throughput of `relevo serve` vs a minimal FastAPI app vs MLServer 1.7.1, same model, same run.

    python benchmarks/http_throughput.py [--seconds 20] [--rounds 3] [--connections 16] [--warmup 3]

Sets up the demo in a temporary home (licence-prefilter v1..v3), routes v1 (the
logistic-regression Pipeline) as stable in production, starts four servers and loads them one
at a time with `wrk -t1 -c16 -d<seconds>s --latency` (a Lua script sets the POST body):

1. relevo: `python -m relevo serve --port P` (RELEVO_HOME=<home>) answering
   `POST /v1/services/licence-prefilter/decisions`; every decision is committed to the decision
   log (SQLite in the home) before it is answered. Every request carries the citizen portal's
   bearer token (a `client` of the demo service), checked as in production: the first request
   pays argon2 and a store read, the next ones find the token remembered.
1b. relevo as `relevo serve` runs it (gateway, controller, the same app), with the token check
   replaced by a fixed caller, on its own copy of the store: relevo against it is what
   authentication costs a decision.
2. minimal: a FastAPI app written to a temporary file and served by uvicorn (one process, like
   relevo serve). It loads the same v1 skops artifact (`<home>/demo/v1/artifact/model.skops`,
   trusting exactly `skops.io.get_untrusted_types` of that file), accepts the same JSON body, and
   answers `predict_proba` on one row. No validation against the spec, no logging. Its endpoint is
   a plain `def` (FastAPI runs it in its thread pool, as relevo runs its gateway).
3. minimal, same fold: the same app, but it answers with relevo's fold of that Pipeline
   (relevo.loaders.fold, the fast path relevo's loader takes for it) instead of
   scikit-learn's predict_proba. relevo against this one is what relevo's validation, routing
   and durable logging cost on top of the very same model arithmetic; there is no goal for it.
4. MLServer 1.7.1 (`<repo>/.venv-mlserver`, built by scripts/mlserver-env, run if missing) with
   mlserver_sklearn serving the same fitted v1 Pipeline dumped with joblib. The V2 request carries
   the seven model inputs as one tensor each (BYTES for strings, FP64/BOOL/INT64 otherwise) with
   `content_type: pd`, so MLServer decodes a one-row DataFrame and calls `predict_proba` on the
   whole Pipeline. If MLServer does not answer that request with the right probabilities, the
   script says so and serves instead the Pipeline's final LogisticRegression alone, sent the row
   already one-hot-encoded and scaled as a numeric FP64 tensor (the preprocessing then runs in
   the benchmark, not in MLServer); the printed label says which variant ran.

Each server runs pinned to core 0 (`taskset -c 0`, inherited by MLServer's inference worker) and
wrk to core 1. Each server is polled until ready and warmed up with a --warmup-second wrk run.
Then come --rounds rounds; in each, every server is measured once, in an order that rotates from
round to round, and the servers not being measured are paused (SIGSTOP), so that nothing of
theirs runs on core 0 meanwhile. On a machine shared with other work, load that comes and goes
then hits every server alike; the ratios are of the servers' median requests/s over the rounds,
with the range of the per-round ratios beside them. Requests/s and p50/p99 come from wrk's own
output (`--latency` percentile table, which wrk computes from its HdrHistogram); "CPU ms/req" is
the CPU time of the server's processes (user + system, MLServer's workers included) per request
completed, which moves less than requests/s when other processes take turns on core 0. Any
socket error or non-2xx response is reported; for relevo the script fails if there was any, and
afterwards counts the rows in the decision log against the requests wrk completed and shows how
they were served (version / rules / manual).

Goals (the issues): relevo >= 80% of the minimal app's requests/s while logging durably, >= 2x
MLServer's, and with authentication >= 90% of itself without. Needs Linux with at least two cores, `wrk` (apt-get install wrk) and `taskset`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SERVICE = "licence-prefilter"
DECIDE_PATH = f"/v1/services/{SERVICE}/decisions"
MLSERVER_MODEL = "licence-prefilter-v1"
SERVER_CORE, LOAD_CORE = "0", "1"
STARTUP_TIMEOUT_S = 120

MINIMAL_APP = '''
"""Minimal FastAPI app: the v1 skops Pipeline, predict_proba on one row, no logging."""
import os
from typing import Any

import numpy as np
import skops.io
from fastapi import FastAPI
from pydantic import BaseModel

MODEL_PATH = os.environ["BENCH_MODEL_PATH"]
FIELDS = os.environ["BENCH_MODEL_INPUTS"].split(",")
model = skops.io.load(MODEL_PATH, trusted=skops.io.get_untrusted_types(file=MODEL_PATH))
classes = [str(c) for c in model.classes_]
folded = None
if os.environ.get("BENCH_FOLD") == "1":  # the same fast path as relevo's loader, nothing else of relevo's
    from relevo.loaders.fold import checked_fold

    folded = checked_fold(model, FIELDS, MODEL_PATH)
    assert folded is not None, "the v1 Pipeline did not fold"
app = FastAPI()


class DecisionRequest(BaseModel):
    case_id: str
    inputs: dict[str, Any]


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/v1/services/{service}/decisions")
def decide(service: str, body: DecisionRequest) -> dict[str, Any]:
    if folded is not None:
        proba = folded.probabilities(body.inputs)
    else:
        row = np.empty((1, len(FIELDS)), dtype=object)
        row[0, :] = [body.inputs[name] for name in FIELDS]
        proba = model.predict_proba(row)[0].tolist()
    best = int(np.argmax(proba))
    return {"decision": classes[best], "probabilities": dict(zip(classes, proba))}
'''

WRK_LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {token}"
wrk.body = [==[{body}]==]
"""
# Every request carries the portal's token (relevo needs it; the other servers ignore the header).
TOKEN = {"value": ""}

# relevo serve as `relevo serve` runs it, but with the token check replaced by a fixed caller:
# relevo against this one is what authentication costs a decision.
NO_AUTH_SERVER = '''
import gc, os
import uvicorn
from relevo.api import create_app
from relevo.api.auth import principal_of
from relevo.context import Context
from relevo.gateway import Gateway, load_key
from relevo.identity import Principal
from relevo.rollouts import Controller
from relevo.settings import Settings

settings = Settings()
context = Context.open(settings)
gateway = Gateway(context, "production", pseudonym_key=load_key(settings.pseudonym_key, settings.home)).start()
judge = Controller(context, 5.0).start()
gateway.after_batch = judge.nudge
app = create_app(settings, gateway)
FIXED = Principal("citizen-portal", "service", frozenset({("client", None)}), "none")


async def fixed_caller() -> Principal:
    return FIXED


app.dependency_overrides[principal_of] = fixed_caller
gc.collect()
gc.freeze()
uvicorn.run(app, host="127.0.0.1", port=int(os.environ["BENCH_PORT"]), log_level="warning", access_log=False)
'''


@dataclass
class Result:
    name: str
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int
    raw: str
    cpu_ms_per_request: float = 0.0


# -- processes ------------------------------------------------------------------------------------

def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def start(argv: list[str], log: Path, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.Popen:
    """Start a server on the server core, in its own session so stop() reaches its children too."""
    with log.open("wb") as out:
        return subprocess.Popen(["taskset", "-c", SERVER_CORE, *argv], stdout=out, stderr=subprocess.STDOUT,
                                env=env, cwd=cwd, start_new_session=True)


def stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass


def http(method: str, url: str, body: Any = None, timeout: float = 5) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={
        "Content-Type": "application/json", "Authorization": f"Bearer {TOKEN['value']}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def wait_ready(name: str, process: subprocess.Popen, urls: list[str], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"{name} exited with {process.returncode} before it was ready; its log:\n{log.read_text()}")
        try:
            if all(http("GET", url, timeout=1)[0] == 200 for url in urls):
                return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.25)
    sys.exit(f"{name} was not ready within {STARTUP_TIMEOUT_S}s; its log:\n{log.read_text()}")


# -- wrk --------------------------------------------------------------------------------------------

_UNITS_MS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * _UNITS_MS[unit]


def run_wrk(name: str, url: str, body: Any, seconds: int, connections: int, work: Path) -> Result:
    script = work / f"{re.sub(r'[^a-z0-9]+', '-', name.lower())}.lua"
    script.write_text(WRK_LUA.format(body=json.dumps(body, separators=(",", ":")), token=TOKEN["value"]))
    argv = ["taskset", "-c", LOAD_CORE, "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency",
            "--timeout", "10s", "-s", str(script), url]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return Result(name, requests, rps, p50, p99, int(non_2xx.group(1)) if non_2xx else 0,
                  sum(int(g) for g in errors.groups()) if errors else 0, out)


def group_cpu_seconds(process: subprocess.Popen) -> float:
    """User + system CPU seconds of every live process in the server's session (its process group)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        if int(fields[2]) == process.pid:  # the process group: start() made each server a session leader
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


@dataclass
class Server:
    name: str
    url: str
    body: Any
    process: subprocess.Popen
    runs: list[Result] = field(default_factory=list)
    warmup_requests: int = 0

    def pause(self) -> None:
        os.killpg(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.killpg(self.process.pid, signal.SIGCONT)

    def median(self, attribute: str) -> float:
        return statistics.median(getattr(run, attribute) for run in self.runs)


def measure_round(servers: list[Server], round_: int, args: argparse.Namespace, work: Path) -> None:
    """Each server once, the others paused; the order rotates with the round."""
    order = servers[round_ % len(servers):] + servers[:round_ % len(servers)]
    for server in order:
        server.resume()
        try:
            cpu = group_cpu_seconds(server.process)
            result = run_wrk(server.name, server.url, server.body, args.seconds, args.connections, work)
            result.cpu_ms_per_request = (group_cpu_seconds(server.process) - cpu) * 1000 / max(result.requests, 1)
        finally:
            server.pause()
        server.runs.append(result)
        print(f"  round {round_ + 1} {server.name}: {result.rps:,.0f} req/s, p50 {result.p50_ms:.2f} ms, "
              f"p99 {result.p99_ms:.2f} ms, CPU {result.cpu_ms_per_request:.2f} ms/req, "
              f"non-2xx {result.non_2xx}, socket errors {result.socket_errors}", flush=True)


# -- MLServer -------------------------------------------------------------------------------------

def mlserver_binary() -> Path:
    binary = REPO / ".venv-mlserver" / "bin" / "mlserver"
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        print("building .venv-mlserver with scripts/mlserver-env ...", flush=True)
        subprocess.run([str(REPO / "scripts" / "mlserver-env")], check=True,
                       env={**os.environ, "PYTHON": sys.executable})
    return binary


def v2_tensor(name: str, value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"name": name, "shape": [1, 1], "datatype": "BOOL", "data": [value]}
    if isinstance(value, int):
        return {"name": name, "shape": [1, 1], "datatype": "INT64", "data": [value]}
    if isinstance(value, float):
        return {"name": name, "shape": [1, 1], "datatype": "FP64", "data": [value]}
    return {"name": name, "shape": [1, 1], "datatype": "BYTES", "data": [str(value)],
            "parameters": {"content_type": "str"}}


def mlserver_bodies(pipeline: Any, inputs: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    """The V2 requests: the whole Pipeline on a DataFrame, or the classifier on the encoded row."""
    import numpy as np

    row = np.empty((1, len(fields)), dtype=object)
    row[0, :] = [inputs[name] for name in fields]
    encoded = pipeline[:-1].transform(row).astype(float)
    outputs = [{"name": "predict_proba"}]
    return {
        "pipeline": {"parameters": {"content_type": "pd"}, "inputs": [v2_tensor(n, inputs[n]) for n in fields],
                     "outputs": outputs},
        "classifier": {"inputs": [{"name": "x", "shape": list(encoded.shape), "datatype": "FP64",
                                   "data": encoded.ravel().tolist()}], "outputs": outputs},
        "expected": pipeline.predict_proba(row)[0].tolist(),
    }


def mlserver_answer_ok(status: int, answer: Any, expected: list[float]) -> bool:
    if status != 200 or not isinstance(answer, dict):
        return False
    try:
        got = answer["outputs"][0]["data"]
    except (KeyError, IndexError, TypeError):
        return False
    return len(got) == len(expected) and all(abs(a - b) < 1e-9 for a, b in zip(got, expected))


def start_mlserver(binary: Path, root: Path, estimator: Any) -> tuple[subprocess.Popen, str, Path]:
    import joblib

    if root.exists():
        shutil.rmtree(root)
    folder = root / MLSERVER_MODEL
    folder.mkdir(parents=True)
    joblib.dump(estimator, folder / "model.joblib")
    (folder / "model-settings.json").write_text(json.dumps({
        "name": MLSERVER_MODEL, "implementation": "mlserver_sklearn.SKLearnModel",
        "parameters": {"uri": "./model.joblib"},
    }))
    http_port, grpc_port, metrics_port = free_ports(3)
    (root / "settings.json").write_text(json.dumps({
        "host": "127.0.0.1", "http_port": http_port, "grpc_port": grpc_port, "metrics_port": metrics_port,
    }))
    log = root.parent / f"{root.name}.log"
    process = start([str(binary), "start", str(root)], log, cwd=root)
    url = f"http://127.0.0.1:{http_port}"
    # MLServer answers 400, not 503, while models are still loading.
    wait_ready("mlserver", process, [f"{url}/v2/health/ready", f"{url}/v2/models/{MLSERVER_MODEL}/ready"], log)
    return process, url, log


# -- the run ----------------------------------------------------------------------------------------

def decision_log_counts(home: Path) -> dict[str, int]:
    from sqlalchemy import func, select

    from relevo.context import Context
    from relevo.settings import Settings
    from relevo.store import connect
    from relevo.store.tables import decisions

    ctx = Context.open(Settings(home=home, actor="benchmark"))
    try:
        with connect(ctx.engine) as conn:
            rows = conn.execute(select(decisions.c.served_by, func.count()).group_by(decisions.c.served_by)).all()
        return {served_by: count for served_by, count in rows}
    finally:
        ctx.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20, help="one measured wrk run (default 20)")
    parser.add_argument("--rounds", type=int, default=3, help="measured runs per server, interleaved (default 3)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections, i.e. concurrency (default 16)")
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured wrk run of each server first (default 3 s)")
    args = parser.parse_args()
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} not found (Debian: apt-get install -y {'wrk' if tool == 'wrk' else 'util-linux'})")
    if (os.cpu_count() or 1) < 2:
        sys.exit("needs two cores: the servers run on core 0, wrk on core 1")

    import skops.io

    from relevo.demo.setup import set_up_answering_demo
    from relevo.demo.training import MODEL_INPUTS
    from relevo.settings import Settings

    work = Path(tempfile.mkdtemp(prefix="relevo-http-bench-"))
    home = work / "home"
    processes: list[subprocess.Popen] = []
    servers: list[Server] = []
    try:
        print(f"setting up the demo in {home} ...", flush=True)
        settings = Settings(home=home, actor="benchmark")
        set_up_answering_demo(settings)
        from relevo.context import Context
        from relevo.demo.people import PORTAL, meet_the_people, token_of

        with_people = Context.open(settings)
        meet_the_people(with_people)
        TOKEN["value"] = token_of(with_people, PORTAL, "the benchmark's load", hours=6)
        with_people.close()
        plain_home = work / "home-no-auth"  # its own copy of the store: no lock shared with relevo's
        shutil.copytree(home, plain_home)
        model_path = home / "demo" / "v1" / "artifact" / "model.skops"
        pipeline = skops.io.load(model_path, trusted=skops.io.get_untrusted_types(file=model_path))
        fields = list(MODEL_INPUTS)

        # 1. relevo serve
        port = free_ports(1)[0]
        log = work / "relevo.log"
        env = {**os.environ, "RELEVO_HOME": str(home)}
        relevo = start([sys.executable, "-m", "relevo", "serve", "--port", str(port)], log, env=env)
        processes.append(relevo)
        base = f"http://127.0.0.1:{port}"
        wait_ready("relevo serve", relevo, [f"{base}/readyz"], log)
        status, example = http("GET", f"{base}/v1/services/{SERVICE}/example")
        if status != 200:
            sys.exit(f"relevo example request: HTTP {status}: {example}")
        body = {"case_id": "bench-1", "inputs": example["inputs"]}
        status, answer = http("POST", base + DECIDE_PATH, body)
        if status != 200 or answer.get("served_by") != "version" or answer.get("version") != "v1":
            sys.exit(f"relevo did not answer with v1: HTTP {status}: {answer}")
        before = sum(decision_log_counts(home).values())
        print(f"request body: {json.dumps(body)}", flush=True)
        servers.append(Server("relevo", base + DECIDE_PATH, body, relevo))

        # 1b. the same, the token check replaced by a fixed caller (its own copy of the store)
        port = free_ports(1)[0]
        log = work / "relevo-no-auth.log"
        (work / "no_auth_server.py").write_text(NO_AUTH_SERVER)
        plain = start([sys.executable, str(work / "no_auth_server.py")], log,
                      env={**os.environ, "RELEVO_HOME": str(plain_home), "BENCH_PORT": str(port)})
        processes.append(plain)
        base = f"http://127.0.0.1:{port}"
        wait_ready("relevo without the token check", plain, [f"{base}/readyz"], log)
        status, answer = http("POST", base + DECIDE_PATH, body)
        if status != 200 or answer.get("version") != "v1":
            sys.exit(f"relevo without the token check did not answer with v1: HTTP {status}: {answer}")
        servers.append(Server("relevo, token check replaced by a fixed caller", base + DECIDE_PATH, body, plain))

        # 2. minimal FastAPI app, predict_proba; 3. the same with relevo's fold of the Pipeline
        app_dir = work / "minimal"
        app_dir.mkdir()
        (app_dir / "minimal_app.py").write_text(textwrap.dedent(MINIMAL_APP))
        for name, fold in (("minimal FastAPI", "0"), ("minimal FastAPI (same fold as relevo)", "1")):
            port = free_ports(1)[0]
            log = work / f"minimal-{fold}.log"
            env = {**os.environ, "BENCH_MODEL_PATH": str(model_path), "BENCH_MODEL_INPUTS": ",".join(fields),
                   "BENCH_FOLD": fold}
            minimal = start([sys.executable, "-m", "uvicorn", "minimal_app:app", "--app-dir", str(app_dir),
                             "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
                             "--no-access-log"], log, env=env)
            processes.append(minimal)
            base = f"http://127.0.0.1:{port}"
            wait_ready(name, minimal, [f"{base}/healthz"], log)
            status, answer = http("POST", base + DECIDE_PATH, body)
            if status != 200:
                sys.exit(f"{name}: HTTP {status}: {answer}")
            servers.append(Server(name, base + DECIDE_PATH, body, minimal))

        # 4. MLServer
        binary = mlserver_binary()
        bodies = mlserver_bodies(pipeline, example["inputs"], fields)
        mlserver, base, log = start_mlserver(binary, work / "mlserver-pipeline", pipeline)
        processes.append(mlserver)
        infer = f"{base}/v2/models/{MLSERVER_MODEL}/infer"
        status, answer = http("POST", infer, bodies["pipeline"])
        if mlserver_answer_ok(status, answer, bodies["expected"]):
            variant, ml_body = "MLServer (same Pipeline, pd codec)", bodies["pipeline"]
        else:
            print(f"MLServer did not answer the whole-Pipeline request correctly (HTTP {status}: "
                  f"{str(answer)[:300]}); serving the numeric-only classifier instead", flush=True)
            stop(mlserver)
            mlserver, base, log = start_mlserver(binary, work / "mlserver-classifier", pipeline[-1])
            processes.append(mlserver)
            infer = f"{base}/v2/models/{MLSERVER_MODEL}/infer"
            status, answer = http("POST", infer, bodies["classifier"])
            if not mlserver_answer_ok(status, answer, bodies["expected"]):
                sys.exit(f"MLServer numeric classifier: HTTP {status}: {answer}")
            variant, ml_body = "MLServer (classifier only, pre-encoded FP64 row)", bodies["classifier"]
        servers.append(Server(variant, infer, ml_body, mlserver))

        print(f"loading (wrk -t1 -c{args.connections} -d{args.seconds}s --latency; {args.rounds} rounds after a "
              f"{args.warmup}s warm-up of each):", flush=True)
        for server in servers:
            server.pause()
        for server in servers:
            if args.warmup > 0:
                server.resume()
                try:
                    server.warmup_requests = run_wrk(server.name + "-warmup", server.url, server.body, args.warmup,
                                                     args.connections, work).requests
                finally:
                    server.pause()
        for round_ in range(args.rounds):
            measure_round(servers, round_, args, work)
        for server in servers:
            server.resume()
        stop(relevo)
        logged = decision_log_counts(home)
    finally:
        for process in processes:
            try:
                os.killpg(process.pid, signal.SIGCONT)  # a paused server cannot stop
            except ProcessLookupError:
                pass
            stop(process)

    try:
        r, n, m, f, s = servers
        print()
        print(f"{'server (median of ' + str(args.rounds) + ' runs)':<52}{'requests/s':>12}{'range':>12}{'p50 ms':>9}"
              f"{'p99 ms':>9}{'CPU ms/req':>12}{'non-2xx':>9}{'sock err':>10}")
        for x in servers:
            rps = [run.rps for run in x.runs]
            print(f"{x.name:<52}{x.median('rps'):>12,.0f}{f'{min(rps):,.0f}-{max(rps):,.0f}':>12}"
                  f"{x.median('p50_ms'):>9.2f}{x.median('p99_ms'):>9.2f}{x.median('cpu_ms_per_request'):>12.2f}"
                  f"{sum(run.non_2xx for run in x.runs):>9}{sum(run.socket_errors for run in x.runs):>10}")
        print()
        for other, goal in ((m, 0.8), (s, 2.0), (f, None), (n, 0.9)):
            ratio = r.median("rps") / other.median("rps")
            per_round = [a.rps / b.rps for a, b in zip(r.runs, other.runs)]
            verdict = ("no goal: what validation, routing and the durable log cost on top of the same model call"
                       if goal is None else f"goal >= {goal:.2f}: {'met' if ratio >= goal else 'NOT met'}")
            print(f"relevo / {other.name:<38}: {ratio:.3f}  (per round {min(per_round):.3f}-"
                  f"{max(per_round):.3f}; {verdict})")
        total = sum(logged.values()) - before
        completed = r.warmup_requests + sum(run.requests for run in r.runs)
        print(f"relevo decision log: {total} rows written during warm-up + runs; whole log by served_by {logged} "
              f"(wrk completed {completed}; requests still in flight when wrk stops are logged too)")
        failures = sum(run.non_2xx + run.socket_errors for run in r.runs)
        if failures:
            sys.exit(f"relevo: {failures} non-2xx responses or socket errors")
        print("relevo: every response was 2xx (wrk reported no non-2xx responses and no socket errors)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
