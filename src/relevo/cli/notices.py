"""`relevo notice schedule|list|public`: a planned deployment's notice to the informed people, and its
public notice for citizens."""

from __future__ import annotations

from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Any, Optional

import typer
from rich.markup import escape
from rich.table import Table

from relevo.cli.context import call, local_only
from relevo.cli.output import console, print_json, reports_errors, write_document
from relevo.clock import parse_duration
from relevo.errors import InvalidInput
from relevo.services import LANGUAGES

# The use cases are imported inside the commands that run them: each `relevo` command loads only
# what it runs, not every command's dependencies (start-up time).

notice_app = typer.Typer(help="Planned deployments' notices: the informed told ahead of time, a public notice for "
                              "citizens.", no_args_is_help=True)


class Format(str, Enum):
    """What the public notice is written as."""

    markdown = "markdown"
    html = "html"


def _moment(text: str) -> datetime:
    """--at: an ISO 8601 time with its offset, or a duration from now (3d)."""
    try:
        return datetime.now(timezone.utc) + parse_duration(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"--at {text!r} is neither an ISO 8601 time (2026-05-11T09:00+02:00) nor a duration from "
                           "now (3d)") from None
    if moment.tzinfo is None:
        raise InvalidInput(f"--at {text!r} must give its UTC offset (2026-05-11T09:00+02:00)")
    return moment


def _read(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read the {what} {path}: {getattr(exc, 'strerror', None) or exc}") from None


@notice_app.command("schedule")
@reports_errors
def schedule(ctx: typer.Context, service: str = typer.Argument(...), version: str = typer.Argument(...),
             at: str = typer.Option(..., "--at", help="When the deployment is planned to start: an ISO 8601 time "
                                    "with its offset, or a duration from now (3d)."),
             environment: str = typer.Option("production", "--env", help="The environment the release goes to."),
             plan: Optional[str] = typer.Option(None, "--plan", help="The plan it will follow (default: the spec's)."),
             summary: Optional[str] = typer.Option(None, "--summary", help="What changes, in words citizens read."),
             contact: Optional[str] = typer.Option(None, "--contact", help="Whom citizens contact (default: the "
                                                   "data controller and the DPO from the records)."),
             review_channel: Optional[str] = typer.Option(None, "--review-channel", help="Where citizens ask for a "
                                                          "person to review their decision."),
             spec_file: Optional[Path] = typer.Option(None, "--spec", help="A changed service spec the release "
                                                      "rolls out with."),
             as_json: bool = typer.Option(False, "--json", help="Print the notice as JSON.")) -> None:
    """Give notice of a planned deployment (operators): its informed people are told at once on every
    channel; at least the spec's communication.lead ahead, inside a maintenance window."""
    from relevo import governance
    from relevo.services import load_spec

    given: dict[str, Any] = {}
    if spec_file is not None:
        local_only(ctx, "--spec")  # a spec travels only to a local store
        given["spec"] = load_spec(spec_file)
    found = call(ctx, governance.schedule_notice, service, version, _moment(at), environment, plan, summary, contact,
                 review_channel, **given)
    if as_json:
        print_json(found)
        return
    whom = ", ".join(found.informed + [f"the {c} channel" for c in found.channels]) or "the log only"
    console.print(f"Notice {found.id}: {escape(service)} {escape(found.version)} planned in {found.environment} from "
                  f"{found.planned_at:%Y-%m-%d %H:%M %Z}; told to {escape(whom)}.", soft_wrap=True)
    if found.public_due:
        console.print(f"A public notice is due ({escape(found.public_due)}): relevo notice public {escape(service)} "
                      f"{found.id} --lang LANG", soft_wrap=True)


@notice_app.command("list")
@reports_errors
def list_notices(ctx: typer.Context, service: str = typer.Argument(...),
                 version: Optional[str] = typer.Option(None, "--version", help="Only this version's notices."),
                 as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """A service's deployment notices, newest first: the release, its planned start, whom it told, its public notices."""
    from relevo import governance

    found = call(ctx, governance.notices_of, service, version, reads=True)
    if as_json:
        print_json(found)
        return
    table = Table("id", "release", "planned start", "given", "told", "public notice")
    for n in found:
        public = ", ".join(n.public) or ("due: not generated" if n.public_due else "not due")
        table.add_row(str(n.id), escape(f"{n.version} ({n.environment}, {n.plan})"), f"{n.planned_at:%Y-%m-%d %H:%M}",
                      escape(f"{n.given_at:%Y-%m-%d %H:%M} by {n.given_by}"),
                      escape(", ".join(n.informed + n.channels) or "nobody"), escape(public))
    console.print(table)


@notice_app.command("public")
@reports_errors
def public(ctx: typer.Context, service: str = typer.Argument(...), notice: int = typer.Argument(...),
           lang: str = typer.Option("es", "--lang", help=f"The language: {', '.join(LANGUAGES)}."),
           fmt: Format = typer.Option(Format.markdown, "--format", help="Markdown or a self-contained HTML page."),
           template: Optional[Path] = typer.Option(None, "--template", help="The body's own template (Markdown with "
                                                   "$fields) instead of Relevo's."),
           out: Optional[Path] = typer.Option(None, "--out", help="Write it to this file [default: print it].")) -> None:
    """Generate a deployment's public notice (operators): that automated processing is used and for
    what, what changes and when, what it means, how to ask for a person's review, whom to contact."""
    from relevo import governance

    if lang not in LANGUAGES:
        raise InvalidInput(f"--lang {lang!r}: Relevo writes public notices in {', '.join(LANGUAGES)}")
    given: dict[str, Any] = {}
    if template is not None:
        local_only(ctx, "--template")  # a template file travels only to a local store
        given["template"] = _read(template, "notice template")
    found = call(ctx, governance.public_notice, service, notice, lang, **given)
    text = found.text
    if fmt is Format.html:
        from relevo.web import public_notice_html  # Jinja2, only when a page is written

        text = public_notice_html(found.text, lang)
    if out is None:
        typer.echo(text)
        return
    write_document(out, text, "the public notice")
    console.print(f"Wrote the public notice {found.notice_id} of {escape(service)} ({lang}, sha256 "
                  f"{found.sha256[:12]}) to {escape(str(out))}.", soft_wrap=True)


def add_to(app: typer.Typer) -> None:
    """Register this module's commands."""
    app.add_typer(notice_app, name="notice")
