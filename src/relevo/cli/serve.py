"""`relevo serve`: the decision API over HTTP (a Gateway, served by uvicorn), in this process or in
several workers sharing its listening socket (relevo.cli.workers)."""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import os
import socket
import gc
import sys
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Iterator

import typer

from relevo.errors import Refused, RelevoError
from relevo.cli.context import local_only, settings_of
from relevo.cli.output import reports_errors
from relevo.settings import Settings


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _listen(host: str, port: int) -> socket.socket:
    """The socket the API will answer on, bound now, or Refused naming why it cannot be."""
    try:
        family = socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
    except ValueError:
        family = socket.AF_INET  # a host name: resolved by bind
    # IPPROTO_TCP named: asyncio sets TCP_NODELAY on accepted connections only when the listening
    # socket says it is TCP; without it every keep-alive answer waited ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        reason = "it is in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc)).lower()
        raise Refused(f"cannot listen on {_url(host, port)}: {reason}; choose another --port, or stop what "
                      "holds it") from None
    return sock


@dataclass(frozen=True)
class Serving:
    """What a serving process runs, as `relevo serve`'s options say."""

    host: str
    env: str
    access_log: bool
    controller: bool
    controller_interval: float
    monitors: bool


def _announce(context, settings: Settings, env: str) -> None:
    """Once per `relevo serve`: warn of a store nobody can call, record what the environment runs."""
    from relevo import identity
    from relevo.environments import record_fingerprint

    if not identity.required(context):
        typer.echo("warning: this store has no identities, so every request but the health checks will be "
                   "refused (401); `relevo init` makes the first admin, `relevo token create` tokens", err=True)
    # What this environment runs now, for `relevo env diff` and staging validation.
    record_fingerprint(context, env, settings.digest())


def serve_here(settings: Settings, serving: Serving, listening: socket.socket, ready: Connection | None = None) -> None:
    """Answer on listening with one Gateway (and, as asked, the rollout controller and the monitors'
    schedule) until SIGTERM or SIGINT, then close them with every acknowledged decision committed.
    ready: a worker's line to its parent, sent the URL once answering (without it: printed, and
    the environment's fingerprint recorded first)."""
    import uvicorn

    from relevo.api import create_app
    from relevo.context import Context
    from relevo.gateway import Gateway, load_keyring
    from relevo.monitoring import MonitorSchedule
    from relevo.rollouts import Controller

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            # uvicorn re-raises SIGTERM/SIGINT after its graceful shutdown, which would kill the
            # process before the gateway is closed; a signal here means "stop", handled below.
            with super().capture_signals():
                try:
                    yield
                finally:
                    getattr(self, "_captured_signals", []).clear()

        async def startup(self, sockets=None) -> None:
            await super().startup(sockets=sockets)
            if self.started:  # say where, with the port actually bound (--port 0)
                url = _url(serving.host, listening.getsockname()[1])
                if ready is not None:
                    ready.send(url)
                    return
                typer.echo(f"relevo serving {serving.env} decisions on {url} (docs {url}/docs); Ctrl-C stops")
                sys.stdout.flush()

    context = Context.open(settings)
    try:
        if ready is None:
            _announce(context, settings, serving.env)
        gateway = Gateway(context, serving.env, pseudonym_key=load_keyring(settings))
        judge = Controller(context, serving.controller_interval) if serving.controller else None
        schedule = MonitorSchedule(context, serving.env) if serving.monitors else None
        try:
            gateway.start()
            if judge is not None:
                judge.start()
                gateway.after_batch = judge.nudge  # judge after each batch, not only on ticks
            if schedule is not None:
                schedule.start()
            app = create_app(settings, gateway)
            # What is loaded by now (libraries, the models, the app: some 200,000 objects) stays
            # for the life of the process. Frozen, the garbage collector no longer scans it: a
            # full collection stopped every thread for about 110 ms.
            gc.collect()
            gc.freeze()
            config = uvicorn.Config(app, log_level="warning", access_log=serving.access_log,
                                    timeout_graceful_shutdown=10,
                                    proxy_headers=False)  # the app reads them, as RELEVO_API_TRUSTED_PROXIES says
            Server(config).run(sockets=[listening])
        finally:
            if schedule is not None:
                schedule.close()
            if judge is not None:
                judge.close()
            gateway.close()
    finally:
        context.close()


def serve_as_worker(number: int, parent: int, settings: Settings, serving: Serving, listening: socket.socket,
                    ready: Connection) -> None:
    """serve_here in worker `number` of `relevo serve --workers` (a spawned process): a store error
    is one line naming the worker, and the worker stops by itself when its parent is gone."""
    from relevo.cli.workers import stop_when_orphaned

    stop_when_orphaned(parent)
    try:
        serve_here(settings, serving, listening, ready)
    except RelevoError as exc:
        print(f"error: relevo serve worker {number}: {exc}", file=sys.stderr, flush=True)
        sys.exit(1)


@reports_errors
def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", min=0, max=65535, help="Port to listen on (0: any free port)."),
    env: str = typer.Option("production", "--env", help="Environment whose routes this gateway follows."),
    max_body_kb: int | None = typer.Option(None, "--max-body-kb", min=1,
                                           help="Largest request body accepted, in KiB [default: 64, or "
                                                "RELEVO_API_MAX_BODY_KB]."),
    access_log: bool = typer.Option(False, "--access-log", help="Log every request."),
    controller: bool = typer.Option(True, "--controller/--no-controller",
                                    help="Run the rollout controller in this process too."),
    controller_interval: float = typer.Option(2.0, "--controller-interval", min=0.1,
                                              help="Seconds between the controller's ticks."),
    monitors: bool = typer.Option(True, "--monitors/--no-monitors",
                                  help="Run the monitors' schedule in this process too (one replica at a time runs it)."),
    workers: int = typer.Option(1, "--workers", min=1, max=64,
                                help="Processes answering on the one port, each with its own gateway (PostgreSQL only; "
                                     "a worker that dies is started again)."),
) -> None:
    """Serve decisions, feedback and the review queue over HTTP until interrupted."""
    local_only(ctx, "relevo serve")
    listening = _listen(host, port)  # first: a port in use is one clear line, before anything starts
    try:
        settings = settings_of(ctx)
        if max_body_kb is not None:
            settings = settings.model_copy(update={"api_max_body_kb": max_body_kb})
        serving = Serving(host, env, access_log, controller, controller_interval, monitors)
        if workers == 1:
            serve_here(settings, serving, listening)
        else:
            _serve_workers(settings, serving, listening, workers)
    finally:
        listening.close()
    typer.echo("relevo serve stopped")


def _serve_workers(settings: Settings, serving: Serving, listening: socket.socket, count: int) -> None:
    from relevo.cli.workers import run_workers
    from relevo.context import Context

    if settings.resolved_database_url().startswith("sqlite"):
        raise Refused(f"--workers {count} needs PostgreSQL (RELEVO_DATABASE_URL): SQLite takes one writer at a "
                      "time, so the workers' decision logs would wait on each other's commits; serve with one "
                      "worker, or move the store to PostgreSQL")
    context = Context.open(settings)  # the store checked once, before any worker starts
    try:
        _announce(context, settings, serving.env)
    finally:
        context.close()

    def started(url: str, pids: list[int]) -> None:
        typer.echo(f"relevo serving {serving.env} decisions on {url} (docs {url}/docs) with {len(pids)} workers "
                   f"(pids {', '.join(map(str, pids))}); Ctrl-C stops")
        sys.stdout.flush()

    failed = run_workers(count, serve_as_worker, (os.getpid(), settings, serving, listening), started)
    if failed:
        raise Refused(failed)


def add_to(app: typer.Typer) -> None:
    """Register this module's commands."""
    app.command("serve")(serve)
