"""`relevo serve` as a real process: start, answer a decision over HTTP, stop cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import socket
import platform
import subprocess
import sys
import time
from pathlib import Path

import httpx

from relevo.audit import read_events
from relevo.casework.lookup import get_decision
from relevo.cli.serve import _listen
from relevo.context import Context
from relevo.demo import SERVICE_NAME
from relevo.settings import Settings
from relevo.store import connect
from tests.api.conftest import bearer, free_port, token_for
from tests.conftest import prepare_demo


def test_relevo_serve_answers_and_stops_cleanly(tmp_path: Path):
    settings = Settings(home=tmp_path / "home", actor="tester")  # the embedded SQLite store
    ctx = Context.open(prepare_demo(settings))
    headers = bearer(token_for(ctx, "portal", "client"))
    operator = token_for(ctx, "olga", "operator")
    port = free_port()
    env = dict(os.environ, RELEVO_HOME=str(settings.home), RELEVO_ACTOR="tester")
    env.pop("RELEVO_DATABASE_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "relevo", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, f"relevo serve exited early: {proc.communicate()}"
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "relevo serve did not answer within 30 s"
            time.sleep(0.1)
        assert httpx.get(f"{url}/v1/services/{SERVICE_NAME}/example").status_code == 401  # no token, no answer
        example = httpx.get(f"{url}/v1/services/{SERVICE_NAME}/example", headers=headers).json()
        answer = httpx.post(f"{url}/v1/services/{SERVICE_NAME}/decisions", json=example, timeout=10, headers=headers)
        assert answer.status_code == 200, answer.text
        decision = answer.json()
        assert decision["served_by"] == "version" and decision["version"] == "v1"
        # The CLI through this server: the operator's token, no local store in reach.
        remote = dict(os.environ, RELEVO_URL=url, RELEVO_TOKEN=operator, RELEVO_HOME=str(tmp_path / "elsewhere"))
        remote.pop("RELEVO_DATABASE_URL", None)
        remote.pop("RELEVO_ACTOR", None)
        shown = subprocess.run([sys.executable, "-m", "relevo", "fallback", SERVICE_NAME, "on"], env=remote,
                               capture_output=True, text=True, timeout=60)
        assert shown.returncode == 0 and "fallback forced" in shown.stdout, shown.stderr
        subprocess.run([sys.executable, "-m", "relevo", "fallback", SERVICE_NAME, "off"], env=remote, check=True,
                       capture_output=True, timeout=60)
        assert not (tmp_path / "elsewhere").exists()
    finally:
        proc.terminate()
        try:
            out, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            raise AssertionError(f"relevo serve did not stop on SIGTERM: {err}") from None
    assert proc.returncode == 0, err
    assert f"relevo serving production decisions on {url}" in out
    assert "relevo serve stopped" in out  # the gateway was closed after the last request
    assert "Traceback" not in err, err
    with connect(ctx.engine) as conn:  # recorded before it was answered, and still there
        assert get_decision(conn, decision["decision_id"]).reference == decision["reference"]
    # Its monitors' schedule ran a first pass at once (the day before, empty here), as itself.
    assert [e.actor for e in read_events(ctx, action="monitor.ran")] == ["relevo-monitor"]
    # Starting, it recorded what production runs: this process's runtime, the service it routes.
    [taken] = read_events(ctx, action="environment.fingerprinted")
    assert taken.subject == "production" and taken.details["changed"] == ["first fingerprint"]
    assert taken.details["packages_sha256"] and taken.details["python"] == platform.python_version()
    switched = read_events(ctx, action="fallback.")
    assert [(e.action, e.actor, e.details["role"]) for e in switched] == [
        ("fallback.forced", "olga", "operator"), ("fallback.released", "olga", "operator")]
    ctx.close()


def test_answers_are_sent_at_once_not_held_for_an_acknowledgement():
    """The socket `relevo serve` listens on says it is TCP, so asyncio turns Nagle's algorithm off on
    every connection it accepts: otherwise each keep-alive answer waits for the client's delayed ACK."""
    listening = _listen("127.0.0.1", 0)

    async def accepted_nodelay() -> int:
        seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            seen.set_result(writer.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(accept, sock=listening)
        _, writer = await asyncio.open_connection(*listening.getsockname())
        value = await asyncio.wait_for(seen, 10)
        writer.close()
        server.close()
        await server.wait_closed()
        return value

    assert asyncio.run(accepted_nodelay()) != 0
