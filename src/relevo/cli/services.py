"""`relevo service ...`: declare services from their spec files."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from relevo.cli.context import call
from relevo.cli.output import console, print_json, reports_errors
from relevo.rollouts import apply_by_hand
from relevo.services import list_services, load_spec

service_app = typer.Typer(help="Declare and list decision services.", no_args_is_help=True)


@service_app.command("apply")
@reports_errors
def apply(ctx: typer.Context, spec_file: Path = typer.Argument(..., help="Service spec (YAML).")) -> None:
    """Create or update a service from its spec file.

    Updating needs the operator role. On a service answering citizens, a spec that changes the
    decision rules or loosens a role, criterion, guard or plan is refused: roll it out instead
    (relevo rollout start SERVICE --spec FILE).
    """
    spec = load_spec(spec_file)
    outcome = call(ctx, apply_by_hand, spec)
    console.print(f"Service {spec.name}: {outcome}.")


@service_app.command("list")
@reports_errors
def list_(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List declared services."""
    rows = call(ctx, list_services, reads=True)
    if as_json:
        print_json([{"name": r.name, "spec_sha256": r.spec_sha256, "updated_at": r.updated_at} for r in rows])
        return
    table = Table("service", "owner", "spec sha256", "updated")
    for r in rows:
        table.add_row(r.name, r.owner, r.spec_sha256[:12], r.updated_at.strftime("%Y-%m-%d %H:%M"))
    console.print(table)


def add_to(app: typer.Typer) -> None:
    """Register this module's commands."""
    app.add_typer(service_app, name="service")
