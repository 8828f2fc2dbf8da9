"""`relevo user ...` and `relevo token ...`: who may act, with which roles, and their tokens."""

from __future__ import annotations

from typing import List, Optional

import typer
from rich.markup import escape
from rich.table import Table

from relevo import identity
from relevo.cli.context import call, opened, remote_of
from relevo.cli.output import console, print_json, reports_errors
from relevo.clock import parse_duration
from relevo.errors import InvalidInput, Refused

user_app = typer.Typer(help="People and service accounts, and their roles (global, or ROLE:SERVICE).",
                       no_args_is_help=True)
token_app = typer.Typer(help="Bearer tokens: shown once, stored only as a hash, expiring, revocable.",
                        no_args_is_help=True)
ROLES_HELP = "A role, for every service or ROLE:SERVICE for one (repeatable): " + ", ".join(identity.ROLES)
JSON = typer.Option(False, "--json", help="Print JSON.")


def _grants(roles: Optional[List[str]]) -> list[identity.Grant]:
    return [identity.Grant.parse(r) for r in roles or []]


def _duration(text: str):
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise InvalidInput(f"--expires: {exc}") from None


def show_token(token: str, info: identity.TokenInfo) -> None:
    """Print a new token, once."""
    console.print(f"Token {info.id} for {info.identity}, valid until {info.expires_at:%Y-%m-%d %H:%M} UTC"
                  + (f", for {', '.join(info.services)}" if info.services else "") + ". Shown this once; keep it secret:")
    print(token)


@user_app.command("add")
@reports_errors
def add(ctx: typer.Context, name: str = typer.Argument(..., help="Lower-case name (a person, or a system)."),
        role: Optional[List[str]] = typer.Option(None, "--role", help=ROLES_HELP),
        service_account: bool = typer.Option(False, "--service-account", help="A system (the citizen portal), not a person."),
        description: str = typer.Option("", "--description")) -> None:
    """Add an identity with its roles (admins)."""
    if remote_of(ctx) is None:
        with opened(ctx, reads=True) as context:
            if not identity.required(context):
                raise Refused("this store has no identities yet: `relevo init --admin NAME` makes its first admin "
                              "and shows their token; with it, add the others")
    made = call(ctx, identity.add_identity, name, kind="service" if service_account else "person",
                grants=_grants(role), description=description)
    console.print(f"Added {made.kind} {made.name} with roles {', '.join(map(str, made.grants)) or 'none'}.")


def _change_roles(ctx: typer.Context, name: str, roles: list[str], *, grant: bool) -> None:
    grants = _grants(roles)
    changed = (call(ctx, identity.change_grants, name, add=grants) if grant else
               call(ctx, identity.change_grants, name, remove=grants))
    console.print(f"{changed.name}: {', '.join(map(str, changed.grants)) or 'no roles'}.")


@user_app.command("grant")
@reports_errors
def grant(ctx: typer.Context, name: str = typer.Argument(...), role: List[str] = typer.Argument(..., help=ROLES_HELP)) -> None:
    """Give an identity more roles (admins)."""
    _change_roles(ctx, name, role, grant=True)


@user_app.command("withdraw")
@reports_errors
def withdraw(ctx: typer.Context, name: str = typer.Argument(...), role: List[str] = typer.Argument(..., help=ROLES_HELP)) -> None:
    """Take roles away from an identity (admins)."""
    _change_roles(ctx, name, role, grant=False)


@user_app.command("disable")
@reports_errors
def disable(ctx: typer.Context, name: str = typer.Argument(...)) -> None:
    """Stop an identity acting, its tokens with it (admins); it stays on record."""
    call(ctx, identity.disable_identity, name)
    console.print(f"{name} is disabled; its tokens no longer work.")


@user_app.command("list")
@reports_errors
def list_users(ctx: typer.Context, as_json: bool = JSON) -> None:
    """Every identity with its roles."""
    people = call(ctx, identity.list_identities, reads=True)
    if as_json:
        print_json([{"name": p.name, "kind": p.kind, "roles": [str(g) for g in p.grants],
                     "disabled_at": p.disabled_at} for p in people])
        return
    table = Table("name", "kind", "roles", "created", "disabled")
    for p in people:
        table.add_row(escape(p.name), p.kind, ", ".join(map(str, p.grants)) or "—",
                      f"{p.created_at:%Y-%m-%d} by {escape(p.created_by)}",
                      f"{p.disabled_at:%Y-%m-%d}" if p.disabled_at else "—")
    console.print(table)


@token_app.command("create")
@reports_errors
def create(ctx: typer.Context, name: str = typer.Argument(..., help="The identity the token speaks for."),
           expires: str = typer.Option("90d", "--expires", help="How long it is valid (30d, 12h; at most 400d)."),
           service: Optional[List[str]] = typer.Option(None, "--service", help="Only for this service (repeatable)."),
           label: str = typer.Option("", "--label", help="What it is for (shown in lists).")) -> None:
    """Make a token for an identity (admins) and show it once."""
    info, token = call(ctx, identity.create_token, name, label=label, expires_in=_duration(expires),
                       services=service or None)
    show_token(token, info)


@token_app.command("list")
@reports_errors
def list_tokens(ctx: typer.Context, user: Optional[str] = typer.Option(None, "--user"), as_json: bool = JSON) -> None:
    """Tokens, newest first (never their secrets)."""
    items = call(ctx, identity.list_tokens, user, reads=True)
    if as_json:
        print_json(items)
        return
    table = Table("id", "identity", "label", "services", "created", "expires", "revoked")
    for t in items:
        table.add_row(t.id, escape(t.identity), escape(t.label), ", ".join(t.services or []) or "all",
                      f"{t.created_at:%Y-%m-%d}", f"{t.expires_at:%Y-%m-%d}",
                      f"{t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else "—")
    console.print(table)


@token_app.command("revoke")
@reports_errors
def revoke(ctx: typer.Context, token_id: str = typer.Argument(..., metavar="ID")) -> None:
    """Revoke a token (admins, or its owner): refused at once here, within 30 s on every replica."""
    info = call(ctx, identity.revoke_token, token_id)
    console.print(f"Token {info.id} of {info.identity} revoked.")


def add_to(app: typer.Typer) -> None:
    """Register this module's commands."""
    app.add_typer(user_app, name="user")
    app.add_typer(token_app, name="token")
