"""A public notice as an HTML page: its Markdown (headings, paragraphs, lists) in the citizen's language."""

from __future__ import annotations

from relevo.web.page import templates


def _blocks(markdown: str) -> list[tuple[str, list[str]]]:
    """(kind, lines) in order: h1, h2, p or ul, from the notice's plain Markdown."""
    blocks: list[tuple[str, list[str]]] = []
    for chunk in markdown.split("\n\n"):
        lines = [line.strip() for line in chunk.strip().splitlines() if line.strip()]
        if not lines:
            continue
        if lines[0].startswith("## "):
            blocks.append(("h2", [lines[0][3:]]))
            lines = lines[1:]
        elif lines[0].startswith("# "):
            blocks.append(("h1", [lines[0][2:]]))
            lines = lines[1:]
        if lines and all(line.startswith("- ") for line in lines):
            blocks.append(("ul", [line[2:] for line in lines]))
        elif lines:
            blocks.append(("p", [" ".join(lines)]))
    return blocks


def public_notice_html(markdown: str, language: str) -> str:
    """The public notice as one self-contained HTML page (no script, nothing loaded from elsewhere)."""
    blocks = _blocks(markdown)
    title = next((lines[0] for kind, lines in blocks if kind == "h1"), "")
    return templates().get_template("notice.html").render(blocks=blocks, title=title, language=language)
