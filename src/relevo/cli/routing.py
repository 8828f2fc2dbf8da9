"""`relevo route` and `relevo fallback`: how a service is answered, and the kill switch."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Optional

import typer
from rich.table import Table

from relevo.cli.context import call
from relevo.cli.output import console, print_json, reports_errors

# The use cases are imported inside the commands that run them: each `relevo` command loads only
# what it runs, not every command's dependencies (start-up time).
if TYPE_CHECKING:
    from relevo.routing import RouteShown

ENV_OPTION = typer.Option("production", "--env", help="Environment: production, staging, or one added (relevo env list).")


def _show(shown: RouteShown, as_json: bool) -> None:
    data = dataclasses.asdict(shown)
    if as_json:
        print_json(data)
        return
    table = Table.grid(padding=(0, 2))
    for key in ("service", "environment", "mode", "weight", "stable", "candidate", "candidate_release",
                "fallback_forced", "revision", "updated_by"):
        table.add_row(f"[bold]{key}[/]", str(data[key] if data[key] is not None else "—"))
    console.print(table)


@reports_errors
def route(
    ctx: typer.Context,
    service: str = typer.Argument(...),
    env: str = ENV_OPTION,
    stable: Optional[str] = typer.Option(None, "--stable", help="Stable version (v3, 3 or a tag)."),
    candidate: Optional[str] = typer.Option(None, "--candidate", help="Candidate version."),
    no_candidate: bool = typer.Option(False, "--no-candidate", help="Remove the candidate."),
    # The routing table's MODES, written out: importing it here would load the registry on every command's
    # start (tests/cli/test_routing_cli.py holds the two together).
    mode: Optional[str] = typer.Option(None, "--mode", help="One of stable, shadow, canary, bluegreen."),
    weight: Optional[float] = typer.Option(None, "--weight", min=0, max=100, help="Canary share in percent."),
    override: Optional[str] = typer.Option(
        None, "--override", metavar="REASON",
        help="An approver's written reason to move production's stable version to one that has not passed a "
             "rollout there, or to send citizens to a candidate without the judge (recorded)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show or change how a service is answered; gateways apply a change within a second.

    Changing it needs the operator role; production's stable version moves only to a version that
    passed a rollout there (or by an approver's --override), and never while a rollout owns the route.
    """
    from relevo.rollouts import route_by_hand
    from relevo.routing import describe_route

    changes = any(v is not None for v in (stable, candidate, mode, weight)) or no_candidate
    if changes:
        call(ctx, route_by_hand, service, env, stable=stable, candidate=candidate, clear_candidate=no_candidate,
             mode=mode, weight=weight, override=override)
    _show(call(ctx, describe_route, service, env, reads=True), as_json)


@reports_errors
def fallback(
    ctx: typer.Context,
    service: str = typer.Argument(...),
    state: str = typer.Argument(..., help="on: rules then manual review answer everything; off: models answer again."),
    env: str = ENV_OPTION,
) -> None:
    """The kill switch: send all of a service's traffic to its fallback at once (audited)."""
    from relevo.rollouts import fallback_by_hand

    if state not in ("on", "off"):
        raise typer.BadParameter("state is on or off", param_hint="STATE")
    current = call(ctx, fallback_by_hand, service, env, state == "on")
    console.print(f"{service} in {env}: fallback {'forced' if current.fallback_forced else 'released'} "
                  f"(route revision {current.revision}).")


def add_to(app: typer.Typer) -> None:
    """Register this module's commands."""
    app.command("route")(route)
    app.command("fallback")(fallback)
