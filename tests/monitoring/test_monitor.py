"""Monitoring end to end on a real store, through the real gateway on a simulated clock: a day of the
usual applications raises nothing; a day under a new application form (shifted inputs) raises one
input-drift alert, told on a real webhook; it is escalated when nobody acknowledges it, and resolved
when the inputs are back to normal. The numbers are checked against independent references: PSI by
hand from the raw inputs, fairlearn's selection rates by group."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from fairlearn.metrics import MetricFrame, selection_rate
from prometheus_client import generate_latest
from sqlalchemy import select

from relevo.audit import read_events
from relevo.casework import record_feedback
from relevo.demo.traffic import requests
from relevo.errors import Conflict, InvalidInput, NotFound, Refused
from relevo.monitoring import MonitorSchedule, acknowledge_alert, monitoring_registry, list_alerts, monitor_pass, monitor_run, monitoring_report, run_monitors
from relevo.notify import Listeners
from relevo.settings import Settings
from relevo.registry import describe_version
from relevo.store import connect
from relevo.store.tables import decisions, profiles, versions

SERVICE = "licence-prefilter"
MONDAY = datetime(2026, 5, 11, tzinfo=timezone.utc)


def _at(clock, when: datetime) -> None:
    clock.advance(when - clock.now())


def _day(gateway, clock, day: int, n: int, seed: int, form_version: int = 1, drop: tuple[str, ...] = ()) -> None:
    """n applications spread over what is left of the day's hours 1:00 to 23:00 (a day after MONDAY),
    without the fields named in drop."""
    _at(clock, max(clock.now(), MONDAY + timedelta(days=day, hours=1)))
    step = (MONDAY + timedelta(days=day, hours=23) - clock.now()) / n
    for case_id, inputs in requests(n, seed, form_version=form_version):
        gateway.decide(SERVICE, case_id, {k: v for k, v in inputs.items() if k not in drop})
        clock.advance(step)


@pytest.fixture
def monitored(world, receiver, smtp_server):
    """The demo store, its channels as the settings make them: a real webhook receiver and e-mail
    (apprise) to a real SMTP server; the mails are on received.mails."""
    ctx, clock, gateway = world
    url, received = receiver
    port, mails = smtp_server
    received.mails = mails
    listeners = Listeners.from_settings(Settings(webhook_url=url, notify_urls=(
        f"mailto://127.0.0.1:{port}?from=relevo@city.example&to=it-team@city.example&mode=insecure")))
    return replace(ctx, listeners=listeners), clock, gateway, received


def test_a_new_application_form_raises_one_alert_until_the_inputs_are_back(monitored):
    ctx, clock, gateway, received = monitored
    _day(gateway, clock, 0, 600, seed=61)  # Monday: the usual applications
    _at(clock, MONDAY + timedelta(days=1, minutes=30))
    [monday] = monitor_pass(ctx, SERVICE)
    assert monday.report.decisions == 600 and monday.report.version == "v1"
    assert monday.report.previous is None  # nothing before Monday
    drift = {f.field: f for f in monday.report.fields}
    assert all(not f.is_breached for f in monday.findings) and monday.alerts == []
    assert drift["applicant_id"].status == "not monitored: personal data"
    assert max(f.psi for f in drift.values() if f.psi is not None) < 0.2

    _day(gateway, clock, 1, 600, seed=62, form_version=2)  # Tuesday: the new form
    _at(clock, MONDAY + timedelta(days=2, minutes=30))
    [tuesday] = monitor_pass(ctx, SERVICE)
    assert tuesday.report.previous == monday.report.window  # compared with Monday's stored run
    [opened] = tuesday.alerts
    assert opened.change == "opened" and opened.rule == "input_drift(psi > 0.2)"
    moved = {f.field for f in tuesday.report.fields if f.psi is not None and f.psi > 0.2}
    assert "documents_complete" in moved and moved <= {"documents_complete", "submission_channel"}
    assert "documents_complete" in opened.summary
    assert received[-1]["kind"] == "alert.opened" and received[-1]["severity"] == "warning"
    assert received[-1]["informed"] == ["case-worker"]  # the spec's RACI
    [mail] = received.mails  # the same alert by e-mail
    assert mail["Subject"] == f"[Relevo] warning: {SERVICE}/production/alert-{opened.alert_id}"
    assert "documents_complete" in mail.get_body(preferencelist=("plain",)).get_content()

    # /metrics shows the newest run's numbers and the open alert, read from the store.
    scraped = generate_latest(monitoring_registry(ctx)).decode()
    where = 'environment="production",service="licence-prefilter",window="1d"'
    psi = tuesday.report.field("documents_complete").psi
    assert f'relevo_monitor_psi{{environment="production",field="documents_complete",service="licence-prefilter",' \
           f'window="1d"}} {psi!r}' in scraped
    assert f"relevo_monitor_decisions{{{where}}} 600.0" in scraped
    assert 'relevo_alerts_open{environment="production",service="licence-prefilter",severity="warning"} 1.0' in scraped
    assert 'relevo_monitor_selection_rate_ratio{attribute="age_band"' in scraped
    # The same period is monitored once, however often a pass runs.
    assert monitor_pass(ctx, SERVICE) == []
    # Nobody acknowledged it for four hours: escalated, critical, told again (once).
    _at(clock, MONDAY + timedelta(days=2, hours=5))
    assert monitor_pass(ctx, SERVICE) == [] and monitor_pass(ctx, SERVICE) == []
    [alert] = list_alerts(ctx, SERVICE)
    assert alert.severity == "critical" and alert.escalated_at == clock.now()
    assert received[-1]["kind"] == "alert.escalated" and received[-1]["severity"] == "critical"

    # Wednesday: the usual applications again; the alert is resolved.
    _day(gateway, clock, 2, 600, seed=63)  # Wednesday: the usual applications again
    _at(clock, MONDAY + timedelta(days=3, minutes=30))
    [wednesday] = monitor_pass(ctx, SERVICE)
    assert [c.change for c in wednesday.alerts] == ["resolved"]
    assert list_alerts(ctx, SERVICE) == [] and list_alerts(ctx, SERVICE, status="all")[0].status == "resolved"
    actions = [e.action for e in read_events(ctx, action="alert.*", limit=50)]
    assert sorted(actions) == ["alert.escalated", "alert.opened", "alert.resolved"]
    assert len(read_events(ctx, action="monitor.ran", limit=50)) == 3
    assert [r["kind"] for r in received] == ["alert.opened", "alert.escalated", "alert.resolved"]
    stored = monitor_run(ctx, tuesday.run_id)
    assert stored.report == tuesday.report and stored.findings == tuesday.findings


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_numbers_agree_with_independent_references(world):
    ctx, clock, gateway = world
    _day(gateway, clock, 0, 800, seed=71, form_version=2)
    with connect(ctx.engine) as conn:
        rows = conn.execute(select(decisions.c.id, decisions.c.decision, decisions.c.inputs, decisions.c.arm)
                            .where(decisions.c.service == SERVICE).order_by(decisions.c.created_at)).all()
    # Case workers review every third decision and correct a third of those.
    reviewed = rows[::3]
    for i, row in enumerate(reviewed):
        other = "rejected" if row.decision == "admissible" else "admissible"
        record_feedback(ctx, row.id, decision=other if i % 3 == 0 else row.decision, reason="checked the file",
                        reviewer="case-worker")
    _at(clock, MONDAY + timedelta(days=1))
    found = monitoring_report(ctx, SERVICE, window="1d")
    report = found.report
    assert report.decisions == 800 and found.run_id is None  # a report on request records nothing

    # PSI by hand: the window's raw channels against the reference profile's counts.
    reference = describe_version(ctx, SERVICE, "v1").profile.features
    counts = reference["submission_channel"]["categories"]
    now = {c: sum(r.inputs["submission_channel"] == c for r in rows) for c in counts}
    e = {c: counts[c] / sum(counts.values()) for c in counts}
    a = {c: now[c] / len(rows) for c in counts}
    by_hand = sum((a[c] - e[c]) * math.log(a[c] / e[c]) for c in counts)
    assert report.field("submission_channel").psi == pytest.approx(by_hand, rel=1e-9)
    # KS: within its stated bound of scipy's exact two-sample KS against the reference sample itself.
    from scipy.stats import ks_2samp

    sample = _reference_sample("documents_complete")
    values = np.array([r.inputs["documents_complete"] for r in rows])
    found_ks = report.field("documents_complete")
    assert abs(found_ks.ks - ks_2samp(sample, values).statistic) <= found_ks.ks_bound

    # Selection rates by age band: fairlearn's MetricFrame on the same decisions.
    answered = [r for r in rows if r.arm == "stable"]
    frame = MetricFrame(metrics=selection_rate, y_true=[0] * len(answered),
                        y_pred=[r.decision == "admissible" for r in answered],
                        sensitive_features=[r.inputs.get("age_band") for r in answered])
    [age] = [f for f in report.fairness if f.attribute == "age_band"]
    assert {g.group: g.rate for g in age.groups} == pytest.approx(frame.by_group.to_dict(), abs=1e-12)
    assert age.ratio.estimate == pytest.approx(frame.ratio(), abs=1e-12)
    assert age.ratio.lower <= age.ratio.estimate <= age.ratio.upper
    # Corrections: a third of the reviewed ones, counted by hand.
    perf = report.performance
    assert perf.reviewed == len(reviewed) and perf.corrections.successes == len(reviewed[::3])
    assert perf.corrections.lower <= perf.corrections.estimate <= perf.corrections.upper
    assert perf.estimated.n == 800 and perf.estimated.lower <= perf.estimated.estimate <= perf.estimated.upper
    # The probabilities predicted ~85% right; case workers, told to correct a third, disagree: flagged.
    assert perf.calibration.startswith("not consistent")
    # The same data gives the same numbers.
    assert monitoring_report(ctx, SERVICE, window="1d").report == report


def _reference_sample(name: str) -> np.ndarray:
    import pyarrow.csv as pacsv

    from tests.conftest import demo_training

    [v1] = [t for t in demo_training() if t.name == "v1"]
    return pacsv.read_csv(v1.reference_data_path).column(name).to_numpy()


def _as(ctx, name: str, *roles: str):
    from relevo import identity
    from tests.api.conftest import token_for

    principal = identity.sign_in(ctx, token_for(ctx, name, *roles))
    return ctx.acting_as(principal.name, principal.grants)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_acknowledged_alert_is_not_escalated_and_each_act_needs_its_role(world):
    ctx, clock, gateway = world
    operator, portal = _as(ctx, "olga", "operator"), _as(ctx, "portal", "client")
    _day(gateway, clock, 0, 300, seed=81)
    _day(gateway, clock, 1, 300, seed=82, form_version=2)
    _at(clock, MONDAY + timedelta(days=2, minutes=30))
    with pytest.raises(Refused, match="portal does not hold the operator role"):
        run_monitors(portal, SERVICE)
    runs = run_monitors(operator, SERVICE)
    assert [w.report.window for w in runs] == ["2026-05-12 00:00 to 2026-05-13 00:00 UTC"]  # the latest period only
    [alert] = list_alerts(ctx, SERVICE)
    with pytest.raises(Refused):
        acknowledge_alert(portal, alert.id, "looking at the new form's rollout")
    with pytest.raises(InvalidInput, match="at least 10 characters"):
        acknowledge_alert(operator, alert.id, "ok")
    taken = acknowledge_alert(operator, alert.id, "the new application form went live on Tuesday; retraining")
    assert taken.acknowledged_by == "olga" and taken.acknowledgement.startswith("the new application form")
    with pytest.raises(Conflict, match="acknowledged by olga already"):
        acknowledge_alert(operator, alert.id, "the new application form went live on Tuesday")
    with pytest.raises(NotFound, match="no alert 999"):
        acknowledge_alert(operator, 999, "the new application form went live on Tuesday")
    _at(clock, MONDAY + timedelta(days=3))
    monitor_pass(ctx, SERVICE)
    [still] = list_alerts(ctx, SERVICE)
    assert still.escalated_at is None and still.severity == "warning"
    assert [e.actor for e in read_events(ctx, action="alert.acknowledged")] == ["olga"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_what_cannot_be_monitored_says_why_and_never_alarms(world):
    ctx, clock, gateway = world
    # No decision at all yet: the latest day is empty, nothing is computed, nothing fires.
    [empty] = monitor_pass(ctx, SERVICE)
    assert empty.report.decisions == 0 and empty.alerts == []
    assert all(f.status in ("not enough data", "not monitored: personal data") for f in empty.report.fields)
    assert all(f.state == "not evaluated" for f in empty.findings)
    assert empty.report.output.detail == "no previous window to compare with"

    # A day whose requests never carry the (optional) age band: its column is all missing.
    _day(gateway, clock, 0, 300, seed=91, drop=("age_band",))
    _at(clock, MONDAY + timedelta(days=1))
    report = monitoring_report(ctx, SERVICE, window="1d").report
    age = report.field("age_band")
    assert age.status == "not enough data" and age.missing_rate == 1.0 and age.psi is None
    assert "0 values in the window" in age.detail
    [fair_age] = [f for f in report.fairness if f.attribute == "age_band"]
    assert fair_age.status == "not enough data" and fair_age.ratio is None
    assert report.field("applicant_id").status == "not monitored: personal data"

    # A version registered without reference data: no field has a reference, and it says why.
    with connect(ctx.engine) as conn:
        conn.execute(profiles.delete().where(profiles.c.version_id == select(versions.c.id).where(
            versions.c.service == SERVICE, versions.c.number == 1).scalar_subquery()))
    bare = monitoring_report(ctx, SERVICE, window="1d")
    assert {f.status for f in bare.report.fields} == {"no reference", "not monitored: personal data"}
    assert "v1 was registered without reference data" in bare.report.field("district").detail
    assert [f.state for f in bare.findings if f.metric == "input_drift"] == ["not evaluated"]

    for bad, message in (({"window": "a week"}, "such as 1d, 7d or 30d"), ({"window": "5000d"}, "at most 999d"),
                         ({"last": 5}, "between 10 and")):
        with pytest.raises(InvalidInput, match=message):
            monitoring_report(ctx, SERVICE, **bad)
    with pytest.raises(NotFound, match="unknown environment 'qa'"):
        monitoring_report(ctx, SERVICE, environment="qa")
    with pytest.raises(NotFound, match="unknown service"):
        monitoring_report(ctx, "no-such-service")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_one_schedule_at_a_time_monitors_each_period_once(world):
    ctx, clock, gateway = world
    _day(gateway, clock, 0, 200, seed=101)
    _at(clock, MONDAY + timedelta(days=1, minutes=5))
    first, second = MonitorSchedule(ctx, "production"), MonitorSchedule(ctx, "production")
    try:
        [done] = first.step()
        assert done.report.window == "2026-05-11 00:00 to 2026-05-12 00:00 UTC" and done.ran_by == "relevo-monitor"
        assert second.step() is None  # the other replica stands by
        clock.advance(timedelta(hours=2))
        assert first.step() == []  # the day is done; its `every` came round, nothing else is due
        [run] = read_events(ctx, action="monitor.ran")
        assert run.actor == "relevo-monitor"
        staging = MonitorSchedule(ctx, "staging")  # another environment's gateway on the same store
        try:
            assert staging.step() == []  # monitors its own environment, beside production's leader
        finally:
            staging.close()
        first.lease.release()  # the leader stops: the other takes over
        assert second.step() == []
    finally:
        first.close()
        second.close()
