"""`relevo monitor` as people use it, locally and through a remote server: a report's table and its
HTML page (self-contained: plotly inline, nothing fetched from anywhere), a pass by an operator, its
run, the alerts; the same numbers over the API and in /metrics."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import httpx

from tests.api.conftest import Served, demo_inputs
from tests.cli.test_remote_cli import RemoteCli, token_for

S = "licence-prefilter"


class _External(HTMLParser):
    """Every address a page would fetch by itself (scripts, styles, images, frames)."""

    def __init__(self) -> None:
        super().__init__()
        self.fetched: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        self.scripts += tag == "script"
        for name in ("src", "href"):
            if found.get(name) and (tag != "a"):
                self.fetched.append(found[name])


def test_a_report_prints_a_table_and_writes_a_self_contained_page(served: Served, cli, tmp_path: Path):
    for i in range(150):
        assert served.decide(demo_inputs(documents_complete=0.5 + (i % 50) / 100), case_id=f"mon-{i}").status_code == 200
    page = tmp_path / "report.html"
    printed = cli("monitor", "report", S, "--window", "1d", "--html", page).stdout
    shown = " ".join(printed.split())
    assert "150 decisions (the model 150); v1 held against its reference profile" in shown
    assert f"HTMLreportwrittento{page}" in "".join(printed.split())  # however the terminal wraps the path
    assert "applicant_id: not monitored: personal data" in shown
    html = page.read_text(encoding="utf-8")
    external = _External()
    external.feed(html)
    assert external.fetched == [] and external.scripts > 1  # plotly inline, then one script per chart
    assert "Plotly.newPlot" in html and "documents_complete" in html and "age_band: rate of admissible" in html
    assert json.loads(cli("monitor", "report", S, "--window", "1d", "--json").stdout)["report"]["decisions"] == 150

    # The same report over the API, for those who watch the service (not for the citizen portal, a
    # client: a long window is seconds of work); and by the remote CLI.
    assert served.as_("portal", "client").get(f"/v1/services/{S}/monitoring").status_code == 403
    reader = served.as_("reader", "auditor")
    answered = reader.get(f"/v1/services/{S}/monitoring", params={"window": "1d"})
    assert answered.status_code == 200 and answered.json()["report"]["decisions"] == 150
    assert reader.get(f"/v1/services/{S}/monitoring", params={"window": "a week"}).status_code == 422
    operator = RemoteCli(served.url, token_for(served.ctx, "olga", "operator"), tmp_path / "none")
    remote = json.loads(operator("monitor", "report", S, "--window", "1d", "--json").stdout)
    assert remote["report"]["fields"] == answered.json()["report"]["fields"]

    # A pass by an operator: yesterday is monitored (empty here), stored, audited, shown in /metrics.
    assert "set RELEVO_TOKEN" in cli("monitor", "run", S, ok=False).output  # a change needs a token
    ran = json.loads(operator("monitor", "run", S, "--json").stdout)
    [window] = ran
    assert window["run_id"] is not None and window["report"]["decisions"] == 0
    assert "Nothing due" in operator("monitor", "run", S).stdout
    assert str(window["run_id"]) in operator("monitor", "runs", S).stdout
    kept = tmp_path / "kept.html"
    assert "HTML report written" in cli("monitor", "show", window["run_id"], "--html", kept).stdout and kept.exists()
    assert "No open alert." in cli("monitor", "alerts").stdout and "No alert." in cli("monitor", "alerts", "--all").stdout
    assert "no alert 999" in operator("monitor", "ack", 999, "--note", "looking into the new form", ok=False).output
    metrics = httpx.get(f"{served.url}/metrics", headers={"Authorization": f"Bearer {served.token}"}).text
    assert f'relevo_monitor_decisions{{environment="production",service="{S}",window="1d"}} 0.0' in metrics
    assert "relevo_monitor_window_end_timestamp_seconds" in metrics
    assert "unknown service 'nope'" in cli("monitor", "report", "nope", ok=False).output
    nowhere = cli("monitor", "report", S, "--window", "1d", "--html", tmp_path / "no" / "such.html", ok=False).output
    assert "cannot write the HTML report to" in " ".join(nowhere.split()) and "Traceback" not in nowhere
