"""`relevo test SERVICE VERSION`: run the service's test suite on a version, with progress and a table."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, Optional

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from relevo.cli.context import call
from relevo.cli.junit import write_junit
from relevo.cli.output import console, print_json, reports_errors

# The use cases are imported inside the commands that run them: each `relevo` command loads only
# what it runs, not every command's dependencies (start-up time).
if TYPE_CHECKING:
    from relevo.suites import SuiteRun

STYLE = {"passed": "green", "failed": "bold red", "not applicable": "dim"}


@contextmanager
def _bar(quiet: bool) -> Iterator[Callable[[str, int], Callable[[], None]]]:
    if quiet:
        yield lambda phase, total: (lambda: None)
        return
    with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        def phase(name: str, total: int) -> Callable[[], None]:
            task = bar.add_task(name, total=total)
            return lambda: bar.advance(task)

        yield phase


def show_run(run: SuiteRun) -> None:
    """The run as a table, then its outcome in one line."""
    table = Table("check", "name", "outcome", "detail",
                  title=f"{run.service} {run.version} in {run.environment} (test run {run.id})")
    for r in run.results:
        table.add_row(r.check, escape(r.name), f"[{STYLE[r.outcome]}]{r.outcome}[/]", escape(r.detail))
    console.print(table)
    against = f" against stable {run.stable}" if run.stable else ""
    summary = f"{sum(r.outcome == 'passed' for r in run.results)} passed, {len(run.failures)} failed"
    console.print(f"{run.service} {run.version}{against}: [{STYLE[run.outcome]}]{run.outcome}[/] ({summary}); "
                  f"version {run.version_sha256[:12]}, suite {run.suite_sha256[:12]}, packages "
                  f"{str(run.fingerprint.get('packages_sha256'))[:12]}.")


@reports_errors
def test(
    ctx: typer.Context,
    service: str = typer.Argument(..., help="The service."),
    version: str = typer.Argument(..., help="The version to test (v3, a tag, a sha256 prefix)."),
    env: str = typer.Option("staging", "--env", help="The environment the run happens in (recorded with it)."),
    junit: Optional[Path] = typer.Option(None, "--junit", help="Also write the results as JUnit XML to this file."),
    as_json: bool = typer.Option(False, "--json", help="Print the run as JSON."),
) -> None:
    """Run the service's test suite on a version: golden cases, regression against the stable
    version, latency, robustness and fairness. The result is stored with the version's hash and
    the environment's fingerprint, and audited; the exit status is 1 when a check failed."""
    from relevo.suites import run_suite

    with _bar(as_json) as progress:
        run = call(ctx, run_suite, service, version, env, progress=progress)
    if junit is not None:
        write_junit(run, junit)
    if as_json:
        print_json(run)
    else:
        show_run(run)
        if junit is not None:
            console.print(f"JUnit XML written to {junit}.")
    if run.outcome != "passed":
        raise typer.Exit(1)


@reports_errors
def test_runs(
    ctx: typer.Context,
    service: str = typer.Argument(..., help="The service."),
    version: Optional[str] = typer.Option(None, "--version", help="Only this version's runs."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List the newest test runs of a service (relevo test, and the smoke tests before rollouts)."""
    from relevo.suites import suite_runs

    runs = call(ctx, suite_runs, service, version, reads=True)
    if as_json:
        print_json(runs)
        return
    table = Table("run", "version", "kind", "environment", "outcome", "failed", "at", "by")
    for run in runs:
        table.add_row(str(run.id), run.version, run.kind, run.environment, f"[{STYLE[run.outcome]}]{run.outcome}[/]",
                      str(len(run.failures)), run.finished_at.strftime("%Y-%m-%d %H:%M"), run.ran_by)
    console.print(table)


def add_to(app: typer.Typer) -> None:
    """Register this module's commands."""
    app.command("test")(test)
    app.command("test-runs")(test_runs)
