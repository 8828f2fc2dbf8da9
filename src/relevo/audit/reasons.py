"""A written reason: what every override, waiver and incident record carries, and its rule."""

from __future__ import annotations

from typing import Annotated

from pydantic import WithJsonSchema

from relevo.errors import InvalidInput

MIN_REASON = 10  # characters: a reason says why, not "ok"
# At least MIN_REASON characters once the surrounding whitespace is stripped, none of them NUL.
REASON_PATTERN = r"^\s*[^\s\u0000][^\u0000]{%d,}[^\s\u0000]\s*$" % (MIN_REASON - 2)
# A written reason (an override's, an incident's cause): the published API schema states its rule.
Reason = Annotated[str, WithJsonSchema({"type": "string", "pattern": REASON_PATTERN, "minLength": MIN_REASON,
                                        "description": f"why, in words (at least {MIN_REASON} characters)"})]


def check_reason(reason: str | None, what: str) -> str:
    """The override's reason, or InvalidInput when there is none worth the name."""
    if reason is None or len(reason.strip()) < MIN_REASON:
        raise InvalidInput(f"an override of {what} needs a written reason (at least {MIN_REASON} characters)")
    return reason.strip()
