"""Rollback propagation: from the rollback verdict to 100% stable in two gateway processes.

    python benchmarks/rollback_propagation.py [--repeat 5] [--database-url URL]

Two `relevo serve` processes share one store (SQLite under a temporary home by default, or the
given PostgreSQL URL). A 50% canary of v3 is started; then the rollback is written the way the
controller writes it (one transaction: route back to stable, incident, audit) and each process's
`/v1/services` is polled until it reports the new route revision in mode `stable`. The time
printed is from the rollback's commit to the slower process applying it. The baseline is the
gateways' poll interval (0.25 s): the best a polling design can do on average is half of it.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from relevo.context import Context
from relevo.demo import SERVICE_NAME
from relevo.demo.setup import set_up_answering_demo
from relevo.rollouts import lifecycle
from relevo.routing.table import set_route
from relevo.settings import Settings

POLL_INTERVAL = 0.25


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    """A `relevo serve` process and its URL, once it answers."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "relevo", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"relevo serve exited: {proc.stderr.read()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("relevo serve did not start within 60 s")


def route_of(url: str) -> dict:
    """The route a gateway process currently applies to the demo service."""
    services = httpx.get(f"{url}/v1/services", timeout=5).json()["services"]
    return next(s for s in services if s["name"] == SERVICE_NAME)["route"]


def measure(ctx: Context, urls: list[str]) -> float:
    """Seconds from a rollback's commit until every process applies it."""
    rollout = lifecycle.start_rollout(ctx, SERVICE_NAME, "v3", plan="canary-only")
    lifecycle.transition(ctx, rollout.id, "pause")  # nobody else moves it while we wait
    set_route(ctx, SERVICE_NAME, "production", mode="canary", weight=50)
    deadline = time.monotonic() + 10
    while any(route_of(u)["mode"] != "canary" for u in urls):
        assert time.monotonic() < deadline, "gateways did not apply the canary"
        time.sleep(0.02)
    rolled = lifecycle.rollback(ctx, rollout.id, "propagation benchmark", automatic=True)
    committed = time.monotonic()
    from relevo.routing.table import get_route

    revision = get_route(ctx, SERVICE_NAME, "production").revision
    pending = set(urls)
    while pending:
        for url in list(pending):
            route = route_of(url)
            if route["mode"] == "stable" and route["revision"] >= revision:
                pending.discard(url)
        assert time.monotonic() - committed < 10, "gateways did not apply the rollback within 10 s"
        time.sleep(0.005)
    elapsed = time.monotonic() - committed
    from relevo.rollouts.incidents import document_incident

    document_incident(ctx, rolled.incident_id, cause="benchmark rollback, not a fault",
                      remediation="none needed; benchmark only")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="relevo-propagation-"))
    settings = Settings(home=home, database_url=args.database_url, actor="benchmark")
    set_up_answering_demo(settings)
    ctx = Context.open(settings)
    env = dict(os.environ, RELEVO_HOME=str(home), RELEVO_ACTOR="benchmark")
    if args.database_url:
        env["RELEVO_DATABASE_URL"] = args.database_url
    servers = [start_server(env) for _ in range(2)]
    try:
        times = []
        for run in range(args.repeat):
            elapsed = measure(ctx, [url for _, url in servers])
            times.append(elapsed)
            print(f"run {run + 1}: rollback applied by both gateway processes in {elapsed * 1000:.0f} ms")
        print(f"median {statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms over {args.repeat} "
              f"runs; poll interval {POLL_INTERVAL * 1000:.0f} ms; ratio median / poll interval "
              f"{statistics.median(times) / POLL_INTERVAL:.2f}; goal <= 1000 ms: "
              f"{'met' if max(times) <= 1.0 else 'NOT met'}")
    finally:
        for proc, _ in servers:
            proc.terminate()
            proc.wait(timeout=20)
        ctx.close()


if __name__ == "__main__":
    main()
