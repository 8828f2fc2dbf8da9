"""`relevo audit`: read the append-only audit log."""

from __future__ import annotations

import json
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

from relevo.audit import parse_since, read_events
from relevo.cli.context import opened
from relevo.cli.output import console, print_json, reports_errors


@reports_errors
def audit(ctx: typer.Context,
          service: Optional[str] = typer.Option(None, "--service", help="Only events about this service."),
          action: Optional[str] = typer.Option(
              None, "--action", help="One action (rollout.rolled_back) or a family (rollout.* or rollout.)."),
          actor: Optional[str] = typer.Option(None, "--by", help="Only events by this actor (a person, relevo-controller)."),
          since: Optional[str] = typer.Option(
              None, "--since", help="Only events since then: an ISO date or time (2026-12-01, 2026-12-01T08:00Z) "
                                    "or an age (48h, 7d)."),
          case_work: bool = typer.Option(False, "--case-work", help="Include case workers' confirmations, "
                                                                     "corrections and claims (left out by default)."),
          limit: int = typer.Option(50, "--limit", min=1, help="How many of the newest events."),
          as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Show the newest audit events: changes of state by default (case work with --case-work)."""
    with opened(ctx) as context:
        events = read_events(context, subject_prefix=service, action=action, actor=actor,
                             since=parse_since(since, context.clock.now()) if since else None,
                             case_work=case_work, limit=limit)
    if as_json:
        print_json(events)
        return
    table = Table("#", "at", "actor", "action", "subject", "details")
    for e in events:
        details = json.dumps({k: v for k, v in e.details.items() if k != "spec"}, default=str)
        table.add_row(str(e.id), e.at.strftime("%Y-%m-%d %H:%M:%S"), escape(e.actor), e.action,
                      escape(e.subject), escape(details if len(details) < 120 else details[:117] + "…"))
    console.print(table)


def add_to(app: typer.Typer) -> None:
    """Register this module's commands."""
    app.command("audit")(audit)
