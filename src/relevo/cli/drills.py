"""`relevo drill ...`: rollback and incident drills: running one, their schedule and their history."""

from __future__ import annotations

import logging
from enum import Enum
from typing import TYPE_CHECKING, Any, Optional

import typer
from datetime import datetime
from zoneinfo import ZoneInfo

from rich.markup import escape
from rich.table import Column, Table

from relevo.cli.context import call, local_only, remote_of
from relevo.cli.output import console, print_json, reports_errors

# The use cases are imported inside the commands that run them: each `relevo` command loads only
# what it runs, not every command's dependencies (start-up time).
if TYPE_CHECKING:
    from relevo.drills import Drill

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
    from relevo.drills import drill_schedule

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
    from relevo.drills import drill_history

    found = call(ctx, drill_history, service, limit, reads=True)
    if as_json:
        print_json(found)
        return
    if not found:
        console.print(f"{escape(service)} has no drill on record yet (relevo drill run).")
        return
    # Ten measures fit an 80-column terminal only folded, never cut: a scenario's name stays whole.
    table = Table(Column("when (UTC)", overflow="fold"), Column("scenario", overflow="fold"),
                  Column("where", overflow="fold"), "detect / target", "recover / target", "lost / unanswered",
                  "outcome", Column("by", overflow="fold"))
    for d in found:
        outcome = "[green]passed[/]" if d.outcome == "passed" else "[bold red]failed[/]"
        table.add_row(f"{d.started_at:%Y-%m-%d %H:%M}", d.scenario, f"{d.environment}, {d.clock} clock",
                      _seconds(d.detect_seconds, d.target_detect_seconds),
                      _seconds(d.recover_seconds, d.target_recover_seconds), f"{d.lost} / {d.unanswered}",
                      outcome, escape(d.run_by))
    console.print(table)


class Database(str, Enum):
    """The scratch store a drill runs on."""

    sqlite = "sqlite"
    postgresql = "postgresql"


def _ok(ok: bool) -> str:
    return "[green]yes[/]" if ok else "[bold red]no[/]"


def _print_drill(d: Drill) -> None:
    table = Table("measure", "value", "target", "ok")
    detected = d.detect_seconds is not None and d.detect_seconds <= d.target_detect_seconds
    recovered = d.recover_seconds is not None and d.recover_seconds <= d.target_recover_seconds
    never = "never"
    table.add_row("time to detect", never if d.detect_seconds is None else f"{d.detect_seconds:g} s",
                  f"{d.target_detect_seconds:g} s", _ok(detected))
    table.add_row("time to recover", never if d.recover_seconds is None else f"{d.recover_seconds:g} s",
                  f"{d.target_recover_seconds:g} s", _ok(recovered))
    table.add_row("decisions lost", str(d.lost), "0", _ok(d.lost == 0))
    table.add_row("citizens left without an answer", str(d.unanswered), "0", _ok(d.unanswered == 0))
    table.add_row("requests sent", str(d.requests), "", "")
    console.print(table)
    for line in d.details.get("timeline", []):
        console.print(f"  {line['at_seconds']:>10g} s  {escape(line['what'])}", soft_wrap=True)
    console.print(f"Traffic: {escape(str(d.details.get('traffic')))}; measured on {d.details.get('measured_on')}.",
                  soft_wrap=True)
    for finding in d.details.get("findings", []):
        console.print(f"[bold red]finding:[/] {escape(finding)}", soft_wrap=True)
    outcome = "[green]passed[/]" if d.outcome == "passed" else "[bold red]FAILED[/]"
    console.print(f"Drill {d.id} ({d.scenario}, {d.environment}, {d.clock} clock): {outcome}.")


@drill_app.command("run")
@reports_errors
def run(ctx: typer.Context, service: str = typer.Argument(...),
        env: str = typer.Option("staging", "--env", help="The environment whose route is rehearsed."),
        scenario: str = typer.Option(..., "--scenario", help="bad-candidate, model-down, slow-model or "
                                     "database-restart."),
        real_time: bool = typer.Option(False, "--real-time", help="Run on the system clock (a few seconds of "
                                       "traffic) instead of the simulated one."),
        database: Database = typer.Option(Database.sqlite, "--database", help="The scratch store: a SQLite file, or "
                                          "a scratch PostgreSQL cluster (initdb, pg_ctl)."),
        override: Optional[str] = typer.Option(None, "--override", help="An approver's reason for a drill against "
                                               "production."),
        as_json: bool = JSON) -> None:
    """Rehearse a fault on a scratch copy of the service: the real gateway and controller act, and the
    times to detect and recover are measured against the runbook's targets; stored and audited. Exit 1
    when the drill failed."""
    from relevo.drills import run_drill

    given: dict[str, Any] = {"real_time": real_time, "override": override}
    if database is not Database.sqlite:
        local_only(ctx, "--database postgresql")  # a scratch cluster is made on this machine
        given["database"] = database.value
    quiet = logging.getLogger("relevo")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)  # the scratch gateway's failures are the drill's to measure, not to print
    try:
        if as_json or remote_of(ctx) is not None:
            found = call(ctx, run_drill, service, env, scenario, **given)
        else:
            with console.status(f"{scenario} drill of {escape(service)}") as status:
                given["progress"] = lambda line: status.update(f"{scenario} drill of {escape(service)}: "
                                                               f"{escape(line)}")
                found = call(ctx, run_drill, service, env, scenario, **given)
    finally:
        quiet.setLevel(level)
    if as_json:
        print_json(found)
    else:
        _print_drill(found)
    if found.outcome != "passed":
        raise typer.Exit(1)


def add_to(app: typer.Typer) -> None:
    """Register this module's commands."""
    app.add_typer(drill_app, name="drill")
