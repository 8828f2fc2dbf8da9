"""Registry commands: register, versions, show, verify, tag, annotate, predict."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, List, Optional

import typer
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn
from rich.table import Table

from relevo.cli.context import call, opened, remote_of
from relevo.cli.output import console, errors, human_size, print_json, reports_errors
from relevo.errors import InvalidInput

# The use cases are imported inside the commands that run them: each `relevo` command loads only
# what it runs, not every command's dependencies (start-up time).
if TYPE_CHECKING:
    from relevo.registry import ProfileSummary, VersionRecord

JSON_OPTION = typer.Option(False, "--json", help="Print JSON instead of a table.")


def _progress(total: int) -> Progress:
    # Only large artifacts get a bar; small ones finish before it would draw.
    return Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                    TransferSpeedColumn(), console=errors, transient=True, disable=total < 64 * 1024 * 1024)


@reports_errors
def register(
    ctx: typer.Context,
    service: str = typer.Argument(..., help="Service the version belongs to."),
    path: Path = typer.Argument(..., help="Artifact file or folder."),
    metadata: Path = typer.Option(..., "--metadata", "-m", help="Metadata file (YAML or JSON)."),
    tag: Optional[List[str]] = typer.Option(None, "--tag", "-t", help="Tag to point at the new version (repeatable)."),
    reference_data: Optional[Path] = typer.Option(None, "--reference-data", help="Training-data sample (CSV or Parquet) to profile."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Register an artifact as the next immutable version of a service."""
    from relevo.blobs.manifest import artifact_files
    from relevo.registry import register_version

    total = sum(p.stat().st_size for _, p in artifact_files(path))
    remote = remote_of(ctx)
    with _progress(total) as bar:
        if remote is not None:
            task = bar.add_task("packing and sending", total=total)
            with remote:
                record = remote.register(service, path, metadata, tags=tag or [], reference_data=reference_data,
                                         progress=lambda n: bar.advance(task, n))
        else:
            with opened(ctx) as context:
                task = bar.add_task("hashing and storing", total=total)
                record = register_version(context, service, path, metadata, tags=tag or [],
                                          reference_data=reference_data, progress=lambda n: bar.advance(task, n))
    if as_json:
        print_json(record.summary())
        return
    tags = f" (tags: {', '.join(record.tags)})" if record.tags else ""
    console.print(f"Registered {service} [bold]{record.name}[/] sha256 {record.sha256} — "
                  f"{record.file_count} files, {human_size(record.size_bytes)}{tags}.")


@reports_errors
def versions(ctx: typer.Context, service: str = typer.Argument(...), as_json: bool = JSON_OPTION) -> None:
    """List the versions of a service."""
    from relevo.registry import versions_of

    records = call(ctx, versions_of, service, reads=True)
    if as_json:
        print_json([r.summary() | {"author": r.metadata.author, "trained_at": r.metadata.trained_at} for r in records])
        return
    console.print(versions_table(service, records))


def versions_table(service: str, records: list[VersionRecord]) -> Table:
    """The table `relevo versions` prints."""
    table = Table("version", "tags", "format", "sha256", "size", "trained", "registered", title=service)
    for r in records:
        table.add_row(r.name, ", ".join(r.tags), r.format, r.sha256[:12], human_size(r.size_bytes),
                      str(r.metadata.trained_at)[:10], f"{r.registered_at:%Y-%m-%d %H:%M} by {r.registered_by}")
    return table


def _field_label(field) -> str:
    return field.name + (" [personal]" if field.personal else "") + (" [protected]" if field.protected else "")


def _profile_table(profile: ProfileSummary) -> Table:
    table = Table("feature", "kind", "missing", "summary", title=f"reference profile ({profile.rows} rows, {profile.source_name})")
    for name, feat in profile.features.items():
        if feat["kind"] == "numeric" and feat.get("quantiles"):
            q = feat["quantiles"]
            summary = f"min {feat['min']:.3g}  p5 {q[5]:.3g}  median {q[50]:.3g}  p95 {q[95]:.3g}  max {feat['max']:.3g}"
        elif feat.get("high_cardinality"):
            summary = f"{feat['distinct']} distinct values (not kept)"
        else:
            cats = sorted(feat.get("categories", {}).items(), key=lambda kv: -kv[1])
            summary = "  ".join(f"{k} {v}" for k, v in cats[:6]) + ("  …" if len(cats) > 6 else "")
        table.add_row(name, feat["kind"], f"{feat['missing_rate']:.1%}", summary)
    return table


@reports_errors
def show(ctx: typer.Context, service: str = typer.Argument(...), version: str = typer.Argument(..., help="v3, 3 or a tag."),
         as_json: bool = JSON_OPTION) -> None:
    """Show one version: metadata, files, tags, annotations and reference profile."""
    from relevo.registry import describe_version

    details = call(ctx, describe_version, service, version, reads=True)
    if as_json:
        print_json(details)
        return
    record, meta = details.record, details.record.metadata
    model = meta.model
    head = Table.grid(padding=(0, 2))
    for label, value in [
        ("version", f"{service} {record.name}"), ("sha256", record.sha256),
        ("tags", ", ".join(record.tags) or "—"), ("format", f"{model.format} ({model.entry or model.url})"),
        ("registered", f"{record.registered_at.isoformat()} by {record.registered_by}"),
        ("author", meta.author), ("trained", str(meta.trained_at)),
        ("training data", f"{meta.training_data.reference} (sha256 {meta.training_data.sha256[:12]}…)"),
        ("code revision", meta.code_revision), ("intended use", meta.intended_use),
        ("limitations", meta.limitations),
        ("hyperparameters", json.dumps(meta.hyperparameters)),
        ("metrics", "  ".join(f"{k} {v:.4g}" for k, v in meta.metrics.items())),
        ("datasets", "; ".join(f"{d.name} ({d.role})" for d in meta.datasets)),
        ("inputs", ", ".join(_field_label(f) for f in meta.signature.inputs)),
        ("other fields", ", ".join(_field_label(f) for f in meta.other_fields) or "—"),
        ("outputs", ", ".join(meta.signature.outputs.labels)),
    ]:
        head.add_row(f"[bold]{label}[/]", escape(str(value)))
    console.print(head)
    files = Table("file", "size", "sha256", title="files")
    for f in record.manifest.files:
        files.add_row(f.path, human_size(f.size), f.sha256[:16] + "…")
    console.print(files)
    if details.annotations:
        notes = Table("at", "author", "field", "note", title="annotations")
        for n in details.annotations:
            notes.add_row(f"{n.at:%Y-%m-%d %H:%M}", escape(n.author), n.field or "", escape(n.note))
        console.print(notes)
    if details.tag_history:
        moves = Table("at", "tag", "from", "to", "actor", title="tag moves")
        for m in details.tag_history:
            moves.add_row(f"{m.at:%Y-%m-%d %H:%M}", m.tag, m.from_version or "—", m.to_version or "(removed)", m.actor)
        console.print(moves)
    if details.profile:
        console.print(_profile_table(details.profile))


@reports_errors
def verify_cmd(ctx: typer.Context, service: str = typer.Argument(...),
               version: Optional[str] = typer.Argument(None, help="One version; all when omitted."),
               as_json: bool = JSON_OPTION) -> None:
    """Re-hash stored artifact files and name any that changed, vanished or appeared."""
    from relevo.registry import verify

    results = call(ctx, verify, service, version, reads=True)
    if as_json:
        print_json([{"version": r.version.name, "ok": r.ok, "problems": list(r.problems)} for r in results])
    else:
        for r in results:
            if r.ok:
                console.print(f"[green]ok[/]   {service} {r.version.name} ({r.version.file_count} files, sha256 {r.version.sha256[:12]}…)")
            else:
                console.print(f"[bold red]FAIL[/] {service} {r.version.name}:")
                for p in r.problems:
                    console.print(f"       {p}", highlight=False)
    if not all(r.ok for r in results):
        raise typer.Exit(1)


@reports_errors
def tag(ctx: typer.Context, service: str = typer.Argument(...), tag_name: str = typer.Argument(..., metavar="TAG"),
        version: str = typer.Argument(..., help="v3, 3 or another tag."),
        override: Optional[str] = typer.Option(
            None, "--override", metavar="REASON",
            help="An approver's written reason to tag as stable a version that has not passed a rollout.")) -> None:
    """Point a tag (stable, candidate, or any name) at a version; the move is recorded.

    Needs the operator role; `stable` is gated like production's stable route.
    """
    from relevo.rollouts import tag_by_hand

    moved = call(ctx, tag_by_hand, service, tag_name, version, override)
    console.print(f"{service} {tag_name} -> {version}" + ("" if moved else " (already there)"))


@reports_errors
def annotate(ctx: typer.Context, service: str = typer.Argument(...), version: str = typer.Argument(...),
             note: str = typer.Argument(..., help="The correction or remark."),
             field: Optional[str] = typer.Option(None, "--field", help="Metadata field the note corrects.")) -> None:
    """Add a note to a version (its metadata itself never changes)."""
    from relevo.registry import annotate_version

    note_id = call(ctx, annotate_version, service, version, note, field)
    console.print(f"Annotation {note_id} added to {service} {version}.")


@reports_errors
def predict(ctx: typer.Context, service: str = typer.Argument(...), version: str = typer.Argument(...),
            inputs: Path = typer.Argument(..., help="JSON file: one row (object) or a list of rows."),
            as_json: bool = JSON_OPTION) -> None:
    """Load a version (after re-checking its hashes) and answer rows from a file."""
    from relevo.gateway import predict_rows

    data = _read_rows(inputs)
    rows = data if isinstance(data, list) else [data]
    answered = call(ctx, predict_rows, service, version, rows, reads=True)
    out = [{"decision": p.decision, "probabilities": dict(p.probabilities) if p.probabilities else None}
           for p in answered.answers]
    if as_json:
        print_json(out)
        return
    table = Table("row", "decision", "probabilities", title=f"{service} {answered.version}")
    for i, p in enumerate(out):
        probs = "  ".join(f"{k} {v:.3f}" for k, v in (p["probabilities"] or {}).items())
        table.add_row(str(i), p["decision"], probs)
    console.print(table)


def _read_rows(path: Path):
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInput(f"inputs file not found: {path}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"inputs file {path} is not valid JSON: {exc}") from None
    if not (isinstance(data, dict) or (isinstance(data, list) and all(isinstance(r, dict) for r in data))):
        raise InvalidInput(f"inputs file {path} must hold an object or a list of objects")
    return data


def add_to(app: typer.Typer) -> None:
    """Register this module's commands."""
    app.command("register")(register)
    app.command("versions")(versions)
    app.command("show")(show)
    app.command("verify")(verify_cmd)
    app.command("tag")(tag)
    app.command("annotate")(annotate)
    app.command("predict")(predict)
