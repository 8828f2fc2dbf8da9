"""`relevo init`: create or migrate the store."""

from __future__ import annotations

import typer

from relevo import audit
from relevo.cli.context import settings_of
from relevo.context import Context
from relevo.cli.output import console, reports_errors
from relevo.store import safe_url, upgrade


@reports_errors
def init(ctx: typer.Context) -> None:
    """Create the store (or migrate it to this version's schema)."""
    settings = settings_of(ctx)
    url = settings.resolved_database_url()
    before, after = upgrade(url)
    if before is None:
        console.print(f"Initialised the Relevo store at {safe_url(url)} (schema {after}).")
    elif before == after:
        console.print(f"The Relevo store at {safe_url(url)} is up to date (schema {after}).")
    else:
        console.print(f"Migrated the Relevo store at {safe_url(url)} from schema {before} to {after}.")
    # The audit log's signing key: created once, its public half is what auditors are given.
    context = Context.open(settings)
    try:
        audit.checkpoint(context)  # the first signed checkpoint (creating the key on a new store)
        key = audit.public_key(context)
    finally:
        context.close()
    console.print(f"Audit log signed by {key} (key file {settings.audit_key_file}).", highlight=False,
                  soft_wrap=True)


def add_to(app: typer.Typer) -> None:
    """Register this module's commands."""
    app.command("init")(init)
