"""`relevo audit`: read the append-only audit log."""

from __future__ import annotations

import json
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

from relevo.audit.queries import list_events
from relevo.cli.context import opened
from relevo.cli.output import console, print_json, reports_errors
from relevo.store import connect


@reports_errors
def audit(ctx: typer.Context,
          service: Optional[str] = typer.Option(None, "--service", help="Only events about this service."),
          limit: int = typer.Option(50, "--limit", min=1, help="How many of the newest events."),
          as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Show the newest audit events."""
    with opened(ctx) as context, connect(context.engine) as conn:
        events = list_events(conn, subject_prefix=service, limit=limit)
    if as_json:
        print_json(events)
        return
    table = Table("#", "at", "actor", "action", "subject", "details")
    for e in events:
        details = json.dumps({k: v for k, v in e["details"].items() if k != "spec"}, default=str)
        table.add_row(str(e["id"]), e["at"].strftime("%Y-%m-%d %H:%M:%S"), escape(e["actor"]), e["action"],
                      escape(e["subject"]), escape(details if len(details) < 120 else details[:117] + "…"))
    console.print(table)


def add_to(app: typer.Typer) -> None:
    """Register this module's commands."""
    app.command("audit")(audit)
