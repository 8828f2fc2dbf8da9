"""`relevo init`: create or migrate the store."""

from __future__ import annotations

import re
from typing import Optional

import typer

from relevo import audit, identity
from relevo.cli.context import local_only, settings_of
from relevo.cli.identity import show_token
from relevo.cli.output import console, reports_errors
from relevo.context import Context
from relevo.store import safe_url, upgrade


@reports_errors
def init(ctx: typer.Context,
         admin: Optional[str] = typer.Option(None, "--admin", help="Name of the first admin, on a new store "
                                                                    "[default: your login name].")) -> None:
    """Create the store (or migrate it to this version's schema); on a new store, its first admin and their token."""
    local_only(ctx, "relevo init")
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
        console.print(f"Audit log signed by {key} (key file {settings.audit_key_file}).", highlight=False,
                      soft_wrap=True)
        if not identity.required(context):
            _first_admin(context, admin or re.sub(r"[^a-z0-9._@-]+", "-", settings.actor.lower()).strip("-") or "admin")
    finally:
        context.close()


def _first_admin(context: Context, name: str) -> None:
    """The store's first identity, an admin, and the token it acts with (shown once)."""
    as_admin = context.acting_as(name, frozenset({("admin", None)}))
    identity.add_identity(as_admin, name, grants=[identity.Grant("admin")], description="the first admin")
    info, token = identity.create_token(as_admin, name, label="first admin token")
    show_token(token, info)
    console.print("From now on every change needs a token: export RELEVO_TOKEN=<the token above>. "
                  "Add people with `relevo user add` and give them tokens with `relevo token create`.")


def add_to(app: typer.Typer) -> None:
    """Register this module's commands."""
    app.command("init")(init)
