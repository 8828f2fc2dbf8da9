"""The drill schedule: due dates in the service's time zone across daylight saving, what makes a due date
overdue (a scenario without a passed drill in its period, a failed drill not counting), the alert told on a
real SMTP server once per due date however many schedules tick, and a bad cron refused naming its field."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from relevo.audit import read_events
from relevo.clock import SimulatedClock
from relevo.context import Context
from relevo.drills import Drill, drill_schedule, record_drill, remind_overdue_drills
from relevo.drills.schedule import due_dates
from relevo.errors import InvalidInput
from relevo.monitoring import MonitorSchedule
from relevo.notify import Listeners
from relevo.rollouts.leadership import Lease
from relevo.services import parse_spec
from relevo.services.catalogue import apply_spec
from relevo.settings import Settings
from relevo.store import connect, upgrade

UTC = timezone.utc
MADRID = ZoneInfo("Europe/Madrid")
S = "permits"
SPEC = {"name": S, "roles": {"operators": ["olga"], "informed": ["case-worker"]},
        "windows": {"timezone": "Europe/Madrid", "slots": [{"days": ["mon"], "start": "07:00", "end": "11:00"}]},
        "runbook": {"drills": {"scenarios": ["bad-candidate", "model-down"], "grace": "7d"}}}
JAN_DEADLINE = datetime(2027, 1, 8, 8, tzinfo=UTC)  # 2027-01-01 09:00 Madrid (CET) and seven days


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def drilled(settings):
    """A store declaring S on 2026-12-15, on a simulated clock."""
    upgrade(settings.resolved_database_url())
    clock = SimulatedClock(utc(2026, 12, 15, 10))
    ctx = Context.open(settings, clock=clock)
    apply_spec(ctx, parse_spec(SPEC, "permits.yaml"))
    yield ctx, clock
    ctx.close()


def drill(ctx: Context, scenario: str, at: datetime, outcome: str = "passed", environment: str = "staging") -> None:
    """Record a drill of scenario started at `at`, as the runner would."""
    done = Drill(S, environment, scenario, "simulated", outcome, 30.0, 120.0, 3600.0, 14400.0, 200, 0, 0,
                            at, at + timedelta(minutes=20), "olga", {"findings": [] if outcome == "passed" else ["slow"]})
    with connect(ctx.engine) as conn:
        record_drill(conn, ctx, done)


def test_due_dates_are_local_times_across_daylight_saving():
    quarterly = due_dates("0 9 1 1,4,7,10 *", MADRID, utc(2026, 12, 1))
    assert [next(quarterly) for _ in range(3)] == [utc(2027, 1, 1, 8), utc(2027, 4, 1, 7), utc(2027, 7, 1, 7)]
    nightly = due_dates("30 2 * * *", MADRID, utc(2027, 3, 27))
    # 2027-03-28 02:30 does not exist: due at the first minute after the change (03:00 CEST).
    assert [next(nightly) for _ in range(3)] == [utc(2027, 3, 27, 1, 30), utc(2027, 3, 28, 1), utc(2027, 3, 29, 0, 30)]
    autumn = due_dates("30 2 * * *", MADRID, utc(2027, 10, 30))
    # 2027-10-31 02:30 happens twice: due once, at the first.
    assert [next(autumn) for _ in range(3)] == [utc(2027, 10, 30, 0, 30), utc(2027, 10, 31, 0, 30),
                                                utc(2027, 11, 1, 1, 30)]
    back = due_dates("0 9 1 1,4,7,10 *", MADRID, utc(2027, 4, 1, 7), backwards=True)
    assert next(back) == utc(2027, 1, 1, 8)  # before, not at


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_overdue_after_the_grace_while_a_scenario_has_no_passed_drill(drilled):
    ctx, clock = drilled
    found = drill_schedule(ctx, S, 2)
    assert found.timezone == "Europe/Madrid" and found.next_due == [utc(2027, 1, 1, 8), utc(2027, 4, 1, 7)]
    assert not found.overdue and found.checked_due is None and "first is 2027-01-01 09:00" in found.reason
    drill(ctx, "bad-candidate", utc(2026, 12, 20))  # early: counts for January
    drill(ctx, "model-down", utc(2027, 1, 5), outcome="failed")  # a failed drill never counts
    clock.advance(JAN_DEADLINE - clock.now())
    assert not drill_schedule(ctx, S).overdue  # not before the grace has ended
    clock.advance(timedelta(minutes=1))
    found = drill_schedule(ctx, S)
    assert found.overdue and found.checked_due == utc(2027, 1, 1, 8) and found.last_due == utc(2027, 1, 1, 8)
    assert [(s.scenario, s.overdue) for s in found.scenarios] == [("bad-candidate", False), ("model-down", True)]
    assert "no passed drill of model-down since the service was declared" in found.reason
    model_down = found.scenarios[1]
    assert model_down.last_passed is None and model_down.last_failed.started_at == utc(2027, 1, 5)

    drill(ctx, "model-down", utc(2027, 1, 10), environment="production")  # late: made up, and counts for April
    found = drill_schedule(ctx, S)
    assert not found.overdue and found.open_due == utc(2027, 4, 1, 7) and found.open_since == JAN_DEADLINE
    assert [(s.scenario, s.done) for s in found.scenarios] == [("bad-candidate", False), ("model-down", True)]
    clock.advance(utc(2027, 4, 8, 7, 1) - clock.now())  # April's grace over: bad-candidate missing since January's
    found = drill_schedule(ctx, S)
    assert found.overdue and "no passed drill of bad-candidate since 2027-01-08 09:00 Europe/Madrid" in found.reason


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_not_overdue_when_each_scenario_passed_in_the_period(drilled):
    ctx, clock = drilled
    drill(ctx, "bad-candidate", utc(2027, 1, 2))
    drill(ctx, "model-down", utc(2027, 1, 7, 23))  # within the grace
    clock.advance(utc(2027, 2, 1) - clock.now())
    found = drill_schedule(ctx, S)
    assert not found.overdue and found.checked_due == utc(2027, 1, 1, 8)
    assert "every scenario passed for the due date 2027-01-01 09:00" in found.reason
    assert remind_overdue_drills(ctx) == []


def test_the_overdue_drill_reaches_a_real_smtp_server_once_per_due_date(drilled, smtp_server):
    ctx, clock = drilled
    port, mails = smtp_server
    told = replace(ctx, listeners=Listeners.from_settings(Settings(notify_urls=(
        f"mailto://127.0.0.1:{port}?from=relevo@city.example&to=it-team@city.example&mode=insecure"))))
    drill(ctx, "bad-candidate", utc(2027, 1, 2))
    clock.advance(JAN_DEADLINE + timedelta(hours=1) - clock.now())
    ttl = timedelta(seconds=30)
    schedules = [MonitorSchedule(told, "production", lease=Lease(told, ttl, holder=f"replica-{i}", name="monitoring"))
                 for i in (1, 2)]
    assert [s.step() is not None for s in schedules] == [True, False]  # one leads
    [mail] = mails
    assert mail["Subject"].startswith(f"[Relevo] warning: {S}/drills")
    body = mail.get_body(preferencelist=("plain",)).get_content()
    assert "drills OVERDUE" in body and "model-down" in body and "2027-01-01 09:00 Europe/Madrid" in body

    # Replicas racing past the lease (it expired meanwhile) still tell a due date once.
    clock.advance(ttl * 2)
    racers = [threading.Thread(target=remind_overdue_drills, args=(told,)) for _ in range(2)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join()
    assert [s.step() is not None for s in schedules] == [True, False]
    assert len(mails) == 1
    [event] = read_events(ctx, action="drill.overdue")
    assert event.details["missing"] == ["model-down"] and event.details["due_at"] == "2027-01-01T08:00:00+00:00"

    clock.advance(utc(2027, 4, 8, 8) - clock.now())  # April's grace over with nothing run: told again
    schedules[0].step()
    assert len(mails) == 2 and "2027-04-01 09:00" in mails[1].get_body(preferencelist=("plain",)).get_content()


def test_a_cron_expression_that_does_not_parse_is_refused_naming_the_field(tmp_path):
    from relevo.services import load_spec

    path = tmp_path / "permits.yaml"
    path.write_text("name: permits\nrunbook:\n  drills:\n    schedule: \"0 9 1 13 *\"\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"runbook\.drills\.schedule.*not a cron expression of five fields"):
        load_spec(path)
    with pytest.raises(InvalidInput, match=r"runbook\.drills\.schedule.*never comes"):
        parse_spec({"name": "permits", "runbook": {"drills": {"schedule": "0 9 30 2 *"}}}, "permits.yaml")
