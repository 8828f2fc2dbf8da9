"""`relevo playbook SERVICE`: the service's whole deployment playbook, as one Markdown or HTML document."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from relevo.cli.context import call
from relevo.cli.output import console, reports_errors, write_document


class Format(str, Enum):
    """What the playbook is written as."""

    markdown = "markdown"
    html = "html"


@reports_errors
def playbook(ctx: typer.Context, service: str = typer.Argument(...),
             fmt: Format = typer.Option(Format.markdown, "--format", help="Markdown or a self-contained HTML page."),
             out: Optional[Path] = typer.Option(None, "--out",
                                                help="Write it to this file [default: print it].")) -> None:
    """A service's deployment playbook, generated from its records: versioning process, shadowing procedure,
    rollback runbook, drill schedule and last results, RACI, maintenance windows (and communication policy)."""
    from relevo.web import playbook_document  # Jinja2, only when a playbook is written

    found = call(ctx, playbook_document, service, fmt.value, reads=True)
    if out is None:
        typer.echo(found.text)
        return
    write_document(out, found.text, "the playbook")
    console.print(f"Wrote the deployment playbook of {escape(service)} (spec sha256 {found.spec_sha256[:12]}, "
                  f"generated {found.generated_at:%Y-%m-%d %H:%M} UTC) to {escape(str(out))}.", soft_wrap=True)


def add_to(app: typer.Typer) -> None:
    """Register this module's commands."""
    app.command("playbook")(playbook)
