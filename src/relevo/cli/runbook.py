"""`relevo runbook SERVICE` and `relevo runbook confirm SERVICE`: a service's runbook, generated from
its spec, and its owners' confirmation of that version."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Any, Optional

import typer
from rich.markup import escape

from relevo.cli.context import call, local_only
from relevo.cli.output import console, print_json, reports_errors, write_document
from relevo.errors import InvalidInput

# The use cases are imported inside the commands that run them: each `relevo` command loads only
# what it runs, not every command's dependencies (start-up time).


class Format(str, Enum):
    """What the runbook is written as."""

    markdown = "markdown"
    html = "html"


def _write(text: str, path: Path) -> None:
    write_document(path, text, "the runbook")


@reports_errors
def runbook(ctx: typer.Context,
            words: list[str] = typer.Argument(..., metavar="[confirm] SERVICE",
                                              help="The service; `confirm SERVICE` confirms its runbook."),
            fmt: Format = typer.Option(Format.markdown, "--format", help="Markdown or a self-contained HTML page."),
            out: Optional[Path] = typer.Option(None, "--out", help="Write it to this file [default: print it]."),
            spec_file: Optional[Path] = typer.Option(None, "--spec", help="A changed service spec a release rolls "
                                                     "out with: its runbook, not the current spec's."),
            as_json: bool = typer.Option(False, "--json", help="Print the runbook as JSON data.")) -> None:
    """A service's runbook, generated from its spec: deployment steps, acceptance and rollback criteria,
    owners, target times, the fallback procedure, who notifies whom. `relevo runbook confirm SERVICE`:
    an owner (an operator or approver of the service) confirms this version (the spec's hash)."""
    from relevo import continuity
    from relevo.services import load_spec

    confirming = len(words) == 2 and words[0] == "confirm"
    if len(words) > 2 or (len(words) == 2 and not confirming):
        raise InvalidInput("give SERVICE to read its runbook, or `confirm SERVICE` to confirm it")
    service = words[-1]
    given: dict[str, Any] = {}
    if spec_file is not None:
        local_only(ctx, "--spec")  # a spec travels only to a local store
        given["spec"] = load_spec(spec_file)
    if confirming:
        found = call(ctx, continuity.confirm_runbook, service, **given)
        if as_json:
            print_json(found)
        else:
            console.print(f"Runbook of {escape(service)} (spec sha256 {found.version[:12]}) confirmed; confirmed by "
                          + ", ".join(escape(c.by) for c in found.confirmations) + ".", soft_wrap=True)
        return
    found = call(ctx, continuity.runbook_of, service, reads=True, **given)
    if as_json:
        print_json(found)
        return
    if fmt is Format.html:
        from relevo.web import runbook_html  # Jinja2, only when a page is written

        text = runbook_html(found)
    else:
        text = continuity.runbook_markdown(found)
    if out is None:
        typer.echo(text)
    else:
        _write(text, out)
        console.print(f"Wrote the runbook of {escape(service)} (spec sha256 {found.version[:12]}, "
                      + ("confirmed" if found.confirmed else "not confirmed yet") + f") to {escape(str(out))}.",
                      soft_wrap=True)


def add_to(app: typer.Typer) -> None:
    """Register this module's commands."""
    app.command("runbook")(runbook)
