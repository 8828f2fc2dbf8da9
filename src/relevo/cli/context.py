"""Building the use-case context from the CLI's global options."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import typer

from relevo.context import Context
from relevo.settings import Settings


def settings_of(ctx: typer.Context) -> Settings:
    """The settings the root command built from options and environment."""
    return ctx.find_root().obj


@contextmanager
def opened(ctx: typer.Context) -> Iterator[Context]:
    """An open use-case context for the duration of one command."""
    context = Context.open(settings_of(ctx))
    try:
        yield context
    finally:
        context.close()
