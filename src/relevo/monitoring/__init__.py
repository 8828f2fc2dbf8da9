"""Monitoring: what production decisions show about the versions that made them. Traffic summaries;
windows of decisions against the serving version's reference profile and the window before
(input and output drift, performance from feedback and from the model's probabilities, fairness by
protected group); alert rules, alerts, escalation; the schedule inside `relevo serve`."""

from relevo.monitoring.alerts import Alert, AlertChange, acknowledge_alert, list_alerts
from relevo.monitoring.metrics import monitoring_registry
from relevo.monitoring.report import Fairness, GroupRate, Interval, MonitorReport, OutputDrift, Performance
from relevo.monitoring.rules import Finding
from relevo.monitoring.schedule import MonitorSchedule
from relevo.monitoring.run import (
    MONITOR,
    Monitored,
    RunSummary,
    monitor_pass,
    monitor_run,
    monitor_runs_of,
    monitoring_report,
    run_monitors,
)
from relevo.monitoring.traffic import Answered, ShadowAgreement, TrafficSummary, traffic_summary

__all__ = ["Alert", "AlertChange", "Answered", "Fairness", "Finding", "GroupRate", "Interval", "MONITOR",
           "MonitorReport", "MonitorSchedule", "Monitored", "OutputDrift", "Performance", "RunSummary", "ShadowAgreement",
           "TrafficSummary", "acknowledge_alert", "list_alerts", "monitor_pass", "monitor_run", "monitor_runs_of",
           "monitoring_registry", "monitoring_report", "run_monitors", "traffic_summary"]
