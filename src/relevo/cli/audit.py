"""`relevo audit ...`: read the append-only audit log, and prove it (verify, export, proofs, keys)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, List, Optional

import typer
from rich.markup import escape
from rich.table import Table

from relevo.cli.context import call
from relevo.cli.output import console, errors, print_json, reports_errors
from relevo.errors import InvalidInput

if TYPE_CHECKING:
    from relevo import audit as trail

audit_app = typer.Typer(help="The audit log: who changed what, when; verified, exported and proven.",
                        invoke_without_command=True)
JSON = typer.Option(False, "--json", help="Print JSON.")
KEY = typer.Option(None, "--key", help="A public key to trust (name+hash+key, or a file holding it); "
                                        "repeat it for the keys before and after a rotation.")


@audit_app.callback()
@reports_errors
def audit(ctx: typer.Context,
          service: Optional[str] = typer.Option(None, "--service", help="Only events about this service."),
          action: Optional[str] = typer.Option(
              None, "--action", help="One action (rollout.rolled_back) or a family (rollout.* or rollout.)."),
          actor: Optional[str] = typer.Option(None, "--by", help="Only events by this actor (a person, relevo-controller)."),
          since: Optional[str] = typer.Option(
              None, "--since", help="Only events since then: an ISO date or time (2026-12-01, 2026-12-01T08:00Z) "
                                    "or an age (48h, 7d)."),
          case_work: bool = typer.Option(False, "--case-work", help="Include case workers' confirmations, "
                                                                     "corrections and claims (left out by default)."),
          limit: int = typer.Option(50, "--limit", min=1, help="How many of the newest events."),
          as_json: bool = JSON) -> None:
    """Show the newest audit events: changes of state by default (case work with --case-work)."""
    from relevo import audit as trail  # when a command runs, not when the CLI starts
    if ctx.invoked_subcommand is not None:
        return
    events = call(ctx, trail.read_events, service=service, action=action, actor=actor, since=since,
                  case_work=case_work, limit=limit, reads=True)
    if as_json:
        print_json(events)
        return
    table = Table("#", "at", "actor", "action", "subject", "details")
    for e in events:
        details = json.dumps({k: v for k, v in e.details.items() if k != "spec"}, default=str)
        table.add_row(str(e.id), e.at.strftime("%Y-%m-%d %H:%M:%S"), escape(e.actor), e.action,
                      escape(e.subject), escape(details if len(details) < 120 else details[:117] + "…"))
    console.print(table)


def _report(report: trail.LogVerification, where: str, as_json: bool) -> None:
    if as_json:
        print_json(report)
    elif report.ok and report.selection is not None:
        console.print(f"[green]ok[/] {where}: {report.events:,} events ({escape(report.selection)}), each proven in "
                      f"the log of {report.size:,} events signed by {', '.join(report.signed_by)}; root {report.root}.")
    elif report.ok:
        console.print(f"[green]ok[/] {where}: {report.events:,} events, {report.checkpoints} signed checkpoints "
                      f"(by {', '.join(report.signed_by)}); root {report.root}.")
        if report.unsigned:
            console.print(f"{report.unsigned} newer events are checked against the store's tree but not yet "
                          "signed; the next rollout step or `relevo audit checkpoint` signs them.")
    else:
        errors.print(f"[bold red]FAIL[/] {where}: {len(report.problems)} problem(s)"
                     + (f"; the first bad event is #{report.first_bad_event}" if report.first_bad_event else ""))
        for problem in report.problems:
            errors.print(f"  {escape(problem)}", highlight=False)
    if not report.ok:
        raise typer.Exit(1)


@audit_app.command("verify")
@reports_errors
def verify(ctx: typer.Context,
           bundle: Optional[Path] = typer.Option(None, "--bundle", help="Check an exported bundle offline instead of the store."),
           proof: Optional[Path] = typer.Option(None, "--proof", help="Check a proof file offline (from `relevo audit prove`)."),
           key: Optional[List[str]] = KEY, as_json: bool = JSON) -> None:
    """Check every event against its leaf, every checkpoint's root and signature; name the first bad event."""
    from relevo import audit as trail
    if bundle is not None or proof is not None:
        if not key:
            raise InvalidInput("offline checks trust only the key you give: pass --key (the instance's public key)")
        verifiers = [trail.read_verifier(k) for k in key]
        if proof is not None:
            result = trail.check_proof(proof, verifiers)
            if as_json:
                print_json(result)
            else:
                (console if result.ok else errors).print(
                    ("[green]ok[/] " if result.ok else "[bold red]FAIL[/] the proof does not show that ")
                    + escape(result.statement) + ".")
            if not result.ok:
                raise typer.Exit(1)
            return
        assert bundle is not None
        _report(trail.verify_bundle(bundle, verifiers), str(bundle), as_json)
        return
    report = call(ctx, trail.verify_store, reads=True)
    _report(report, "the store's audit log", as_json)


@audit_app.command("export")
@reports_errors
def export(ctx: typer.Context, path: Path = typer.Argument(..., help="The bundle file to write (JSON).")) -> None:
    """Write a bundle of every event, checkpoint and public key, for an auditor to verify offline."""
    from relevo import audit as trail
    events, checkpoints = trail.write_bundle(call(ctx, trail.bundle_of, reads=True), path)
    key = call(ctx, trail.public_key, reads=True)
    console.print(f"Wrote {path}: {events:,} events, {checkpoints} checkpoints. An auditor checks it with "
                  f"`relevo audit verify --bundle {path} --key {key}`.")


@audit_app.command("checkpoint")
@reports_errors
def checkpoint(ctx: typer.Context) -> None:
    """Sign a checkpoint of the log as it stands now, and print it (an auditor may keep it)."""
    from relevo import audit as trail
    point = call(ctx, trail.checkpoint, reads=True)
    print(point.note, end="")


@audit_app.command("prove")
@reports_errors
def prove(ctx: typer.Context,
          event: Optional[int] = typer.Option(None, "--event", metavar="ID", help="Prove this event is in the log."),
          since: Optional[Path] = typer.Option(None, "--checkpoint", metavar="FILE",
                                               help="Prove the log only grew since this kept checkpoint."),
          out: Optional[Path] = typer.Option(None, "--out", help="Write the proof here instead of printing it.")) -> None:
    """A proof an auditor checks offline (`relevo audit verify --proof FILE --key KEY`)."""
    from relevo import audit as trail
    if (event is None) == (since is None):
        raise InvalidInput("give either --event ID or --checkpoint FILE")
    if event is not None:
        body = call(ctx, trail.prove_event, event, reads=True)
    else:
        assert since is not None
        try:
            kept = since.read_text()
        except OSError as exc:
            raise InvalidInput(f"cannot read the kept checkpoint {since}: {exc.strerror}") from None
        body = call(ctx, trail.prove_growth, kept, reads=True)
    text = json.dumps(body, indent=2) + "\n"
    if out is None:
        print(text, end="")
    else:
        out.write_text(text)
        console.print(f"Wrote the {body['kind']} proof to {out}.")


@audit_app.command("key")
@reports_errors
def key(ctx: typer.Context) -> None:
    """Print the instance's public key, the one auditors are given."""
    from relevo import audit as trail
    print(call(ctx, trail.public_key, reads=True))


@audit_app.command("rotate-key")
@reports_errors
def rotate_key(ctx: typer.Context) -> None:
    """Replace the signing key; the rotation is an event, signed by the old key and the new."""
    from relevo import audit as trail
    old, new = call(ctx, trail.rotate_key)
    console.print(f"Rotated the audit signing key.\n  old: {old}\n  new: {new}\nGive auditors the new public key; "
                  "bundles verify with either.")


@audit_app.command("replace-lost-key")
@reports_errors
def replace_lost_key(ctx: typer.Context,
                     reason: str = typer.Option(..., "--reason", help="What happened to the key (recorded).")) -> None:
    """Record a new signing key when the key file is lost for good (admins): trust does not pass to it."""
    from relevo import audit as trail
    new = call(ctx, trail.replace_lost_key, reason)
    console.print(f"Recorded a new audit signing key in place of the lost one.\n  new: {new}\nTrust does not pass "
                  "from the lost key: give auditors the new public key; checkpoints before the replacement verify "
                  "with the lost key's public key, which they hold (relevo audit export, then relevo audit verify "
                  "--bundle FILE --key OLD --key NEW).")


def add_to(app: typer.Typer) -> None:
    """Register this module's commands."""
    app.add_typer(audit_app, name="audit")
