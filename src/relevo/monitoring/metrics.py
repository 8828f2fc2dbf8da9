"""The monitors' key numbers for Prometheus, read from the store at each scrape: every replica serves
the same values, those of each service's newest monitor run, and the open alerts."""

from __future__ import annotations

import logging
from typing import Any, Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import func, select

from relevo.context import Context
from relevo.store import connect
from relevo.store.tables import alerts, monitor_runs

log = logging.getLogger(__name__)
WHERE = ["service", "environment", "window"]


class MonitoringCollector:
    """Gauges of the newest monitor run per service, environment and kind of window, and of open alerts."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def describe(self) -> list[Metric]:
        """Nothing to describe ahead: the values come from the store (prometheus_client then skips a scrape)."""
        return []

    def collect(self) -> Iterator[Metric]:
        """Read the newest runs and the open alerts; a store away gives no monitoring metrics, not an error."""
        try:
            runs, open_alerts = self._read()
        except Exception as exc:  # the gateway's own metrics must still be served
            log.warning("monitoring metrics unavailable: %s", exc)
            return
        psi = GaugeMetricFamily("relevo_monitor_psi", "PSI of an input field against the serving version's "
                                "reference profile, newest monitored window", labels=WHERE + ["field"])
        decisions = GaugeMetricFamily("relevo_monitor_decisions", "Decisions in the newest monitored window",
                                      labels=WHERE)
        window_end = GaugeMetricFamily("relevo_monitor_window_end_timestamp_seconds", "End of the newest "
                                       "monitored window", labels=WHERE)
        corrected = GaugeMetricFamily("relevo_monitor_correction_rate", "Share of reviewed decisions case workers "
                                      "corrected, newest monitored window", labels=WHERE)
        estimated = GaugeMetricFamily("relevo_monitor_estimated_accuracy", "Accuracy the model's probabilities "
                                      "predict, newest monitored window", labels=WHERE)
        ratio = GaugeMetricFamily("relevo_monitor_selection_rate_ratio", "Lowest over highest selection rate "
                                  "across a protected input's groups, newest monitored window",
                                  labels=WHERE + ["attribute"])
        for service, environment, window, end, report in runs:
            where = [service, environment, window]
            decisions.add_metric(where, report["decisions"])
            window_end.add_metric(where, end.timestamp())
            for f in report["fields"]:
                if f.get("psi") is not None:
                    psi.add_metric(where + [f["field"]], f["psi"])
            perf = report["performance"]
            if perf["corrections"]["estimate"] is not None:
                corrected.add_metric(where, perf["corrections"]["estimate"])
            if perf["estimated"]["estimate"] is not None:
                estimated.add_metric(where, perf["estimated"]["estimate"])
            for fair in report["fairness"]:
                if fair.get("ratio") and fair["ratio"]["estimate"] is not None:
                    ratio.add_metric(where + [fair["attribute"]], fair["ratio"]["estimate"])
        opened = GaugeMetricFamily("relevo_alerts_open", "Open monitoring alerts",
                                   labels=["service", "environment", "severity"])
        for (service, environment, severity), count in open_alerts.items():
            opened.add_metric([service, environment, severity], count)
        yield from (psi, decisions, window_end, corrected, estimated, ratio, opened)

    def _read(self) -> tuple[list[tuple[str, str, str, Any, dict[str, Any]]], dict[tuple[str, str, str], int]]:
        with connect(self.ctx.engine) as conn:
            newest = select(func.max(monitor_runs.c.id)).group_by(monitor_runs.c.service, monitor_runs.c.environment,
                                                                  monitor_runs.c.window)
            rows = conn.execute(select(monitor_runs.c.service, monitor_runs.c.environment, monitor_runs.c.window,
                                       monitor_runs.c.window_end, monitor_runs.c.report)
                                .where(monitor_runs.c.id.in_(newest))).all()
            counted = conn.execute(select(alerts.c.service, alerts.c.environment, alerts.c.severity, func.count())
                                   .where(alerts.c.status == "open")
                                   .group_by(alerts.c.service, alerts.c.environment, alerts.c.severity)).all()
        return ([(r.service, r.environment, r.window, r.window_end, r.report["report"]) for r in rows],
                {(s, e, sev): n for s, e, sev, n in counted})


def monitoring_registry(ctx: Context) -> CollectorRegistry:
    """A registry holding the monitoring collector, for /metrics."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(MonitoringCollector(ctx))
    return registry
