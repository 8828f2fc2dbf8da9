"""`relevo checklist`, `attest`, `waive`, `records`, `vendor ...`: the pre-deployment checklist, a
service's governance records, and its vendors."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer
from rich.markup import escape
from rich.table import Table

from relevo.cli.context import call
from relevo.cli.output import console, print_json, reports_errors

# The use cases are imported inside the commands that run them: each `relevo` command loads only
# what it runs, not every command's dependencies (start-up time).
if TYPE_CHECKING:
    from relevo import governance

ENV = typer.Option("production", "--env", help="The environment the release goes to.")
VERSION = typer.Option(None, "--version", help="The version to release (default: the one tagged candidate).")
PLAN = typer.Option(None, "--plan", help="The plan the rollout will follow (default: the spec's).")
SPEC = typer.Option(None, "--spec", help="A changed service spec the release rolls out with.")
JSON = typer.Option(False, "--json", help="Print JSON.")
# The items are named by the checklist itself (naming them here would load it on every command's start).
ITEMS = typer.Argument(..., help="One or more checklist items, named as `relevo checklist SERVICE` shows them.")
STATE_STYLE = {"passed": "green", "attested": "green", "waived": "yellow", "open": "bold red",
               "not applicable": "dim"}

vendor_app = typer.Typer(help="Vendors: contracts, SLA terms and renewal dates of what they supply.",
                         no_args_is_help=True)


def _print_checklist(found: governance.Checklist) -> None:
    title = (f"{found.service} {found.version} in {found.environment}"
             + (f": the checklist rollout {found.rollout_id} started with" if found.rollout_id else ""))
    table = Table("item", "state", "by", "evidence", title=escape(title))
    for item in found.items:
        by = "" if item.by is None else item.by + (f", {item.at:%Y-%m-%d %H:%M}" if item.at else "")
        evidence = item.evidence + (f" ({item.link})" if item.link else "")
        table.add_row(f"{item.item}\n[dim]{escape(item.title)}[/dim]",
                      f"[{STATE_STYLE[item.state]}]{item.state}[/]", escape(by), escape(evidence))
    console.print(table)
    for difference in found.significant:
        console.print(f"significant change: {escape(difference['what'])}")
    if found.substantial:
        console.print("a substantial modification (outside the pre-determined change plan): a conformity record "
                      "is needed")
    if found.rollout_id is None:
        console.print(f"{len(found.open)} open: the rollout cannot start." if found.open
                      else "Nothing open: the rollout may start.")


@reports_errors
def checklist(ctx: typer.Context, service: str = typer.Argument(...),
              rollout: Optional[int] = typer.Argument(None, help="A rollout: the checklist it started with."),
              version: Optional[str] = VERSION, env: str = ENV, plan: Optional[str] = PLAN,
              spec_file: Optional[Path] = SPEC, as_json: bool = JSON) -> None:
    """Each item of a release's pre-deployment checklist: its state, who ticked it, on what evidence."""
    from relevo import governance
    from relevo.services import load_spec

    spec = load_spec(spec_file) if spec_file is not None else None
    given = {"spec": spec} if spec is not None else {}  # a spec travels only to a local store
    found = call(ctx, governance.checklist_of, service, rollout, version, env, plan, reads=True, **given)
    if as_json:
        print_json(found)
    else:
        _print_checklist(found)
    if found.rollout_id is None and found.open:
        raise typer.Exit(1)


@reports_errors
def attest(ctx: typer.Context, service: str = typer.Argument(...),
           items: list[str] = ITEMS,
           note: str = typer.Option("", "--note", help="What was done."),
           link: Optional[str] = typer.Option(None, "--link", help="Where the evidence is."),
           version: Optional[str] = VERSION, env: str = ENV, plan: Optional[str] = PLAN,
           spec_file: Optional[Path] = SPEC) -> None:
    """Attest items Relevo cannot tick, as the role that answers for them, with a note (and a link)."""
    from relevo import governance
    from relevo.services import load_spec

    spec = load_spec(spec_file) if spec_file is not None else None
    for item in items:
        found = call(ctx, governance.attest, service, item, note, link, version, env, plan, spec)
        console.print(f"{item} attested for {service} {found.version} in {env}; {len(found.open)} items still open.")


@reports_errors
def waive(ctx: typer.Context, service: str = typer.Argument(...),
          items: list[str] = ITEMS,
          reason: str = typer.Option(..., "--reason", help="Why it cannot hold for this release."),
          version: Optional[str] = VERSION, env: str = ENV, plan: Optional[str] = PLAN,
          spec_file: Optional[Path] = SPEC) -> None:
    """Waive items that cannot hold for this release (the service's approver, with a reason)."""
    from relevo import governance
    from relevo.services import load_spec

    spec = load_spec(spec_file) if spec_file is not None else None
    for item in items:
        found = call(ctx, governance.waive, service, item, reason, version, env, plan, spec)
        console.print(f"{item} waived for {service} {found.version} in {env}; {len(found.open)} items still open.")


@reports_errors
def records(ctx: typer.Context, service: str = typer.Argument(...),
            set_file: Optional[Path] = typer.Option(
                None, "--set", help="A YAML file of records to put in force (dpia, fria, ai_act, eu_registration, "
                "processing_record, automated_decisions)."),
            as_json: bool = JSON) -> None:
    """A service's governance records (DPIA, FRIA, AI Act role, EU registration, processing
    record, automated decisions), or put those of a file in force."""
    from relevo import governance
    from relevo.documents import read_document

    if set_file is not None:
        given = governance.parse_records(read_document(set_file, "records"), str(set_file))
        held = call(ctx, governance.set_records, service, given)
    else:
        held = call(ctx, governance.service_records_of, service, reads=True)
    if as_json:
        print_json(held)
        return
    table = Table("record", "in force", "recorded", title=f"{service}'s records")
    for kind in governance.KINDS:
        entry = held.get(kind)
        if entry is None:
            table.add_row(kind, "[dim](none)[/dim]", "")
            continue
        body = "; ".join(f"{k}: {v}" for k, v in entry.body.items() if v not in (None, [], ""))
        table.add_row(kind, escape(body), f"{entry.recorded_at:%Y-%m-%d} by {escape(entry.recorded_by)}")
    console.print(table)


@vendor_app.command("add")
@reports_errors
def vendor_add(ctx: typer.Context, file: Path = typer.Argument(..., help="The vendor's record (YAML): name, "
                                                                      "services, contract_reference, sla, renewal_date.")) -> None:
    """Record a vendor, or change its record (an approver of every service it supplies)."""
    from relevo import governance
    from relevo.documents import read_document

    vendor = governance.parse_vendor(read_document(file, "vendor"), str(file))
    saved = call(ctx, governance.record_vendor, vendor)
    console.print(f"Vendor {escape(saved.name)} recorded: contract {escape(saved.contract_reference)} until "
                  f"{saved.renewal_date}, supplying {', '.join(saved.services)}.")


@vendor_app.command("list")
@reports_errors
def vendor_list(ctx: typer.Context, service: Optional[str] = typer.Option(None, "--service"),
                as_json: bool = JSON) -> None:
    """Vendors, their contracts, SLA terms and renewal dates."""
    from relevo import governance

    found = call(ctx, governance.list_vendors, service, reads=True)
    if as_json:
        print_json(found)
        return
    table = Table("vendor", "services", "contract", "SLA", "renewal")
    for v in found:
        sla = v.sla
        terms = ", ".join(t for t, held in (("versioning", sla["versioning"]), ("rollback", sla["rollback"]),
                                            ("logs", sla["log_access"])) if held)
        table.add_row(escape(v.name), ", ".join(v.services), escape(v.contract_reference),
                      f"{terms or 'none'}; answers in {sla['response_hours']:g} h", str(v.renewal_date))
    console.print(table)


def add_to(app: typer.Typer) -> None:
    """Register this module's commands."""
    app.command("checklist")(checklist)
    app.command("attest")(attest)
    app.command("waive")(waive)
    app.command("records")(records)
    app.add_typer(vendor_app, name="vendor")
