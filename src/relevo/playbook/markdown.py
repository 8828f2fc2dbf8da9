"""A playbook as Markdown: one document to print, keep beside the service's records, or publish."""

from __future__ import annotations

from relevo.continuity.markdown import section_markdown
from relevo.playbook.document import Playbook


def playbook_markdown(playbook: Playbook) -> str:
    """The playbook as one Markdown document (a pure function of its data)."""
    lines = [f"# Deployment playbook: {playbook.service}", ""]
    if playbook.description:
        lines += [playbook.description, ""]
    lines += [f"- owner: {playbook.owner or 'not named in the spec'}",
              f"- version: spec sha256 {playbook.spec_sha256}",
              f"- generated: {playbook.generated_at:%Y-%m-%d %H:%M} UTC, from the service's records", ""]
    for number, chapter in enumerate(playbook.chapters, 1):
        lines += [f"## {number}. {chapter.title}", ""]
        if chapter.text:
            lines += [chapter.text, ""]
        for section in chapter.sections:
            lines += section_markdown(section, "###")
    return "\n".join(lines)
