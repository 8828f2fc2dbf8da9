"""A service's deployment playbook as one document: Markdown, or a self-contained HTML page drawn from the
same data (the API and the CLI, local or remote, get the same text)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from relevo.context import Context
from relevo.playbook import Playbook, playbook_markdown, playbook_of
from relevo.web.page import templates
from relevo.web.runbook import _parts


@dataclass(frozen=True)
class PlaybookDocument:
    """A playbook written out: its text, in which format, of which spec version, generated when."""

    service: str
    format: str  # markdown | html
    spec_sha256: str
    generated_at: datetime
    text: str


def playbook_html(playbook: Playbook) -> str:
    """The playbook as one self-contained HTML page (no script, nothing loaded from elsewhere)."""
    chapters = [{"title": c.title, "text": _parts(c.text), "sections": [
        {"title": s.title, "text": _parts(s.text), "points": [_parts(p) for p in s.points], "ordered": s.ordered}
        for s in c.sections]} for c in playbook.chapters]
    return templates().get_template("playbook.html").render(
        p=playbook, chapters=chapters, plotly="", generated=playbook.generated_at.strftime("%Y-%m-%d %H:%M UTC"))


def playbook_document(ctx: Context, service: str,
                      format: Literal["markdown", "html"] = "markdown") -> PlaybookDocument:  # noqa: A002
    """The service's deployment playbook, generated now from its records, as Markdown or one HTML page."""
    playbook = playbook_of(ctx, service)
    text = playbook_html(playbook) if format == "html" else playbook_markdown(playbook)
    return PlaybookDocument(service, format, playbook.spec_sha256, playbook.generated_at, text)
