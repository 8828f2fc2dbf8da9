"""Decisions with 1, 2 and 3 `relevo serve` replicas on one PostgreSQL, and a rollback's propagation to all three.

    python benchmarks/replicas.py [--seconds 15] [--rounds 3] [--connections 12] [--database-url URL]

Sets up the demo (licence-prefilter, v1 stable in production) in a fresh schema of the PostgreSQL
database (default postgresql+psycopg://postgres@127.0.0.1:5432/test, the schema dropped at the
end) and a temporary home, with the demo's people (the citizen portal's token for the load).
Starts three `relevo serve` processes on 127.0.0.1, each as in production (gateway, controller,
monitors' schedule; the settings' defaults).

Throughput. The load generator is the same for every count of replicas: --connections keep-alive
connections (http.client, one thread each, spread over 3 client processes), each posting the
demo's applications one after another (a new case id each); connection i goes to replica
i mod n, so the load balancer is round robin. In each of --rounds rounds every configuration
(1, 2, 3 replicas; the order rotates) is measured once for --seconds after a 3 s warm-up, the
replicas not in it paused (SIGSTOP), as benchmarks/http_throughput.py does. decisions/s counts
the answers the clients got (HTTP 200) in the window; "per CPU-second" divides them by the CPU
time (user + system, /proc/PID/stat) the running replicas spent in the same window: the clients'
own CPU is not in it. On this project's 2-core machine more replicas cannot add cores, so
scaling shows as the cost of a decision. Goal (issue 17): 3 replicas' decisions per CPU-second
>= 0.8 of one replica's.

Rollback propagation. All three running, --repeat times: v2 is started as a 5% canary
(canary-only plan; its checklist closed as the demo's people would, the rehearsal's waivers),
every replica is polled until it routes the canary; then the rollback is committed (as an
operator's `relevo rollout rollback`) and each replica's `GET /v1/services` is polled every
few milliseconds until it reports the route's new revision in mode stable. The time printed is
from the commit to the last replica applying it; baseline: the gateways' 0.25 s poll interval.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from scratch_schema import scratch_schema

SERVICE = "licence-prefilter"
DECIDE = f"/v1/services/{SERVICE}/decisions"
CLIENT_PROCESSES = 3
WARMUP_S = 3.0
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Replica:
    process: subprocess.Popen
    port: int
    log: Path
    paused: bool = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def pause(self) -> None:
        if not self.paused:
            os.kill(self.process.pid, signal.SIGSTOP)
            self.paused = True

    def resume(self) -> None:
        if self.paused:
            os.kill(self.process.pid, signal.SIGCONT)
            self.paused = False


def start_replica(env: dict[str, str], work: Path, n: int) -> Replica:
    port = free_port()
    log = work / f"replica-{n}.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "relevo", "serve", "--port", str(port)], env=env,
                                   stdout=out, stderr=subprocess.STDOUT)
    return Replica(process, port, log)


def wait_ready(replicas: list[Replica], timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    for replica in replicas:
        while True:
            if replica.process.poll() is not None:
                sys.exit(f"relevo serve exited: {replica.log.read_text()}")
            try:
                if httpx.get(f"{replica.url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                sys.exit(f"relevo serve was not ready within {timeout:.0f} s: {replica.log.read_text()}")
            time.sleep(0.2)


# -- the load ------------------------------------------------------------------------------------

def client_process(ports: list[int], connections: list[int], token: str, bodies: list[bytes],
                   counts: Any, errors: Any, targets: Any, stop: Any) -> None:
    """One client process: a thread per connection, each posting decisions to the replica that
    targets[connection] names (its port's index), one after another, counting answers."""
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}

    def run(connection: int) -> None:
        conn: http.client.HTTPConnection | None = None
        port = -1
        k = 0
        while not stop.is_set():
            wanted = ports[targets[connection]]
            if wanted != port or conn is None:
                if conn is not None:
                    conn.close()
                port, conn = wanted, http.client.HTTPConnection("127.0.0.1", wanted, timeout=30)
            k += 1
            try:
                conn.request("POST", DECIDE, body=bodies[(connection * 7919 + k) % len(bodies)], headers=headers)
                response = conn.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                errors[connection] += 1
                conn.close()
                conn = None
                time.sleep(0.05)
                continue
            if response.status == 200:
                counts[connection] += 1
            else:
                errors[connection] += 1

    threads = [threading.Thread(target=run, args=(c,), daemon=True) for c in connections]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@dataclass
class Load:
    """The fixed client load: connections keep-alive connections in CLIENT_PROCESSES processes."""

    ports: list[int]
    connections: int
    token: str
    bodies: list[bytes]
    ctx: Any = field(default_factory=lambda: multiprocessing.get_context("spawn"))

    def __post_init__(self) -> None:
        self.counts = self.ctx.Array("q", self.connections, lock=False)
        self.errors = self.ctx.Array("q", self.connections, lock=False)
        self.targets = self.ctx.Array("i", self.connections, lock=False)
        self.stop = self.ctx.Event()
        self.processes = []

    def aim(self, replicas: int) -> None:
        """Round robin over the first `replicas` replicas."""
        for c in range(self.connections):
            self.targets[c] = c % replicas

    def start(self) -> None:
        for p in range(CLIENT_PROCESSES):
            mine = list(range(p, self.connections, CLIENT_PROCESSES))
            process = self.ctx.Process(target=client_process, args=(
                self.ports, mine, self.token, self.bodies, self.counts, self.errors, self.targets, self.stop),
                daemon=True)
            process.start()
            self.processes.append(process)

    def answered(self) -> int:
        return sum(self.counts)

    def failed(self) -> int:
        return sum(self.errors)

    def close(self) -> None:
        self.stop.set()
        for process in self.processes:
            process.join(timeout=40)
            if process.is_alive():
                process.kill()


@dataclass
class Run:
    replicas: int
    decisions: int
    seconds: float
    cpu: float
    failed: int

    @property
    def rate(self) -> float:
        return self.decisions / self.seconds

    @property
    def per_cpu(self) -> float:
        return self.decisions / self.cpu


def measure(replicas: list[Replica], n: int, load: Load, seconds: float) -> Run:
    """The first n replicas under the load for seconds, the others paused once their requests were answered."""
    for replica in replicas[:n]:
        replica.resume()
    load.aim(n)
    time.sleep(0.5)  # requests in flight to the others are answered before those pause
    for replica in replicas[n:]:
        replica.pause()
    time.sleep(WARMUP_S)
    active = replicas[:n]
    cpu0, done0, failed0 = sum(r.cpu_seconds() for r in active), load.answered(), load.failed()
    t0 = time.monotonic()
    time.sleep(seconds)
    cpu1, done1, failed1 = sum(r.cpu_seconds() for r in active), load.answered(), load.failed()
    return Run(n, done1 - done0, time.monotonic() - t0, cpu1 - cpu0, failed1 - failed0)


# -- rollback propagation ---------------------------------------------------------------------------

def route_of(url: str, token: str) -> dict:
    services = httpx.get(f"{url}/v1/services", headers={"Authorization": f"Bearer {token}"}, timeout=5).json()
    return next(s for s in services["services"] if s["name"] == SERVICE)["route"]


def propagation(ctx, replicas: list[Replica], token: str) -> float:
    """Seconds from a rollback's commit to the last replica applying it."""
    from relevo.demo.people import PUBLISHER, as_person
    from relevo.rollouts import lifecycle
    from relevo.rollouts.incidents import document_incident
    from relevo.routing.table import get_route

    publisher = as_person(ctx, PUBLISHER)
    rollout = lifecycle.start_rollout(publisher, SERVICE, "v2", plan="canary-only")
    deadline = time.monotonic() + 30
    while any(route_of(r.url, token)["mode"] != "canary" for r in replicas):
        if time.monotonic() > deadline:
            sys.exit("the replicas did not route the canary within 30 s")
        time.sleep(0.02)
    rolled = lifecycle.rollback(publisher, rollout.id, "propagation benchmark")
    committed = time.monotonic()
    revision = get_route(ctx, SERVICE, "production").revision
    pending = {r.url for r in replicas}
    while pending:
        for url in list(pending):
            route = route_of(url, token)
            if route["mode"] == "stable" and route["revision"] >= revision:
                pending.discard(url)
        if time.monotonic() - committed > 10:
            sys.exit("the replicas did not apply the rollback within 10 s")
        time.sleep(0.005)
    elapsed = time.monotonic() - committed
    document_incident(publisher, rolled.incident_id, cause="benchmark rollback, not a fault",
                      remediation="none needed; benchmark only")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15, help="one measured window (default 15)")
    parser.add_argument("--rounds", type=int, default=3, help="measurements of each configuration (default 3)")
    parser.add_argument("--connections", type=int, default=12, help="client connections, i.e. concurrency (default 12)")
    parser.add_argument("--repeat", type=int, default=5, help="rollbacks measured (default 5)")
    parser.add_argument("--database-url", default=POSTGRES, help=f"a PostgreSQL database (default {POSTGRES})")
    args = parser.parse_args()

    from relevo.context import Context
    from relevo.demo.applications import generate
    from relevo.demo.governance import prepare_release
    from relevo.demo.people import PORTAL, PUBLISHER, meet_the_people, token_of
    from relevo.demo.scenario import REHEARSAL_WAIVERS
    from relevo.demo.setup import set_up_answering_demo
    from relevo.demo.traffic import REQUEST_FIELDS
    from relevo.settings import Settings

    with scratch_schema(args.database_url) as url:
        work = Path(tempfile.mkdtemp(prefix="relevo-replicas-bench-"))
        replicas: list[Replica] = []
        load: Load | None = None
        try:
            print("setting up the demo in a scratch schema ...", flush=True)
            settings = Settings(home=work / "home", database_url=url, actor="benchmark")
            set_up_answering_demo(settings)
            ctx = Context.open(settings)
            meet_the_people(ctx)
            portal = token_of(ctx, PORTAL, "the benchmark's load", hours=6)
            reader = token_of(ctx, PUBLISHER, "the benchmark's route polls", hours=6)
            prepare_release(ctx, "v2", "canary-only", REHEARSAL_WAIVERS)
            env = dict(os.environ, RELEVO_HOME=str(settings.home), RELEVO_DATABASE_URL=url,
                       RELEVO_PSEUDONYM_KEY="ab" * 32)
            env.pop("RELEVO_URL", None)
            replicas = [start_replica(env, work, n) for n in range(3)]
            wait_ready(replicas)
            bodies = [json.dumps({"case_id": f"bench-{i}", "inputs": {k: row[k] for k in REQUEST_FIELDS}}).encode()
                      for i, row in enumerate(generate(2000, seed=3))]
            load = Load([r.port for r in replicas], args.connections, portal, bodies)
            load.aim(1)
            load.start()
            print(f"load: {args.connections} keep-alive connections in {CLIENT_PROCESSES} client processes, round robin; "
                  f"{args.rounds} rounds of {args.seconds:g} s per configuration after {WARMUP_S:g} s of warm-up",
                  flush=True)
            runs: dict[int, list[Run]] = {1: [], 2: [], 3: []}
            for round_ in range(args.rounds):
                order = [1, 2, 3][round_ % 3:] + [1, 2, 3][:round_ % 3]
                for n in order:
                    run = measure(replicas, n, load, args.seconds)
                    runs[n].append(run)
                    print(f"  round {round_ + 1}, {n} replica{'s' if n > 1 else ' '}: {run.rate:7.1f} decisions/s, "
                          f"{run.per_cpu:7.1f} per CPU-second ({run.cpu / run.seconds:.2f} cores), failed {run.failed}",
                          flush=True)
            for replica in replicas:
                replica.resume()
            load.close()
            load = None

            print()
            print(f"{'replicas (median of ' + str(args.rounds) + ')':<24}{'decisions/s':>13}{'per CPU-second':>16}"
                  f"{'cores used':>12}")
            for n, measured in runs.items():
                print(f"{n:<24}{statistics.median(r.rate for r in measured):>13.1f}"
                      f"{statistics.median(r.per_cpu for r in measured):>16.1f}"
                      f"{statistics.median(r.cpu / r.seconds for r in measured):>12.2f}")
            one = statistics.median(r.per_cpu for r in runs[1])
            for n in (2, 3):
                ratio = statistics.median(r.per_cpu for r in runs[n]) / one
                per_round = [a.per_cpu / b.per_cpu for a, b in zip(runs[n], runs[1])]
                goal = f"; goal >= 0.80: {'met' if ratio >= 0.8 else 'NOT met'}" if n == 3 else ""
                print(f"decisions per CPU-second, {n} replicas / 1: {ratio:.3f} (per round {min(per_round):.3f}-"
                      f"{max(per_round):.3f}){goal}")
            failed = sum(r.failed for measured in runs.values() for r in measured)
            print(f"failed requests in the measured windows: {failed}")

            times = []
            for i in range(args.repeat):
                elapsed = propagation(ctx, replicas, reader)
                times.append(elapsed)
                print(f"rollback {i + 1}: applied by all 3 replicas {elapsed * 1000:.0f} ms after its commit", flush=True)
            print(f"rollback propagation to 3 replicas: median {statistics.median(times) * 1000:.0f} ms, max "
                  f"{max(times) * 1000:.0f} ms over {args.repeat}; poll interval 250 ms")
            ctx.close()
        finally:
            if load is not None:
                load.close()
            for replica in replicas:
                replica.resume()
                replica.process.terminate()
            for replica in replicas:
                try:
                    replica.process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    replica.process.kill()
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
