"""`relevo evidence SERVICE ROLLOUT`: a rollout's evidence pack, one zip an auditor checks offline."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from relevo.cli.context import call
from relevo.cli.output import console, reports_errors, write_document
from relevo.errors import Refused

# The use cases are imported inside the commands that run them: each `relevo` command loads only
# what it runs, not every command's dependencies (start-up time).


@reports_errors
def evidence(ctx: typer.Context, service: str = typer.Argument(..., help="The service."),
             rollout: int = typer.Argument(..., help="The rollout's id (`relevo rollout history SERVICE`)."),
             out: Optional[Path] = typer.Option(None, "--out", help="The zip to write "
                                                "[default: SERVICE-rollout-ROLLOUT-evidence.zip].")) -> None:
    """Write a rollout's evidence pack (auditors, approvers, operators, the DPO): a report for people
    with its technical documentation under the AI Act's Annex IV, checklist, approvals, tests,
    verdicts, incidents and records; the same as JSON; its audit events with their proofs and the key."""
    from relevo.evidence import CHECK, evidence_of, evidence_zip
    from relevo.web import evidence_html  # Jinja2 and plotly, only when a page is written

    path = out or Path(f"{service}-rollout-{rollout}-evidence.zip")
    if path.is_dir() or not path.parent.is_dir() or not os.access(path.parent, os.W_OK):
        # Said before the evidence is gathered, not after.
        raise Refused(f"cannot write the evidence pack to {path}: "
                      + ("it is a folder" if path.is_dir() else f"no folder {path.parent} to write in"
                         if not path.parent.is_dir() else f"the folder {path.parent} is not writable"))
    console.print(f"Gathering the evidence of {escape(service)} rollout {rollout}…")
    found = call(ctx, evidence_of, service, rollout, reads=True)
    pack = evidence_zip(found, evidence_html(found))
    write_document(path, pack, "the evidence pack")
    console.print(f"Wrote {escape(str(path))}: the report, its data as JSON and {len(found.events)} audit events "
                  f"with their proofs. An auditor unzips it and runs `{CHECK}`.", soft_wrap=True)


def add_to(app: typer.Typer) -> None:
    """Register this module's commands."""
    app.command("evidence")(evidence)
