"""The `relevo` command: one thin adapter over the use cases."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from pydantic import ValidationError
from rich.markup import escape

from relevo import __version__
from relevo.cli import (audit, demo, drills, environments, evidence, governance, identity, monitoring, notices,
                        playbook, registry, retention, rollouts, routing, runbook, serve, services, store, testing,
                        windows)
from relevo.cli.output import errors
from relevo.settings import Settings

app = typer.Typer(
    name="relevo",
    help="Change the AI models behind citizen services without breaking them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"relevo {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    home: Optional[Path] = typer.Option(None, "--home", envvar="RELEVO_HOME", help="Folder for the embedded store and blobs [default: ./.relevo]."),
    database_url: Optional[str] = typer.Option(None, "--database-url", envvar="RELEVO_DATABASE_URL", help="SQLAlchemy URL, e.g. postgresql://user@host/db [default: SQLite under --home]."),
    actor: Optional[str] = typer.Option(None, "--actor", envvar="RELEVO_ACTOR", help="Who is acting, for the audit log [default: login name]."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version and exit."),
) -> None:
    """Relevo: versioned model artifacts, gated rollouts, audit evidence."""
    values = {"home": home, "database_url": database_url, "actor": actor}
    try:
        ctx.obj = Settings.model_validate({k: v for k, v in values.items() if v is not None})
    except ValidationError as exc:
        # A setting from the environment that does not validate: name the variable, not a traceback.
        for problem in exc.errors():
            name = "RELEVO_" + "_".join(str(p) for p in problem["loc"]).upper()
            errors.print(f"[bold red]error:[/] {name}: {escape(problem['msg'])}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None


store.add_to(app)
identity.add_to(app)
services.add_to(app)
registry.add_to(app)
audit.add_to(app)
routing.add_to(app)
rollouts.add_to(app)
governance.add_to(app)
runbook.add_to(app)
windows.add_to(app)
notices.add_to(app)
drills.add_to(app)
playbook.add_to(app)
evidence.add_to(app)
testing.add_to(app)
environments.add_to(app)
monitoring.add_to(app)
retention.add_to(app)
demo.add_to(app)
serve.add_to(app)
