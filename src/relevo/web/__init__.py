"""Pages people read outside the terminal: HTML reports rendered from the use cases' results, with
their charts (plotly's JavaScript from the installed package, inline: nothing loaded from a CDN)."""

from relevo.web.evidence import evidence_html
from relevo.web.monitoring import monitoring_html
from relevo.web.runbook import runbook_html

__all__ = ["evidence_html", "monitoring_html", "runbook_html"]
