"""A rollout's evidence pack as an HTML page a non-engineer reads: the technical documentation
under the AI Act's Annex IV headings, the checklist, approvals and overrides, tests, the judge's
verdicts over time (a chart), incidents with their regulatory clocks, the records in force, and
the audit events the pack proves."""

from __future__ import annotations

from typing import Any

from relevo.evidence import CHECK, Evidence
from relevo.web.page import chart, plotly_js, templates

# The judge's verdicts, worst at the bottom of the chart.
VERDICTS = ["fail", "not_yet", "not_applicable", "pass"]
STEP, CRITERION = "#1d2733", ["#1f6fb2", "#e08a00", "#7a4fb2", "#1e7b34", "#a61b1b", "#4f8a8b", "#b25f7a"]
ENDED = {
    "promoted": "promoted: the candidate became the stable version",
    "rolled_back": "rolled back: every case went back to the stable version",
    "aborted": "aborted: every case went back to the stable version",
    "reverted": "reverted after its promotion: the release before it is back",
    "running": "still running", "paused": "paused by a person", "held": "held: the judge waits for a person",
}


def _verdicts_chart(evidence: Evidence) -> str | None:
    """The step's verdict and each criterion's, at every moment the judge kept one."""
    if not evidence.verdicts:
        return None
    import plotly.graph_objects as go

    kept = evidence.verdicts
    figure = go.Figure(go.Scatter(
        name="the step", x=[v.at for v in kept], y=[v.verdict.value for v in kept], mode="lines+markers",
        line=dict(shape="hv", color=STEP, width=3),
        text=[f"step {v.step_index + 1} ({v.phase}): {v.decisions:,} decisions, {v.candidate_decisions:,} by the "
              f"candidate" + (f"; guard: {v.guard}" if v.guard else "") for v in kept],
        hovertemplate="%{x}<br>%{y}<br>%{text}<extra></extra>"))
    names = list(dict.fromkeys(m.name for v in kept for m in v.metrics))
    for i, name in enumerate(names):
        points = [(v.at, m) for v in kept for m in v.metrics if m.name == name]
        figure.add_trace(go.Scatter(
            name=name, x=[at for at, _ in points], y=[m.verdict.value for _, m in points], mode="lines+markers",
            line=dict(shape="hv", color=CRITERION[i % len(CRITERION)], dash="dot"),
            text=[m.reason for _, m in points], hovertemplate="%{x}<br>%{y}<br>%{text}<extra></extra>"))
    figure.update_layout(title="the judge's verdicts over time", height=340, margin=dict(l=100, r=10, t=40, b=40),
                         yaxis=dict(categoryorder="array", categoryarray=VERDICTS, type="category"),
                         legend=dict(orientation="h", y=-0.2))
    return chart(figure)


def evidence_html(evidence: Evidence) -> str:
    """The pack's report as one self-contained HTML page."""
    rollout = evidence.rollout
    approvals: list[dict[str, Any]] = [{"event": e, "what": _approval(e.action, e.details)} for e in evidence.approvals]
    return templates().get_template("evidence.html").render(
        e=evidence, rollout=rollout, ended=ENDED.get(rollout.state, rollout.state), approvals=approvals,
        verdicts_chart=_verdicts_chart(evidence), check=CHECK, plotly=plotly_js(),
        checkpoint=evidence.audit_bundle["checkpoints"][0],
        generated=evidence.generated_at.strftime("%Y-%m-%d %H:%M UTC"))


def _approval(action: str, details: dict[str, Any]) -> str:
    """An approval's event in words."""
    if action == "rollout.promoted":
        override = details.get("override")
        return ("promoted" + (" by the controller, every criterion shown" if details.get("automatic") else "")
                + (f", overriding the evidence: {override.get('reason')}" if override else ""))
    if action == "override.recorded":
        return f"override of {details.get('gate')}: {details.get('reason')}"
    item = details.get("item")
    verb = "attested" if action == "checklist.attested" else "waived"
    return f"checklist item {item} {verb} ({details.get('environment')}): {details.get('note')}" + (
        f" ({details['link']})" if details.get("link") else "")
