"""Several `relevo serve` processes on one PostgreSQL database, as real processes on 127.0.0.1: three
replicas under load with the rollout controller's leader killed mid-rollout (replaced within the
lease and a tick, resuming from the store), a rollback reaching every replica, a replica killed
mid-load losing nothing it acknowledged; and `relevo serve --workers 2`."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy import select
from typer.testing import CliRunner

from relevo.audit import read_events
from relevo.cli.main import app
from relevo.context import Context
from relevo.demo import SERVICE_NAME, spec_resource
from relevo.demo import applications as apps
from relevo.demo.traffic import REQUEST_FIELDS
from relevo.services import parse_spec
from relevo.services.catalogue import apply_spec
from relevo.settings import Settings
from relevo.store import connect
from relevo.store.tables import controller_leases, decisions, rollout_verdicts, rollouts
from tests.api.conftest import bearer, free_port, token_for
from tests.conftest import start_cleared

LEASE_S = 2.0  # RELEVO_CONTROLLER_LEASE for the replicas: a killed leader is replaced within it and a tick
TICK_S = 0.5  # --controller-interval
STEP_S = 8  # the canary step: the leader is killed within it, and its successor ends it
PROPAGATION_S = 1.0  # a rollback reaches every replica within this (LISTEN/NOTIFY, else the 0.25 s poll)


def declare_demo(ctx: Context, plan: list[dict] | None = None) -> None:
    """The demo service's spec, with a plan `replicas` when given."""
    body = yaml.safe_load(spec_resource().read_text(encoding="utf-8"))
    if plan is not None:
        body["rollout"]["plans"]["replicas"] = plan
    apply_spec(ctx, parse_spec(body, "the demo spec"))


@dataclass
class Replica:
    """One `relevo serve` process."""

    process: subprocess.Popen
    url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def serve(settings: Settings, log: Path, *options: str) -> Replica:
    """Start `relevo serve` on a free port (output to log)."""
    port = free_port()
    env = dict(os.environ, RELEVO_HOME=str(settings.home), RELEVO_DATABASE_URL=str(settings.database_url),
               RELEVO_CONTROLLER_LEASE=f"{LEASE_S:g}s", RELEVO_PSEUDONYM_KEY="ab" * 32)
    env.pop("RELEVO_URL", None)
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "relevo", "serve", "--port", str(port),
                                    "--controller-interval", str(TICK_S), *options],
                                   env=env, stdout=out, stderr=subprocess.STDOUT)
    return Replica(process, f"http://127.0.0.1:{port}", log)


def wait_ready(replicas: list[Replica], timeout: float = 120, path: str = "/readyz") -> None:
    deadline = time.monotonic() + timeout
    for replica in replicas:
        while True:
            assert replica.process.poll() is None, f"relevo serve exited early:\n{replica.output()}"
            try:
                if httpx.get(f"{replica.url}{path}", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"relevo serve not ready within {timeout} s:\n{replica.output()}"
            time.sleep(0.1)


def stop(replica: Replica) -> str:
    """SIGTERM, and the process's output once it exited (it must exit 0 within 30 s)."""
    replica.process.send_signal(signal.SIGTERM)
    try:
        replica.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        replica.process.kill()
        replica.process.wait()
        raise AssertionError(f"relevo serve did not stop on SIGTERM:\n{replica.output()}") from None
    out = replica.output()
    assert replica.process.returncode == 0, out
    return out


@dataclass
class Answer:
    replica: int
    sent: datetime
    decision_id: str
    reference: str
    version: str | None


@dataclass
class Load:
    """Client threads deciding cases round robin over the replicas not marked dead, each answer kept."""

    replicas: list[Replica]
    token: str
    threads: int = 4
    pause: float = 0.02  # between a thread's requests: load, not a flood, so the judge's pace stays short
    answers: list[Answer] = field(default_factory=list)
    failures: list[tuple[int, str]] = field(default_factory=list)
    dead: set[int] = field(default_factory=set)
    _stop: threading.Event = field(default_factory=threading.Event)
    _workers: list[threading.Thread] = field(default_factory=list)

    def start(self) -> "Load":
        rows = apps.generate(500, seed=17)
        counter = itertools.count()
        for n in range(self.threads):
            thread = threading.Thread(target=self._run, args=(n, rows, counter), daemon=True)
            thread.start()
            self._workers.append(thread)
        return self

    def _run(self, n: int, rows: list[dict], counter: itertools.count) -> None:
        clients = [httpx.Client(base_url=r.url, timeout=10, headers=bearer(self.token)) for r in self.replicas]
        try:
            for k in itertools.count(n):
                if self._stop.is_set():
                    return
                target = k % len(clients)
                if target in self.dead:
                    continue
                i = next(counter)
                row = rows[i % len(rows)]
                sent = datetime.now(timezone.utc)
                try:
                    response = clients[target].post(f"/v1/services/{SERVICE_NAME}/decisions", json={
                        "case_id": f"case-{i}", "inputs": {name: row[name] for name in REQUEST_FIELDS}})
                except httpx.TransportError as exc:
                    self.failures.append((target, repr(exc)))
                    continue
                if response.status_code != 200:
                    self.failures.append((target, f"{response.status_code} {response.text}"))
                    continue
                answer = response.json()
                self.answers.append(Answer(target, sent, answer["decision_id"], answer["reference"], answer["version"]))
                time.sleep(self.pause)
        finally:
            for client in clients:
                client.close()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._workers:
            thread.join(timeout=30)

    def count(self, replica: int) -> int:
        return sum(1 for a in self.answers if a.replica == replica)


def lease_holder(ctx: Context, name: str = "rollouts") -> tuple[int, str, datetime] | None:
    """(pid, holder, acquired_at) of a lease (the rollout controller's by default), or None."""
    with connect(ctx.engine) as conn:
        row = conn.execute(select(controller_leases).where(controller_leases.c.name == name)).first()
    return None if row is None else (int(row.holder.split(":")[1]), row.holder, row.acquired_at)


def wait_for(what: str, check, timeout: float, explain=lambda: ""):
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s {explain()}"
        time.sleep(0.05)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.postgres
def test_three_replicas_survive_a_killed_leader_and_a_killed_replica(demo, demo_settings: Settings, tmp_path: Path):
    declare_demo(demo, [{"kind": "canary", "weight": 50, "duration": f"{STEP_S}s"}, {"kind": "promote"}])
    ctx = demo.acting_as("test-admin", frozenset({("admin", None)}))
    client_token = token_for(ctx, "portal", "client")
    operator = token_for(ctx, "olga", "operator")
    replicas = [serve(demo_settings, tmp_path / f"replica-{n}.log") for n in range(3)]
    load = None
    try:
        wait_ready(replicas)
        pids = [r.process.pid for r in replicas]
        load = Load(replicas, client_token).start()
        rollout = start_cleared(ctx, SERVICE_NAME, "v2", plan="replicas")
        with connect(ctx.engine) as conn:
            started_at = conn.execute(select(rollouts.c.step_started_at).where(rollouts.c.id == rollout.id)).scalar_one()

        def verdicts() -> list:
            with connect(ctx.engine) as conn:
                return list(conn.execute(select(rollout_verdicts).where(rollout_verdicts.c.rollout_id == rollout.id)
                                         .order_by(rollout_verdicts.c.id)))

        # (a) The leader judged the step, every replica answers some cases with the candidate; the
        # leader is killed (no release) mid-rollout, under load.
        wait_for("a first verdict of the canary step", verdicts, 10)
        wait_for("the candidate answering on every replica", lambda: all(
            any(a.replica == n and a.version == "v2" for a in list(load.answers)) for n in range(3)), 30,
            lambda: f"({len(load.answers)} answers; failures: {load.failures[:2]})")
        leader_pid, leader, _ = lease_holder(ctx)
        assert leader_pid in pids
        killed = pids.index(leader_pid)
        load.dead.add(killed)
        killed_at = datetime.now(timezone.utc)
        replicas[killed].process.kill()
        replicas[killed].process.wait()
        pid, holder, acquired_at = wait_for("another replica leading", lambda: (
            (found := lease_holder(ctx)) is not None and found[0] != leader_pid and found), 15)
        took = (acquired_at - killed_at).total_seconds()
        assert pid in pids and pid != leader_pid
        assert took <= LEASE_S + TICK_S + 1.0, f"the lease passed on {took:.2f} s after the leader was killed"
        [event] = [e for e in read_events(ctx, action="controller.leader") if e.details["previous"] == leader]
        assert event.details["holder"] == holder

        # The new leader ends the step at the end the store gives it: the evidence is thin (no
        # corrections yet), so the step is held for a person, its numbers counting every decision
        # of the step, those answered before the kill (by the killed leader too) included.
        def held():
            with connect(ctx.engine) as conn:
                return conn.execute(select(rollouts).where(rollouts.c.id == rollout.id,
                                                           rollouts.c.state == "held")).first()

        def where() -> str:
            with connect(ctx.engine) as conn:
                now = conn.execute(select(rollouts).where(rollouts.c.id == rollout.id)).first()
            return (f"(rollout {now.state} at step {now.step_index}; verdicts {[(v.at, v.verdict) for v in verdicts()]}; "
                    f"lease {lease_holder(ctx)})")
        row = wait_for("the step held at its end", held, STEP_S + 60, where)
        assert (row.step_index, row.step_started_at) == (0, started_at)
        [held_event] = read_events(ctx, action="rollout.held")
        assert held_event.at >= started_at + timedelta(seconds=STEP_S) and held_event.actor == "relevo-controller"
        final = verdicts()[-1]
        assert final.at >= acquired_at and final.verdict != "pass"
        with connect(ctx.engine) as conn:
            before_kill = conn.execute(select(decisions.c.id).where(
                decisions.c.step == rollout.step_label, decisions.c.created_at < killed_at)).all()
        assert 0 < len(before_kill) <= final.details["decisions"]
        assert any(a.replica == killed for a in load.answers)

        # (c) A rollback through one replica's API reaches every surviving replica within PROPAGATION_S.
        alive = [n for n in range(3) if n != killed]
        answered = httpx.post(f"{replicas[alive[0]].url}/v1/rollouts/{rollout.id}/rollback", headers=bearer(operator),
                              json={"reason": "rolled back by the replicas test"}, timeout=30)
        assert answered.status_code == 200, answered.text
        rolled_back = datetime.now(timezone.utc)
        settled = rolled_back + timedelta(seconds=PROPAGATION_S)
        wait_for("answers after the rollback settled", lambda: all(
            sum(1 for a in load.answers if a.replica == n and a.sent > settled) >= 20 for n in alive), 15)

        # (b) A replica that does not lead is killed mid-load; the last one stops cleanly.
        victim = next(n for n in alive if replicas[n].process.pid != lease_holder(ctx)[0])
        last = next(n for n in alive if n != victim)
        load.dead.add(victim)
        before = load.count(last)
        replicas[victim].process.kill()
        replicas[victim].process.wait()
        wait_for("answers after the second kill", lambda: load.count(last) >= before + 50, 15)
        load.stop()
        out = stop(replicas[last])
        assert "relevo serve stopped" in out and "Traceback" not in out, out
        for n in alive:
            assert "Traceback" not in replicas[n].output(), replicas[n].output()
    finally:
        if load is not None:
            load.stop()
        for replica in replicas:
            if replica.process.poll() is None:
                replica.process.kill()
                replica.process.wait()

    # Every acknowledged decision is in the log as answered, whichever replica gave it.
    with connect(ctx.engine) as conn:
        logged = {r.id: r for r in conn.execute(select(decisions.c.id, decisions.c.reference, decisions.c.arm))}
    assert all(load.count(n) > 0 for n in range(3))
    missing = [a for a in load.answers if a.decision_id not in logged]
    assert not missing, f"{len(missing)} acknowledged decisions are not in the log, e.g. {missing[:3]}"
    assert all(logged[a.decision_id].reference == a.reference for a in load.answers)
    # Requests failed only on the killed replicas (those in flight when each died), never on a live one.
    assert {n for n, _ in load.failures} <= {killed, victim}, load.failures[:5]
    # Before the rollback every surviving replica routed cases to the candidate; a second after it, none did.
    for n in alive:
        mine = [a for a in load.answers if a.replica == n]
        assert any(logged[a.decision_id].arm == "candidate" and a.sent < rolled_back for a in mine)
        late = [a for a in mine if a.sent > settled and logged[a.decision_id].arm == "candidate"]
        assert not late, f"replica {n} routed {len(late)} cases to the candidate over {PROPAGATION_S} s after the rollback"


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.postgres
def test_workers_share_one_port_and_one_controller(ctx: Context, settings: Settings, tmp_path: Path):
    declare_demo(ctx)  # no version: the fallback answers, as it does for every worker
    ctx = ctx.acting_as("test-admin", frozenset({("admin", None)}))
    token = token_for(ctx, "portal", "client")
    server = serve(settings, tmp_path / "workers.log", "--workers", "2")
    try:
        wait_ready([server], path="/healthz")
        line = wait_for("the serving line", lambda: next(
            (s for s in server.output().splitlines() if s.startswith("relevo serving")), None), 10)
        assert f"on {server.url} " in line and "with 2 workers" in line
        pids = [int(p) for p in line.split("(pids ")[1].split(")")[0].split(", ")]
        example = httpx.get(f"{server.url}/v1/services/{SERVICE_NAME}/example", headers=bearer(token)).json()
        # Each worker answers alone while the other is paused: both serve the one port.
        answers = []
        for paused in pids:
            os.kill(paused, signal.SIGSTOP)
            try:
                response = httpx.post(f"{server.url}/v1/services/{SERVICE_NAME}/decisions", json=example,
                                      headers=bearer(token), timeout=10)
            finally:
                os.kill(paused, signal.SIGCONT)
            assert response.status_code == 200, response.text
            answers.append(response.json())
        # One worker's controller leads, and one worker's monitors; the other stands by.
        assert wait_for("a controller leading", lambda: lease_holder(ctx), 10)[0] in pids
        assert wait_for("monitors running", lambda: lease_holder(ctx, "monitoring/production"), 10)[0] in pids
        # A worker killed is started again, and answers.
        os.kill(pids[1], signal.SIGKILL)
        wait_for("the worker started again", lambda: "relevo serve: worker 2 answers again" in server.output(), 90)
        response = httpx.post(f"{server.url}/v1/services/{SERVICE_NAME}/decisions", json=example,
                              headers=bearer(token), timeout=10)
        assert response.status_code == 200, response.text
        answers.append(response.json())
    finally:
        out = stop(server)
    assert f"worker 2 (pid {pids[1]}) was killed by SIGKILL; starting it again" in out
    assert "relevo serve stopped" in out and "Traceback" not in out, out
    with connect(ctx.engine) as conn:
        logged = set(conn.execute(select(decisions.c.id)).scalars())
        leases = conn.execute(select(controller_leases.c.holder)).scalars().all()
    assert {a["decision_id"] for a in answers} <= logged
    assert all(f":{pids[0]}:" not in holder for holder in leases)  # the leases it held were released as it stopped


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_workers_on_sqlite_are_refused_in_one_line(cli_env: dict[str, str]):
    refused = CliRunner().invoke(app, ["serve", "--port", "0", "--workers", "2"], env=cli_env)
    assert refused.exit_code == 1
    assert "--workers 2 needs PostgreSQL (RELEVO_DATABASE_URL): SQLite takes one writer at a time" in refused.stderr
