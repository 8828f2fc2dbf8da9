"""A real Prometheus scrapes the API's /metrics and sees the decisions sent (needs the `prometheus` binary)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from relevo.demo import SERVICE_NAME
from relevo.settings import Settings

from tests.api.conftest import demo_inputs, free_port, running_api
from tests.conftest import prepare_demo

pytestmark = pytest.mark.prometheus

PROMETHEUS = shutil.which("prometheus")
REQUIRE = os.environ.get("RELEVO_REQUIRE_PROMETHEUS") == "1"


def _wait_for(what: str, timeout: float, probe):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = probe()
            if last:
                return last
        except httpx.TransportError as exc:
            last = exc
        time.sleep(0.2)
    raise AssertionError(f"{what} within {timeout:.0f} s (last: {last!r})")


def test_prometheus_scrapes_the_decision_counter(tmp_path: Path):
    if PROMETHEUS is None:
        reason = "the prometheus binary is not on PATH (Debian/Ubuntu: apt-get install prometheus)"
        if REQUIRE:
            pytest.fail(reason + "; RELEVO_REQUIRE_PROMETHEUS=1")
        pytest.skip(reason)
    settings = prepare_demo(Settings(home=tmp_path / "home", actor="tester"))
    with running_api(settings) as api:
        target = api.url.removeprefix("http://")
        config = tmp_path / "prometheus.yml"
        config.write_text(
            "global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}\n"
            "scrape_configs:\n"
            f"  - {{job_name: relevo, metrics_path: /metrics, static_configs: [{{targets: ['{target}']}}],\n"
            f"     authorization: {{type: Bearer, credentials: '{api.token}'}}}}\n")  # /metrics needs a token
        port = free_port()
        prom_url = f"http://127.0.0.1:{port}"
        log = (tmp_path / "prometheus.log").open("w")
        proc = subprocess.Popen([PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                                 f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
                                stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_for("Prometheus ready", 30, lambda: httpx.get(f"{prom_url}/-/ready", timeout=2).status_code == 200
                      or proc.poll() is not None)
            assert proc.poll() is None, (tmp_path / "prometheus.log").read_text()
            sent = 6
            for i in range(sent):
                assert api.decide(demo_inputs(), case_id=f"p-{i}").status_code == 200

            def scraped():
                body = httpx.get(f"{prom_url}/api/v1/query", params={"query": "relevo_decisions_total"},
                                 timeout=5).json()
                assert body["status"] == "success", body
                results = body["data"]["result"]
                if sum(float(r["value"][1]) for r in results) == sent:
                    return results
                return None

            [series] = _wait_for(f"Prometheus to report {sent} decisions", 30, scraped)
            labels = series["metric"]
            assert (labels["__name__"], labels["job"], labels["service"], labels["version"], labels["served_by"]) == (
                "relevo_decisions_total", "relevo", SERVICE_NAME, "v1", "version")
            targets = httpx.get(f"{prom_url}/api/v1/targets", timeout=5).json()["data"]["activeTargets"]
            assert [t["health"] for t in targets] == ["up"]
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()
