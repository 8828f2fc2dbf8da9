"""`relevo env ...`: environments' fingerprints, their differences, staging validation."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from relevo.cli.context import call, settings_of
from relevo.cli.output import console, print_json, reports_errors

# The use cases are imported inside the commands that run them: each `relevo` command loads only
# what it runs, not every command's dependencies (start-up time).

env_app = typer.Typer(help="Environments: which there are, their fingerprints, differences, staging validation.",
                      no_args_is_help=True)


@env_app.command("list")
@reports_errors
def list_cmd(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """The environments services can be routed in: staging, production and any added."""
    from relevo.routing import list_environments

    found = call(ctx, list_environments, reads=True)
    if as_json:
        print_json(found)
        return
    table = Table("environment", "description", "added", "by")
    for env in found:
        table.add_row(env.name, escape(env.description), f"{env.created_at:%Y-%m-%d %H:%M}", escape(env.created_by))
    console.print(table)


@env_app.command("add")
@reports_errors
def add(ctx: typer.Context, name: str = typer.Argument(..., help="The new environment's name (preproduction)."),
        description: str = typer.Option("", "--description", help="What it is for.")) -> None:
    """Add an environment (operators of every service): routes, gateways (relevo serve --env NAME),
    test runs and replays may then name it."""
    from relevo.routing import add_environment

    added = call(ctx, add_environment, name, description)
    console.print(f"Environment {added.name} added; serve it with `relevo serve --env {added.name}`.")


@env_app.command("fingerprint")
@reports_errors
def fingerprint(ctx: typer.Context,
                env: str = typer.Option("production", "--env", help="The environment this machine runs."),
                as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Record what this machine's environment is made of (as `relevo serve` does when it starts):
    Python, the installed packages, the settings' hash, what each service serves there."""
    from relevo.environments import record_fingerprint

    taken = call(ctx, record_fingerprint, env, settings_of(ctx).digest())
    if as_json:
        print_json(taken)
        return
    body = taken.body
    console.print(f"{env}: fingerprint {taken.sha256[:12]} (recorded {taken.taken_at:%Y-%m-%d %H:%M} by "
                  f"{escape(taken.taken_by)}): Python {body['python']}, Relevo {body['relevo']}, "
                  f"{len(body['packages'])} packages ({body['packages_sha256'][:12]}), "
                  f"{len(body['services'])} services routed.")


@env_app.command("diff")
@reports_errors
def diff(ctx: typer.Context,
         left: str = typer.Argument(..., help="An environment (staging)."),
         right: str = typer.Argument(..., help="Another (production)."),
         as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Show every difference between two environments' newest fingerprints; exit 1 when they differ."""
    from relevo.environments import diff_environments

    found = call(ctx, diff_environments, left, right, reads=True)
    if as_json:
        print_json(found)
    elif not found.differences:
        console.print(f"{left} and {right} are alike: fingerprints {found.left.sha256[:12]} and "
                      f"{found.right.sha256[:12]} differ in nothing compared.")
    else:
        table = Table("what", f"{left} ({found.left.taken_at:%Y-%m-%d %H:%M})",
                      f"{right} ({found.right.taken_at:%Y-%m-%d %H:%M})",
                      title=f"{len(found.differences)} differences")
        for d in found.differences:
            table.add_row(escape(d.what), escape(d.left or "(absent)"), escape(d.right or "(absent)"))
        console.print(table)
    if found.differences:
        raise typer.Exit(1)


def _show(validation) -> None:
    mark = "[green]validated in staging[/]" if validation.validated else "[bold red]not validated in staging[/]"
    console.print(f"{validation.service} {validation.version}: {mark}: {escape(validation.why)}.")
    for d in validation.differences or []:
        console.print(f"  {escape(d.what)}: staging {escape(d.left or '(absent)')}, production "
                      f"{escape(d.right or '(absent)')}")
    if validation.reason:
        console.print(f"  waived: {escape(validation.reason)}")


@env_app.command("validation")
@reports_errors
def validation(ctx: typer.Context, service: str = typer.Argument(..., help="The service."),
               version: str = typer.Argument(..., help="The version."),
               as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Whether a version is validated in staging: its newest full test run there passed on
    production's runtime, or an approver waived the differences; exit 1 when it is not."""
    from relevo.environments import staging_validation

    found = call(ctx, staging_validation, service, version, reads=True)
    print_json(found) if as_json else _show(found)
    if not found.validated:
        raise typer.Exit(1)


@env_app.command("waive")
@reports_errors
def waive(ctx: typer.Context, service: str = typer.Argument(..., help="The service."),
          version: str = typer.Argument(..., help="The version."),
          reason: str = typer.Option(..., "--reason", help="Why the differences do not matter (on record).")) -> None:
    """Accept, as an approver who did not run the tests, that a passed staging run holds for
    production despite the runtimes' differences (audited, with the reason)."""
    from relevo.environments import waive_differences

    _show(call(ctx, waive_differences, service, version, reason))


def add_to(app: typer.Typer) -> None:
    """Register this module's commands."""
    app.add_typer(env_app, name="env")
