"""`relevo purge` and `relevo pseudonym-key ...`: how long the decision log keeps decisions, and the
keys its pseudonyms are made under."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from relevo.cli.context import call, local_only, opened, settings_of
from relevo.cli.output import console, print_json, progress_bar, reports_errors

# The use cases are imported inside the commands that run them: each `relevo` command loads only
# what it runs, not every command's dependencies (start-up time).
if TYPE_CHECKING:
    from relevo.gateway import DroppedMonth, Purge

key_app = typer.Typer(help="The decision log's pseudonym keys: list, rotate, retire (on this machine's store and "
                           "keys, not through RELEVO_URL).", no_args_is_help=True)


def _month(month: DroppedMonth) -> str:
    """A month dropped whole: its partition, its decisions and whose they were."""
    by = ", ".join(f"{escape(name)} {n:,}" for name, n in sorted(month.services.items()))
    return f"{month.partition} ({month.rows['decisions']:,} decisions{': ' + by if by else ''})"


def _show(done: Purge) -> None:
    went = "would go" if done.dry_run else "deleted"
    counts = ", ".join(f"{table} {n:,}" for table, n in done.deleted.items())
    console.print(f"{done.service}: decisions made before {done.cutoff:%Y-%m-%d %H:%M} UTC are past their retention "
                  f"({done.retention}); {went}: {counts}.")
    if done.partitions:
        months = "; ".join(_month(month) for month in done.partitions)
        console.print(f"Whole months {'that would be ' if done.dry_run else ''}dropped: {months}.")
    held = {"rollout_evidence": "the evidence of a rollout in progress", "awaiting_review": "cases awaiting review"}
    kept = [f"{n:,} {held.get(why, why)}" for why, n in done.held.items() if n]
    if kept:
        console.print(f"Kept although past retention: {', '.join(kept)} (they go in a purge once no longer needed).")
    if done.event_id is not None:
        console.print(f"Audited as event {done.event_id}.")


@reports_errors
def purge(ctx: typer.Context, service: str = typer.Argument(..., help="The service."),
          dry_run: bool = typer.Option(False, "--dry-run", help="Count what would go, by table; delete nothing."),
          as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Delete the service's decisions past its retention (logging.retention in its spec; operators),
    with their shadow answers, feedback, reviews and idempotency keys; a rollout in progress's
    evidence and cases awaiting review stay. On PostgreSQL a month past every service's retention is
    dropped whole. `relevo serve` does this daily."""
    from relevo.gateway import purge_decisions

    with progress_bar(as_json) as progress:
        done = call(ctx, purge_decisions, service, dry_run, progress=progress)
    print_json(done) if as_json else _show(done)


@key_app.command("list")
@reports_errors
def list_keys(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """The pseudonym keys this machine holds, the current first, and every key the decision log names,
    with the decisions made under each (reads every decision once)."""
    from relevo.gateway import pseudonym_keys

    local_only(ctx, "relevo pseudonym-key list")
    with opened(ctx, reads=True) as context:
        found = pseudonym_keys(context, settings_of(ctx))
    if as_json:
        print_json(found)
        return
    table = Table("key", "state", "from", "decisions", "oldest decision")
    for k in found:
        state = ("[bold]current[/]" if k.current else "earlier" if k.source else
                 "[bold red]not held here[/]" if k.key_id else "[dim]before key ids[/]")
        table.add_row(k.key_id or "(none)", state, escape(k.source or ""), f"{k.decisions:,}",
                      f"{k.oldest:%Y-%m-%d}" if k.oldest else "")
    console.print(table)


@key_app.command("rotate")
@reports_errors
def rotate(ctx: typer.Context) -> None:
    """A new current key for new decisions (admins; this machine's key files, not through
    RELEVO_URL); the old one is kept to find the decisions made under it. With RELEVO_PSEUDONYM_KEY
    set, rotate it in every replica's configuration first: this then records the rotation."""
    from relevo.gateway import rotate_pseudonym_key

    local_only(ctx, "relevo pseudonym-key rotate")
    with opened(ctx) as context:
        done = rotate_pseudonym_key(context, settings_of(ctx))
    earlier = f" (key {done.previous} is kept to find earlier decisions)" if done.previous else ""
    console.print(f"Pseudonym key {done.key_id} is the current one{earlier}; audited as event {done.event_id}."
                  + (f" Now {escape(done.todo)}." if done.todo else ""))


@key_app.command("retire")
@reports_errors
def retire(ctx: typer.Context, key: str = typer.Argument(..., help="The earlier key's id (relevo pseudonym-key list).")) -> None:
    """Retire an earlier key once no decision made under it is left (admins; this machine's keys, not
    through RELEVO_URL): its key file is deleted."""
    from relevo.gateway import retire_pseudonym_key

    local_only(ctx, "relevo pseudonym-key retire")
    with opened(ctx) as context:
        done = retire_pseudonym_key(context, settings_of(ctx), key)
    console.print(f"Pseudonym key {done.key_id} retired; audited as event {done.event_id}."
                  + (f" Now {escape(done.todo)}." if done.todo else ""))


def add_to(app: typer.Typer) -> None:
    """Register this module's commands."""
    app.command("purge")(purge)
    app.add_typer(key_app, name="pseudonym-key")
