"""Tags (aliases such as stable and candidate) that move between versions, every move recorded."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import Connection, select

from relevo.audit import record_change
from relevo.context import Context
from relevo.errors import InvalidInput
from relevo.registry.queries import resolve_version, version_names
from relevo.store import connect
from relevo.store.tables import tag_moves, tags

TAG = re.compile(r"^[a-z][a-z0-9._-]{0,99}$")
LOOKS_LIKE_VERSION = re.compile(r"^v?\d+$")


def check_tag_name(tag: str) -> str:
    """A valid tag name, or InvalidInput saying why not."""
    if not TAG.match(tag) or LOOKS_LIKE_VERSION.match(tag):
        raise InvalidInput(
            f"invalid tag {tag!r}: use lowercase letters, digits, '.', '_' or '-', starting with a "
            "letter, and not a version name such as v3"
        )
    return tag


def move_tag_in(conn: Connection, ctx: Context, service: str, tag: str, version_id: int, *, at: datetime) -> bool:
    """Point tag at version_id inside the caller's transaction; False if it already pointed there."""
    check_tag_name(tag)
    current = conn.execute(
        select(tags.c.version_id).where(tags.c.service == service, tags.c.tag == tag).with_for_update()
    ).scalar()
    if current == version_id:
        return False
    if current is None:
        conn.execute(tags.insert().values(service=service, tag=tag, version_id=version_id, moved_at=at, moved_by=ctx.actor))
    else:
        conn.execute(tags.update().where(tags.c.service == service, tags.c.tag == tag).values(
            version_id=version_id, moved_at=at, moved_by=ctx.actor))
    conn.execute(tag_moves.insert().values(
        service=service, tag=tag, from_version_id=current, to_version_id=version_id, at=at, actor=ctx.actor))
    names = version_names(conn, {version_id, current})
    record_change(conn, ctx, at=at, action="tag.moved", subject=f"{service}/{tag}",
                 details={"from": names.get(current), "to": names[version_id]})
    return True


def remove_tag_in(conn: Connection, ctx: Context, service: str, tag: str, version_id: int, *, at: datetime) -> bool:
    """Take tag off version_id inside the caller's transaction (recorded as a move to no version);
    False if it did not point there."""
    current = conn.execute(
        select(tags.c.version_id).where(tags.c.service == service, tags.c.tag == tag).with_for_update()
    ).scalar()
    if current != version_id:
        return False
    conn.execute(tags.delete().where(tags.c.service == service, tags.c.tag == tag))
    conn.execute(tag_moves.insert().values(
        service=service, tag=tag, from_version_id=current, to_version_id=None, at=at, actor=ctx.actor))
    record_change(conn, ctx, at=at, action="tag.removed", subject=f"{service}/{tag}",
                  details={"from": version_names(conn, {current})[current]})
    return True


def move_tag(ctx: Context, service: str, tag: str, ref: str) -> bool:
    """Point tag at the version named by ref (v3, 3 or another tag); audited."""
    check_tag_name(tag)
    with connect(ctx.engine) as conn:
        record = resolve_version(conn, service, ref)
        return move_tag_in(conn, ctx, service, tag, record.id, at=ctx.clock.now())
