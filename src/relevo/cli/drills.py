"""`relevo drill ...`: rollback and incident drills: their schedule and their history."""

from __future__ import annotations

import typer
from datetime import datetime
from zoneinfo import ZoneInfo

from rich.markup import escape
from rich.table import Table

from relevo.cli.context import call
from relevo.cli.output import console, print_json, reports_errors
from relevo.drills import Drill, drill_history, drill_schedule

drill_app = typer.Typer(help="Rollback and incident drills: when they are due, and how they went.",
                        no_args_is_help=True)
JSON = typer.Option(False, "--json", help="Print it as JSON data.")


def _when(at: datetime | None, zone: ZoneInfo) -> str:
    """A time in the schedule's zone."""
    return "—" if at is None else f"{at.astimezone(zone):%Y-%m-%d %H:%M %Z}"


def _drill(drill: Drill | None) -> str:
    return "—" if drill is None else f"{drill.started_at:%Y-%m-%d %H:%M} UTC in {drill.environment}"


@drill_app.command("schedule")
@reports_errors
def schedule(ctx: typer.Context, service: str = typer.Argument(...),
             count: int = typer.Option(5, "--next", min=1, max=100, help="How many due dates to list."),
             as_json: bool = JSON) -> None:
    """When a service's drills are due (its spec's runbook.drills, in its windows' time zone), each
    scenario's last passed and failed drill, and whether a drill is overdue and why."""
    found = call(ctx, drill_schedule, service, count, reads=True)
    if as_json:
        print_json(found)
        return
    zone = ZoneInfo(found.timezone)
    state = "[bold red]OVERDUE[/]" if found.overdue else "[green]not overdue[/]"
    console.print(f"{escape(service)}: drills `{found.schedule}` in {found.timezone}, {found.grace} grace: {state}; "
                  f"{escape(found.reason)}.", soft_wrap=True)
    console.print("Next due: " + ", ".join(_when(at, zone) for at in found.next_due) + ".", soft_wrap=True)
    table = Table("scenario", f"done for {_when(found.open_due, zone)}", "overdue", "last passed", "last failed")
    for s in found.scenarios:
        table.add_row(s.scenario, "yes" if s.done else "no", "[bold red]yes[/]" if s.overdue else "no",
                      _drill(s.last_passed), _drill(s.last_failed))
    console.print(table)


def _seconds(value: float | None, target: float) -> str:
    """A measured time against its target: '42s / 900s', or 'never' when it did not happen."""
    return f"{'never' if value is None else f'{value:.0f}s'} / {target:.0f}s"


@drill_app.command("history")
@reports_errors
def history(ctx: typer.Context, service: str = typer.Argument(...),
            limit: int = typer.Option(50, "--limit", min=1, max=1000, help="How many drills, newest first."),
            as_json: bool = JSON) -> None:
    """A service's drills, newest first: each scenario, where it ran, its times against the runbook's targets,
    what was lost or unanswered, its outcome and who ran it."""
    found = call(ctx, drill_history, service, limit, reads=True)
    if as_json:
        print_json(found)
        return
    if not found:
        console.print(f"{escape(service)} has no drill on record yet (relevo drill run).")
        return
    table = Table("when (UTC)", "scenario", "env", "clock", "detect / target", "recover / target", "lost",
                  "unanswered", "outcome", "by")
    for d in found:
        outcome = "[green]passed[/]" if d.outcome == "passed" else "[bold red]failed[/]"
        table.add_row(f"{d.started_at:%Y-%m-%d %H:%M}", d.scenario, d.environment, d.clock,
                      _seconds(d.detect_seconds, d.target_detect_seconds),
                      _seconds(d.recover_seconds, d.target_recover_seconds), str(d.lost), str(d.unanswered),
                      outcome, escape(d.run_by))
    console.print(table)


def add_to(app: typer.Typer) -> None:
    """Register this module's commands."""
    app.add_typer(drill_app, name="drill")
