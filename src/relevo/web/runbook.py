"""A service's runbook as an HTML page, drawn from the same data as its Markdown."""

from __future__ import annotations

from datetime import datetime, timezone

from relevo.continuity import Runbook
from relevo.web.page import templates


def _parts(text: str) -> list[tuple[bool, str]]:
    """text split at its `code` spans: (is code, text) in order."""
    return [(i % 2 == 1, part) for i, part in enumerate(text.split("`")) if part]


def runbook_html(runbook: Runbook, generated: datetime | None = None) -> str:
    """The runbook as one self-contained HTML page (no script, nothing loaded from elsewhere)."""
    sections = [{"title": s.title, "text": _parts(s.text), "points": [_parts(p) for p in s.points],
                 "ordered": s.ordered} for s in runbook.sections]
    return templates().get_template("runbook.html").render(
        r=runbook, sections=sections, plotly="",
        generated=(generated or datetime.now(timezone.utc)).strftime("%Y-%m-%d %H:%M UTC"))
