"""Building the use-case context from the CLI's global options and the acting identity's token."""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator

import typer

from relevo import identity
from relevo.context import Context
from relevo.errors import Refused
from relevo.settings import Settings


def settings_of(ctx: typer.Context) -> Settings:
    """The settings the root command built from options and environment."""
    return ctx.find_root().obj


def acting(context: Context, settings: Settings, *, reads: bool) -> Context:
    """The context acting as RELEVO_TOKEN's identity. Without a token: on a store with identities
    only reads are allowed; on one without, the --actor name stands (the spec's names decide)."""
    token = os.environ.get("RELEVO_TOKEN", "").strip()
    if token:
        principal = identity.sign_in(context, token)
        if "actor" in settings.model_fields_set and settings.actor != principal.name:
            raise Refused(f"the acting identity is the token's ({principal.name}); drop --actor/RELEVO_ACTOR")
        return context.acting_as(principal.name, principal.grants)
    if not reads and identity.required(context):
        raise Refused("this store has identities: set RELEVO_TOKEN to a token of yours "
                      "(an admin makes one with `relevo token create NAME`)")
    return context


@contextmanager
def opened(ctx: typer.Context, *, reads: bool = False) -> Iterator[Context]:
    """An open use-case context, acting as the token's identity, for the duration of one command;
    reads: the command changes nothing, so it may run without a token."""
    settings = settings_of(ctx)
    context = Context.open(settings)
    try:
        yield acting(context, settings, reads=reads)
    finally:
        context.close()
