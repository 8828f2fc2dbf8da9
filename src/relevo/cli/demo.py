"""`relevo demo`: the licence pre-filter, end to end on the embedded store."""

from __future__ import annotations

import typer

from relevo.cli.context import settings_of
from relevo.cli.output import reports_errors


@reports_errors
def demo(ctx: typer.Context) -> None:
    """Set up the licence pre-filter: store, service, three trained versions, and show them."""
    from relevo.demo.run import run_demo

    run_demo(settings_of(ctx))


def add_to(app: typer.Typer) -> None:
    """Register this module's commands."""
    app.command("demo")(demo)
