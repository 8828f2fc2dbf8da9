"""Annotations: corrections and remarks added to a version whose metadata never changes."""

from __future__ import annotations

from relevo.audit import record_change
from relevo.context import Context
from relevo.identity import require_grant
from relevo.errors import InvalidInput
from relevo.registry.queries import resolve_version
from relevo.store import connect
from relevo.store.tables import annotations


def annotate_version(ctx: Context, service: str, ref: str, note: str, field: str | None = None) -> int:
    """Attach a note (optionally about one metadata field) to a version (publishers); returns its id."""
    require_grant(ctx, "publisher", service)
    if not note.strip():
        raise InvalidInput("an annotation needs a non-empty note")
    with connect(ctx.engine) as conn:
        record = resolve_version(conn, service, ref)
        if field is not None and field.split(".")[0] not in type(record.metadata).model_fields:
            known = ", ".join(type(record.metadata).model_fields)
            raise InvalidInput(f"unknown metadata field {field!r}; fields are: {known}")
        now = ctx.clock.now()
        note_id = conn.execute(annotations.insert().values(
            version_id=record.id, field=field, note=note, author=ctx.actor, at=now)).inserted_primary_key[0]
        record_change(conn, ctx, at=now, action="version.annotated",
                     subject=f"{service}/{record.name}", details={"annotation_id": note_id, "field": field, "note": note})
    return note_id
