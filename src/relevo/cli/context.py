"""Building the use-case context from the CLI's global options and the acting identity's token."""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Callable, Iterator, TypeVar

import typer

from relevo import identity
from relevo.context import Context
from relevo.errors import Refused
from relevo.settings import Settings

if TYPE_CHECKING:
    from relevo.cli.remote import Remote

T = TypeVar("T")


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


def remote_of(ctx: typer.Context) -> Remote | None:
    """The `relevo serve` RELEVO_URL names, or None for the local store."""
    if not os.environ.get("RELEVO_URL", "").strip():
        return None
    from relevo.cli.remote import Remote  # the HTTP client and the API's table, only when used

    remote = Remote.from_environment()
    if remote is not None:
        given = settings_of(ctx).model_fields_set
        for name, flag in (("actor", "--actor/RELEVO_ACTOR"), ("database_url", "--database-url/RELEVO_DATABASE_URL")):
            if name in given:
                raise Refused(f"RELEVO_URL names the store and RELEVO_TOKEN who acts: drop {flag}")
    return remote


def local_only(ctx: typer.Context, command: str) -> None:
    """Refused under RELEVO_URL: command works on this machine's store."""
    if os.environ.get("RELEVO_URL", "").strip():
        raise Refused(f"{command} works on this machine's store, not through RELEVO_URL; unset it to run it here")


def call(ctx: typer.Context, fn: Callable[..., T], /, *args: Any, reads: bool = False, **kwargs: Any) -> T:
    """fn(context, *args, **kwargs) on the local store, or through RELEVO_URL's server: the same
    use case, the same typed result; reads: fn changes nothing, so it may run locally without a token."""
    remote = remote_of(ctx)
    if remote is not None:
        with remote:
            return remote.call(fn, *args, **kwargs)
    with opened(ctx, reads=reads) as context:
        return fn(context, *args, **kwargs)


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
