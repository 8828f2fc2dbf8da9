"""Alert rules fire on evidence, not on noise: simulated windows with no drift at the minimum sample
raise (almost) nothing, real drift raises the rule; an open alert resolves only once what breached is
measured again and back; windows are caught up, the last N decisions compared with the N before."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
import yaml
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from relevo.analysis.profile import profile_columns
from relevo.demo import spec_resource
from relevo.demo.traffic import requests
from relevo.monitoring import Finding, monitor_pass
from relevo.monitoring.alerts import apply_findings
from relevo.monitoring.collect import WindowData
from relevo.monitoring.report import build_report
from relevo.monitoring.rules import evaluate
from relevo.monitoring.windows import Window
from relevo.services import parse_spec
from relevo.services.catalogue import apply_spec
from relevo.services.monitoring_policy import AlertRule
from relevo.store import connect
from relevo.store.tables import monitor_runs
from relevo.web import monitoring_html

from tests.monitoring.test_monitor import MONDAY, SERVICE, _at, _day

SPEC = parse_spec({
    "name": "noise", "decisions": ["yes", "no"],
    "inputs": {"amount": {"type": "number"}, "code": {"type": "string"}, "kind": {"type": "string"}}}, "noise.yaml")
CODES = [f"c{i:02d}" for i in range(30)]


def _reference(rng: np.random.Generator) -> dict:
    return profile_columns({"amount": rng.normal(100, 15, 1000), "code": list(rng.choice(CODES, 1000)),
                            "kind": list(rng.choice(["a", "b", "c"], 1000, p=[0.6, 0.3, 0.1]))})


def _window(rng: np.random.Generator, n: int, shift: float = 0.0) -> WindowData:
    data = WindowData(Window("1d", datetime(2026, 5, 12, tzinfo=timezone.utc),
                             datetime(2026, 5, 11, tzinfo=timezone.utc)), None, decisions=n)
    data.numeric = {"amount": [rng.normal(100 + shift * 15, 15, n)]}
    kinds = rng.choice(["a", "b", "c"], n, p=[0.6 - shift / 2, 0.3, 0.1 + shift / 2])
    data.categories = {"code": Counter(rng.choice(CODES, n)), "kind": Counter(kinds)}
    return data


def _findings(reference: dict, data: WindowData, rules: list[AlertRule]) -> list[Finding]:
    report, _ = build_report(SPEC, "production", data, version="v1", reference=reference, reference_name="ref.csv",
                             previous=None, previous_label=None, min_sample=100)
    return [evaluate(rule, report, 100) for rule in rules]


def test_rules_do_not_fire_on_noise_at_the_minimum_sample_but_do_on_drift():
    rng = np.random.default_rng(12)
    reference = _reference(rng)
    rules = [AlertRule(metric="input_drift", threshold=0.2),  # the default: PSI above 0.2
             AlertRule(metric="input_drift", statistic="js", threshold=0.1),
             AlertRule(metric="input_drift", statistic="ks", threshold=0.1),
             AlertRule(metric="input_drift", statistic="wasserstein", threshold=0.1)]
    runs = 300
    fired = Counter()
    raw_psi_over = 0
    for _ in range(runs):
        found = _findings(reference, _window(rng, 100), rules)
        fired.update(f.rule for f in found if f.is_breached)
        raw_psi_over += any(v > 0.2 for v in found[0].values.values())
    # A hundred cases over thirty categories: PSI is above 0.2 by noise alone nearly every time...
    assert raw_psi_over / runs > 0.9
    # ...and no rule fires on it more often than its 1% (the interval of 300 runs allows 3%).
    assert all(count / runs <= 0.03 for count in fired.values()), fired
    # A real shift (a standard deviation, and kind c tripled) at the same sample fires each rule.
    moved = _findings(reference, _window(rng, 400, shift=1.0), rules)
    assert all(f.is_breached for f in moved), [f.summary for f in moved]
    assert {"amount", "kind"} >= set(moved[0].breached) and "amount" in moved[2].breached


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_alert_resolves_only_when_what_breached_is_back(world):
    ctx, clock, gateway = world
    [first] = monitor_pass(ctx, SERVICE)  # an empty day: a run for the alerts to hang on
    spec = parse_spec(yaml.safe_load(spec_resource().read_text()), "spec")
    rule = "input_drift(psi > 0.2)"

    def apply(state, breached=(), normal=()):
        found = Finding(rule, "input_drift", "warning", state, state, {}, list(breached), list(normal))
        with connect(ctx.engine) as conn:
            return [c.change for c in apply_findings(conn, ctx, spec, "production", first.run_id, "w", [found])]

    assert apply("breached", ["documents_complete"]) == ["opened"]
    assert apply("normal", normal=["district"]) == []  # the field that moved was not measured again
    assert apply("holding", normal=["documents_complete"]) == []
    assert apply("normal", normal=["district", "documents_complete"]) == ["resolved"]
    # An alert whose rule left the spec is resolved by the next pass, saying so.
    assert apply("breached", ["district"]) == ["opened"]
    body = yaml.safe_load(spec_resource().read_text())
    body["monitoring"] = {"alerts": [{"metric": "input_drift", "threshold": 0.3}]}
    apply_spec(ctx, parse_spec(body, "spec"))
    changed = parse_spec(body, "spec")
    with connect(ctx.engine) as conn:
        gone = apply_findings(conn, ctx, changed, "production", first.run_id, "w", [])
    assert [(c.change, c.summary) for c in gone] == [("resolved", "its rule is no longer in the spec")]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_missed_periods_are_caught_up_and_each_period_is_stored_once(world):
    ctx, clock, gateway = world
    for day in range(4):
        _day(gateway, clock, day, 120, seed=110 + day)
        if day == 0:
            _at(clock, MONDAY + timedelta(days=1, minutes=1))
            assert [w.report.window[:10] for w in monitor_pass(ctx, SERVICE)] == ["2026-05-11"]
    _at(clock, MONDAY + timedelta(days=4, minutes=1))  # the schedule was away for three days
    caught = monitor_pass(ctx, SERVICE)
    assert [w.report.window[:10] for w in caught] == ["2026-05-12", "2026-05-13", "2026-05-14"]
    assert [w.report.decisions for w in caught] == [120, 120, 120]
    assert caught[0].report.previous.startswith("2026-05-11")  # held against the stored Monday
    # The same period cannot be stored twice, whichever replica comes second.
    with connect(ctx.engine) as conn, pytest.raises(IntegrityError):
        row = conn.execute(monitor_runs.select().where(monitor_runs.c.id == caught[0].run_id)).mappings().one()
        conn.execute(insert(monitor_runs).values({k: v for k, v in row.items() if k != "id"}))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_last_decisions_are_held_against_the_ones_before(world):
    ctx, clock, gateway = world
    body = yaml.safe_load(spec_resource().read_text())
    body["monitoring"] = {"last": 200, "every": "10m"}
    apply_spec(ctx, parse_spec(body, "spec"))
    gateway.refresh()
    for case_id, inputs in requests(200, seed=120):
        gateway.decide(SERVICE, case_id, inputs)
        clock.advance(timedelta(minutes=1))
    for case_id, inputs in requests(200, seed=121, form_version=2):
        gateway.decide(SERVICE, case_id, inputs)
        clock.advance(timedelta(minutes=1))
    [run] = monitor_pass(ctx, SERVICE)
    assert run.report.decisions == 200 and run.report.window.startswith("the last 200 decisions")
    assert run.report.previous.startswith("the last 200 decisions before")
    assert run.report.field("submission_channel", against="previous").n == 200
    assert [f.rule for f in run.findings if f.is_breached] == ["input_drift(psi > 0.2)"]


def test_the_html_marks_only_the_fields_that_moved():
    rng = np.random.default_rng(3)
    reference = _reference(rng)
    data = _window(rng, 400, shift=1.0)
    report, _ = build_report(SPEC, "production", data, version="v1", reference=reference, reference_name="ref.csv",
                             previous=None, previous_label=None, min_sample=100)
    findings = [evaluate(AlertRule(metric="input_drift", threshold=0.2), report, 100)]
    from relevo.monitoring import Monitored

    html = monitoring_html(Monitored(None, report, findings))
    assert f"Moved: {', '.join(sorted(findings[0].breached))}." in html and "code" not in findings[0].breached
