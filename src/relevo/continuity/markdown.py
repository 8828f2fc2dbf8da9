"""A runbook as Markdown: what an owner reads, prints or keeps beside the service's other documents."""

from __future__ import annotations

from relevo.continuity.runbook import Runbook, Section


def runbook_markdown(runbook: Runbook) -> str:
    """The runbook as one Markdown document (a pure function of its data)."""
    lines = [f"# Runbook: {runbook.service}", ""]
    if runbook.description:
        lines += [runbook.description, ""]
    lines += [f"- owner: {runbook.owner or 'not named in the spec'}",
              f"- version: spec sha256 {runbook.version}",
              f"- targets: detect within {runbook.detect}, recover within {runbook.recover}",
              "- confirmed by: " + ("; ".join(f"{c.by} ({c.role}, {c.at:%Y-%m-%d %H:%M} UTC)"
                                              for c in runbook.confirmations)
                                    or f"nobody yet (relevo runbook confirm {runbook.service})"), ""]
    for section in runbook.sections:
        lines += section_markdown(section, "##")
    return "\n".join(lines)


def section_markdown(section: Section, heading: str) -> list[str]:
    """One section's lines: its heading at the level given ("##"), its text, its points."""
    lines = [f"{heading} {section.title}", ""]
    if section.text:
        lines += [section.text, ""]
    if section.points:
        lines += [f"{i}. {point}" if section.ordered else f"- {point}"
                  for i, point in enumerate(section.points, 1)] + [""]
    return lines
