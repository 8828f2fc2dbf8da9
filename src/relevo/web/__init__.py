"""Pages people read outside the terminal: HTML reports rendered from the use cases' results, with
their charts (plotly's JavaScript from the installed package, inline: nothing loaded from a CDN)."""

from relevo.web.evidence import evidence_html
from relevo.web.monitoring import monitoring_html
from relevo.web.notice import public_notice_html
from relevo.web.playbook import PlaybookDocument, playbook_document, playbook_html
from relevo.web.runbook import runbook_html

__all__ = ["PlaybookDocument", "evidence_html", "monitoring_html", "playbook_document", "playbook_html",
           "public_notice_html", "runbook_html"]
