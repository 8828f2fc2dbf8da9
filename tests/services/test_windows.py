"""Maintenance windows: the calculation across daylight saving, holidays and blackouts, the
spec's refusals, and the rollout controller's gate."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import holidays
import pytest
import yaml

from relevo.analysis.judge import Verdict
from relevo.demo import SERVICE_NAME as SERVICE
from relevo.demo import spec_resource
from relevo.errors import InvalidInput, Refused
from relevo.rollouts import controller, rollback, rollout_status
from relevo.rollouts.judgement import StepJudgement
from relevo.rollouts.lifecycle import start_rollout
from relevo.services import service_windows
from relevo.services.catalogue import apply_spec, rules_digest, spec_digest
from relevo.services.spec import parse_spec
from relevo.services.window_policy import WindowPolicy
from relevo.services.windows import is_open, next_openings, waiting_reason
from tests.conftest import start_cleared

MADRID = {"timezone": "Europe/Madrid", "slots": [{"days": ["mon", "tue", "wed", "thu"], "start": "07:00",
                                                  "end": "11:00"}]}


def policy(**changes) -> WindowPolicy:
    return WindowPolicy.model_validate(MADRID | changes)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_a_slot_in_the_hour_spring_skips_does_not_happen_and_autumn_repeats_it():
    night = policy(slots=[{"days": ["sun"], "start": "02:00", "end": "03:00"}])
    first = next_openings(night, utc(2027, 3, 27), 1)[0]
    assert first.local_start.date() == date(2027, 4, 4)  # 2027-03-28's 02:00-03:00 does not exist
    assert first.end - first.start == timedelta(hours=1)
    fall = next_openings(night, utc(2027, 10, 30), 1)[0]
    # On 2027-10-31 02:00-03:00 happens twice: the slot spans both, from 00:00 to 02:00 UTC.
    assert (fall.start, fall.end) == (utc(2027, 10, 31, 0), utc(2027, 10, 31, 2))
    assert is_open(night, utc(2027, 10, 31, 1, 30)) and not is_open(night, utc(2027, 3, 28, 1, 30))
    across = policy(slots=[{"days": ["sun"], "start": "01:30", "end": "02:30"}])
    short = next_openings(across, utc(2027, 3, 27), 1)[0]
    assert (short.start, short.end) == (utc(2027, 3, 28, 0, 30), utc(2027, 3, 28, 1))  # until the change


def test_openings_keep_their_local_time_across_the_change():
    week = next_openings(policy(), utc(2027, 3, 24, 12), 3)  # Wed 24 March 2027, after the slot
    assert [o.local_start.strftime("%a %d %H:%M") for o in week] == ["Thu 25 07:00", "Mon 29 07:00", "Tue 30 07:00"]
    assert [o.start.hour for o in week] == [6, 5, 5]  # CET, then CEST


def test_regional_holidays_close_the_window_of_their_region_alone():
    md = policy(holidays={"country": "ES", "subdivision": "MD"})
    ct = policy(holidays={"country": "ES", "subdivision": "CT"})
    madrid_only = date(2027, 5, 3)  # Monday after Madrid's day
    national = date(2027, 10, 12)  # Tuesday, Spain's national day
    assert madrid_only in holidays.Spain(subdiv="MD") and madrid_only not in holidays.Spain(subdiv="CT")
    assert national in holidays.Spain(subdiv="MD") and national in holidays.Spain(subdiv="CT")
    at = {d: utc(d.year, d.month, d.day, 7) for d in (madrid_only, national)}  # 09:00 in Madrid
    assert not is_open(md, at[madrid_only]) and is_open(ct, at[madrid_only])
    assert not is_open(md, at[national]) and not is_open(ct, at[national])
    assert is_open(policy(), at[national])
    local = policy(local_holidays=["2027-05-04"])
    assert not is_open(local, utc(2027, 5, 4, 7)) and is_open(local, utc(2027, 5, 3, 7))


def test_blackouts_cut_openings():
    closed = policy(blackouts=[{"start": "2027-06-01T08:00:00", "end": "2027-06-02T09:00:00", "reason": "filing"}])
    first, second = next_openings(closed, utc(2027, 6, 1), 2)
    assert (first.local_start.hour, first.local_end.hour) == (7, 8)  # Tue 1 June, until the blackout
    assert (second.local_start.hour, second.local_end.hour) == (9, 11)  # Wed 2 June, after it
    assert "2027-06-03 07:00 Europe/Madrid" in waiting_reason(closed, utc(2027, 6, 2, 12))
    assert waiting_reason(None, utc(2027, 6, 2, 12)) is None  # no windows: always open


@pytest.mark.parametrize("change, message", [
    ({"timezone": "Europe/Madird"}, "windows.timezone 'Europe/Madird' is not an IANA time zone"),
    ({"holidays": {"country": "ES", "subdivision": "XX"}}, "is not a subdivision of ES: one of AN, AR"),
    ({"holidays": {"country": "QQ"}}, "windows.holidays.country 'QQ'"),
    ({"slots": [{"days": [], "start": "07:00", "end": "11:00"}]}, "a window that never opens: it names no day"),
    ({"slots": [{"days": ["mon"], "start": "07:00", "end": "07:00"}]}, "a window that never opens: it starts at 07:00"),
    ({"slots": []}, "a window that never opens"),
])
def test_bad_windows_are_refused_naming_the_problem(change, message):
    body = yaml.safe_load(spec_resource().read_text()) | {"windows": MADRID | change}
    with pytest.raises(InvalidInput, match="windows") as refused:
        parse_spec(body, "spec.yaml")
    assert message in str(refused.value)


def test_windows_leave_the_digest_of_specs_without_them_and_the_rules_alone():
    body = yaml.safe_load(spec_resource().read_text())
    plain, windowed = parse_spec(body, "a"), parse_spec(body | {"windows": MADRID}, "b")
    assert "windows" not in plain.model_dump(mode="json", exclude={"windows"})
    assert spec_digest(plain) != spec_digest(windowed) and rules_digest(plain) == rules_digest(windowed)


def at(clock, moment: datetime) -> None:
    clock.advance(moment - clock.now())


def _passing(monkeypatch):
    judgement = StepJudgement(Verdict.PASS, [], None, 0, 0)
    monkeypatch.setattr(controller, "judge_rollout", lambda ctx, rollout: judgement)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the gate reads no SQL of its own
def test_a_rollout_starts_and_advances_only_inside_a_window_and_rolls_back_at_any_time(world, monkeypatch):
    ctx, clock, _gateway = world
    body = yaml.safe_load(spec_resource().read_text()) | {"windows": MADRID}
    body["roles"] = {"operators": ["olga", "abel"], "approvers": ["abel"]}
    apply_spec(ctx, parse_spec(body, "windows"))
    olga = ctx.acting_as("olga")
    at(clock, utc(2027, 3, 20, 12))  # Saturday: closed
    with pytest.raises(Refused, match="start at the next maintenance window at 2027-03-22 07:00 Europe/Madrid"):
        start_cleared(olga, SERVICE, "v2", plan="canary-only")
    with pytest.raises(Refused, match="approver"):  # an override is an approver's
        start_rollout(olga, SERVICE, "v2", plan="canary-only", outside_window="the licensing board asked for it")
    at(clock, utc(2027, 3, 25, 7))  # Thursday 08:00 in Madrid: open
    rollout = start_cleared(olga, SERVICE, "v2", plan="canary-only")
    monkeypatch.setattr(controller, "judge_rollout", lambda ctx, rollout: StepJudgement(Verdict.PASS, [], None, 0, 0))
    at(clock, utc(2027, 3, 27, 12))  # Saturday, the canary's 48 hours over: closed
    waiting = controller.reconcile(ctx, rollout.id)
    assert (waiting.state, waiting.step_index) == ("running", 0)
    assert waiting.hold_reason == "waiting for the next maintenance window at 2027-03-29 07:00 Europe/Madrid"
    assert rollout_status(ctx, SERVICE, "production").hold_reason == waiting.hold_reason
    listed = service_windows(ctx, SERVICE, 2)
    assert not listed.open_now and listed.openings[0].local_start.isoformat() == "2027-03-29T07:00:00+02:00"
    at(clock, utc(2027, 3, 29, 5))  # Monday 07:00 CEST: the window opens
    moved = controller.reconcile(ctx, rollout.id)
    assert moved.step_index == 1 and moved.hold_reason != waiting.hold_reason
    at(clock, utc(2027, 4, 3, 12))  # Saturday again: a rollback is never held back
    assert rollback(olga, rollout.id, "the operator stops it").state == "rolled_back"
