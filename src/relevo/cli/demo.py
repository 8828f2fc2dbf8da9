"""`relevo demo`: the licence pre-filter, end to end on the embedded store."""

from __future__ import annotations

import typer
from rich.table import Table

from relevo.cli.context import settings_of
from relevo.cli.output import console, reports_errors
from relevo.cli.registry import versions_table
from relevo.demo import SERVICE_NAME
from relevo.registry.queries import list_versions
from relevo.store import connect


@reports_errors
def demo(ctx: typer.Context) -> None:
    """Set up the licence pre-filter: store, service, three trained versions; then show them."""
    from relevo.context import Context
    from relevo.demo.setup import set_up_demo

    settings = settings_of(ctx)
    with console.status("starting") as status:
        result = set_up_demo(settings, step=lambda text: (status.update(text), console.log(text)))

    story = Table("trained", "registered", "algorithm", "rejects", "accuracy", "AUC", "verified",
                  title="licence pre-filter versions, measured on held-out synthetic applications")
    verified = {v.version.name: v.ok for v in result.verifications}
    for v in result.versions:
        m = v.record.metadata.metrics
        story.add_row(v.trained.name, v.record.name + ("" if v.newly_registered else " (earlier)"),
                      str(v.record.metadata.hyperparameters.get("algorithm", "")),
                      f"{m['rejection_rate']:.1%}", f"{m['accuracy']:.3f}", f"{m.get('auc', float('nan')):.3f}",
                      "[green]yes[/]" if verified.get(v.record.name) else "[red]NO[/]")
    console.print(story)
    context = Context.open(settings)
    try:
        with connect(context.engine) as conn:
            console.print(versions_table(SERVICE_NAME, list_versions(conn, SERVICE_NAME)))
    finally:
        context.close()
    console.print(
        f"Store: {settings.resolved_database_url()}\n"
        "Next: [bold]relevo show licence-prefilter v3[/] (metadata, files, reference profile), "
        "[bold]relevo verify licence-prefilter[/], [bold]relevo audit[/]."
    )
    if not all(verified.values()):
        raise typer.Exit(1)


def add_to(app: typer.Typer) -> None:
    """Register this module's commands."""
    app.command("demo")(demo)
