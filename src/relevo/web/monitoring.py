"""The monitoring report as an HTML page: which fields moved and by how much, with a chart of each
moved or compared field's distribution beside the reference's, the decisions, performance and the
selection rates by protected group with their intervals."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from relevo.monitoring import Monitored
from relevo.web.page import chart, plotly_js, templates

REFERENCE, WINDOW = "#7f8c8d", "#1f6fb2"


def _distribution(name: str, shares: Any, against: str) -> str:
    import plotly.graph_objects as go

    figure = go.Figure([go.Bar(name=against, x=shares.labels, y=shares.reference, marker_color=REFERENCE),
                        go.Bar(name="this window", x=shares.labels, y=shares.current, marker_color=WINDOW)])
    figure.update_layout(title=name, barmode="group", height=260, margin=dict(l=40, r=10, t=40, b=40),
                         yaxis_tickformat=".0%", legend=dict(orientation="h", y=-0.25))
    return chart(figure)


def _groups(fair: Any) -> str:
    import plotly.graph_objects as go

    groups = fair.groups
    figure = go.Figure(go.Bar(
        x=[g.group for g in groups], y=[g.rate for g in groups], marker_color=WINDOW,
        error_y=dict(type="data", symmetric=False, array=[g.upper - g.rate for g in groups],
                     arrayminus=[g.rate - g.lower for g in groups])))
    figure.update_layout(title=f"{fair.attribute}: rate of {fair.label}", height=260, yaxis_tickformat=".0%",
                         margin=dict(l=40, r=10, t=40, b=40))
    return chart(figure)


def monitoring_html(found: Monitored, generated: datetime | None = None) -> str:
    """The whole report as one self-contained HTML page."""
    report = found.report
    against = f"reference ({report.version})" if report.version else "reference"
    charts = {f.field: _distribution(f.field, f.shares, against) for f in report.fields if f.shares is not None}
    fairness_charts = {f.attribute: _groups(f) for f in report.fairness if f.groups}
    fields = {f.field for f in report.fields}
    moved = sorted({name for finding in found.findings for name in finding.breached if name in fields})
    return templates().get_template("monitoring.html").render(
        report=report, findings=found.findings, alerts=found.alerts, charts=charts,
        fairness_charts=fairness_charts, moved=moved, run_id=found.run_id, plotly=plotly_js(),
        generated=(generated or datetime.now(timezone.utc)).strftime("%Y-%m-%d %H:%M UTC"))
