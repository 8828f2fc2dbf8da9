"""`relevo service ...`: declare services from their spec files."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.table import Table

from relevo.cli.context import call
from relevo.cli.output import console, print_json, reports_errors
from relevo.errors import Conflict

# The use cases are imported inside the commands that run them: each `relevo` command loads only
# what it runs, not every command's dependencies (start-up time).

service_app = typer.Typer(help="Declare and list decision services.", no_args_is_help=True)


@service_app.command("apply")
@reports_errors
def apply(ctx: typer.Context, spec_file: Path = typer.Argument(..., help="Service spec (YAML)."),
          suite_override: Optional[str] = typer.Option(
              None, "--suite-override", help="As an approver: apply a test suite weaker than the current one, "
              "for this reason (recorded).")) -> None:
    """Create or update a service from its spec file.

    Updating needs the operator role. On a service answering citizens, a spec that changes the
    decision rules or loosens a role, criterion, guard or plan is refused: roll it out instead
    (relevo rollout start SERVICE --spec FILE). A test suite the spec names (tests: FILE, beside
    the spec) is read, checked against the spec and stored with it; a suite weaker than the current
    one (a golden or smoke case dropped, a margin widened, a check removed) needs an approver's
    --suite-override REASON.
    """
    from relevo.rollouts import apply_by_hand
    from relevo.services import load_spec
    from relevo.suites import apply_suite, load_suite

    spec = load_spec(spec_file)
    # The suite is read first: a broken suite leaves the service as it was.
    suite = load_suite(spec_file.parent / spec.tests, spec) if spec.tests else None
    outcome = call(ctx, apply_by_hand, spec)
    console.print(f"Service {spec.name}: {outcome}.")
    if suite is not None:
        applied = call(ctx, apply_suite, spec.name, suite, suite_override)
        console.print(f"Test suite {spec.tests}: {applied} ({len(suite.golden)} golden cases, "
                      f"{len(suite.reference_rows)} reference cases).")


@service_app.command("init")
@reports_errors
def init(
    name: str = typer.Argument(..., help="The new service's name."),
    model: Path = typer.Option(..., "--model", help="The model file (.skops, .onnx, .pkl or .joblib)."),
    data: Path = typer.Option(..., "--data", help="Its training data (CSV or Parquet)."),
    label: Optional[str] = typer.Option(None, "--label", help="The data's outcome column (not an input)."),
    personal: Optional[List[str]] = typer.Option(None, "--personal", help="A personal-data field (repeatable, or a,b)."),
    protected: Optional[List[str]] = typer.Option(None, "--protected", help="A protected attribute (repeatable, or a,b)."),
    trust_type: Optional[List[str]] = typer.Option(None, "--trust-type", help="A reviewed type skops may load."),
    out: Path = typer.Option(Path("."), "--out", help="Folder to write the two files in."),
    force: bool = typer.Option(False, "--force", help="Overwrite files already there."),
) -> None:
    """Draft a spec and a metadata file for a new service from its model and training data.

    Inputs, their order and the labels come from the model where it says them (scikit-learn in a
    skops file), types and allowed values from the data. Unless you name the personal and
    protected fields, every field is marked personal (never profiled, pseudonymised in the log)
    until you review it; texts only you can write are TODO, refused until written.
    """
    from relevo.registry import draft_service

    draft = draft_service(name, model, data, label=label, personal=personal or [], protected=protected or [],
                          trust_types=trust_type or [])
    targets = {out / f"{name}.yaml": draft.spec, out / f"{name}.metadata.yaml": draft.metadata}
    there = [str(p) for p in targets if p.exists()]
    if there and not force:
        raise Conflict(f"{', '.join(there)} already exist: give --force to overwrite, or --out another folder")
    out.mkdir(parents=True, exist_ok=True)
    for path, text in targets.items():
        path.write_text(text, encoding="utf-8")
    spec_file, metadata_file = targets
    console.print(f"Wrote {spec_file} and {metadata_file}.")
    console.print(f"  model inputs, in its order: {', '.join(draft.inputs)}")
    if draft.other_fields:
        console.print(f"  other fields of the data: {', '.join(draft.other_fields)}")
    console.print(f"  decisions: {', '.join(draft.labels)}")
    if draft.unreviewed:
        console.print(f"  marked personal until you review them: {', '.join(draft.unreviewed)} "
                      "(or draft again with --personal and --protected)")
    console.print(f"Fill in every TODO, then: relevo service apply {spec_file} && "
                  f"relevo register {name} {model} --metadata {metadata_file}")


@service_app.command("list")
@reports_errors
def list_(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List declared services."""
    from relevo.services import list_services

    rows = call(ctx, list_services, reads=True)
    if as_json:
        print_json([{"name": r.name, "spec_sha256": r.spec_sha256, "updated_at": r.updated_at} for r in rows])
        return
    table = Table("service", "owner", "spec sha256", "updated")
    for r in rows:
        table.add_row(r.name, r.owner, r.spec_sha256[:12], r.updated_at.strftime("%Y-%m-%d %H:%M"))
    console.print(table)


def add_to(app: typer.Typer) -> None:
    """Register this module's commands."""
    app.add_typer(service_app, name="service")
