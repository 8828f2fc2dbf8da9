"""`relevo serve`: the decision API over HTTP (one Gateway, served by uvicorn)."""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import socket
import gc
import sys
from typing import Iterator

import typer

from relevo.errors import Refused
from relevo.cli.context import local_only, settings_of
from relevo.cli.output import reports_errors


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
    controller_interval: float = typer.Option(5.0, "--controller-interval", min=0.1,
                                              help="Seconds between the controller's ticks."),
    monitors: bool = typer.Option(True, "--monitors/--no-monitors",
                                  help="Run the monitors' schedule in this process too (one replica at a time runs it)."),
) -> None:
    """Serve decisions, feedback and the review queue over HTTP until interrupted."""
    local_only(ctx, "relevo serve")
    import uvicorn

    from relevo import identity
    from relevo.api import create_app
    from relevo.context import Context
    from relevo.environments import record_fingerprint
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
                bound = port
                for server in self.servers:
                    for sock in server.sockets:
                        bound = sock.getsockname()[1]
                url = _url(host, bound)
                typer.echo(f"relevo serving {env} decisions on {url} (docs {url}/docs); Ctrl-C stops")
                sys.stdout.flush()

    listening = _listen(host, port)  # first: a port in use is one clear line, before anything starts
    settings = settings_of(ctx)
    if max_body_kb is not None:
        settings = settings.model_copy(update={"api_max_body_kb": max_body_kb})
    context = Context.open(settings)
    try:
        if not identity.required(context):
            typer.echo("warning: this store has no identities, so every request but the health checks will be "
                       "refused (401); `relevo init` makes the first admin, `relevo token create` tokens", err=True)
        gateway = Gateway(context, env, pseudonym_key=load_keyring(settings))
        judge = Controller(context, controller_interval) if controller else None
        schedule = MonitorSchedule(context, env) if monitors else None
        try:
            gateway.start()
            # What this environment runs now, for `relevo env diff` and staging validation.
            record_fingerprint(context, env, settings.digest())
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
            config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=access_log,
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
        listening.close()
    typer.echo("relevo serve stopped")


def add_to(app: typer.Typer) -> None:
    """Register this module's commands."""
    app.command("serve")(serve)
