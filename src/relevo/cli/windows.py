"""`relevo windows SERVICE`: when the service's maintenance windows next open."""

from __future__ import annotations

import typer
from rich.markup import escape

from relevo.cli.context import call
from relevo.cli.output import console, print_json, reports_errors

# The use cases are imported inside the commands that run them: each `relevo` command loads only
# what it runs, not every command's dependencies (start-up time).


@reports_errors
def windows(ctx: typer.Context, service: str = typer.Argument(...),
            count: int = typer.Option(5, "--next", min=1, max=100, help="How many openings to list."),
            as_json: bool = typer.Option(False, "--json", help="Print them as JSON data.")) -> None:
    """The next openings of a service's maintenance windows, in local time and UTC: rollout steps
    start and advance only inside one (rollback, hold, pause and abort always may)."""
    from relevo import services

    found = call(ctx, services.service_windows, service, count)
    if as_json:
        print_json(found.as_dict())
        return
    if found.timezone is None:
        console.print(f"{escape(service)} has no maintenance windows: rollouts may start and advance at any time.")
        return
    console.print(f"{escape(service)} ({found.timezone}): " + ("open now" if found.open_now else "closed now"))
    if not found.openings:
        console.print("No window opens in the time looked at (holidays and blackouts close them all).")
    for o in found.openings:
        console.print(f"  {o.local_start:%a %Y-%m-%d %H:%M} - {o.local_end:%H:%M %Z}  "
                      f"(UTC {o.start:%Y-%m-%d %H:%M} - {o.end:%H:%M})", soft_wrap=True)


def add_to(app: typer.Typer) -> None:
    """Register this module's commands."""
    app.command("windows")(windows)
