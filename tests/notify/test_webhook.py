"""Rollback notifications reach a real webhook receiver over HTTP; a dead webhook never blocks."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import yaml

from relevo.audit import read_events
from relevo.context import Context
from relevo.demo import spec_resource
from relevo.notify import Listeners, Notice, WebhookChannel
from relevo.rollouts import lifecycle
from relevo.rollouts.rollout import load_rollout
from relevo.services import parse_spec
from relevo.services.catalogue import apply_spec
from relevo.settings import Settings
from relevo.store import connect
from tests.conftest import prepare_demo, start_cleared


def test_a_rollback_is_posted_to_the_webhook_for_the_informed(settings, receiver, monkeypatch):
    """The spec's RACI names who is informed: each rollout notice says whom it is for."""
    url, received = receiver
    monkeypatch.setenv("RELEVO_WEBHOOK_URL", url)  # the setting's environment variable
    ctx = Context.open(prepare_demo(settings.model_copy(update={"webhook_url": Settings().webhook_url})))
    try:
        body = yaml.safe_load(spec_resource().read_text())
        body["roles"] = {"consulted": ["dpo"], "informed": ["case-work-lead", "citizen-desk"]}
        apply_spec(ctx, parse_spec(body, "with a RACI"))
        rollout = start_cleared(ctx, "licence-prefilter", "v3", plan="canary-only")
        rolled = lifecycle.rollback(ctx, rollout.id, "rejections up")
        [started_event] = read_events(ctx, action="rollout.started")
    finally:
        ctx.close()
    started, message = received  # the start's notice, then the rollback's; the incident was only counted
    assert started["kind"] == "rollout.started" and "v3 rollout started against v1" in started["message"]
    assert started_event.details["consulted"] == ["dpo"]  # the record names who was to be consulted
    assert message["kind"] == "rollout.rolled_back" and message["subject"] == f"licence-prefilter/rollout-{rolled.id}"
    assert message["details"]["incident_id"] == rolled.incident_id and "rejections up" in message["message"]
    assert message["actor"] == settings.actor and message["at"]
    assert started["informed"] == message["informed"] == ["case-work-lead", "citizen-desk"]


def test_a_change_that_rolls_back_tells_nobody(settings, receiver):
    """The notice goes out after the commit, never for a change the store refused."""
    url, received = receiver
    ctx = Context.open(prepare_demo(settings.model_copy(update={"webhook_url": url})))
    try:
        rollout = start_cleared(ctx, "licence-prefilter", "v3", plan="canary-only")
        assert [m["kind"] for m in received] == ["rollout.started"]
        received.clear()
        with pytest.raises(RuntimeError), connect(ctx.engine) as conn:
            lifecycle.hold(conn, ctx, load_rollout(conn, rollout.id, lock=True), "a hold that never commits")
            raise RuntimeError("the transaction fails after the hold was recorded")
        assert received == [] and load_rollout_state(ctx, rollout.id) == "running"
        with connect(ctx.engine) as conn:
            lifecycle.hold(conn, ctx, load_rollout(conn, rollout.id, lock=True), "a hold that commits")
        [message] = received
        assert message["kind"] == "rollout.held" and "a hold that commits" in message["message"]
    finally:
        ctx.close()


def load_rollout_state(ctx, rollout_id):
    with connect(ctx.engine) as conn:
        return load_rollout(conn, rollout_id).state


def test_a_dead_webhook_is_logged_not_raised(caplog):
    listeners = Listeners([WebhookChannel("http://127.0.0.1:9/none", timeout_s=1)])
    assert listeners.committed("test.action", Notice("test.action", "subject", "message")) is False
    assert "the webhook channel refused the test.action notice" in caplog.text
    assert listeners.committed("test.action") is True  # no notice: only counted
    assert listeners.registry.get_sample_value("relevo_changes_total", {"action": "test.action"}) == 2


def test_a_notice_carries_the_details_as_the_log_stores_them(settings):
    """A notice's details are the audit event's stored JSON, so every channel can send them."""
    import datetime as dt

    from relevo.audit import record_change

    class Kept:
        name = "kept"

        def __init__(self):
            self.notices = []

        def send(self, notice):
            self.notices.append(notice)

    kept = Kept()
    ctx = Context.open(prepare_demo(settings))
    ctx = replace(ctx, listeners=Listeners([kept]))
    try:
        at = dt.datetime(2026, 12, 1, 8, tzinfo=dt.timezone.utc)
        with connect(ctx.engine) as conn:
            record_change(conn, ctx, "test.noticed", "licence-prefilter/x", {"when": at}, notice="a test notice")
        [event] = read_events(ctx, action="test.noticed")
        [notice] = kept.notices
        assert notice.details == event.details == {"when": str(at)}
        assert json.loads(json.dumps(notice.as_json()))["details"] == {"when": str(at)}
    finally:
        ctx.close()
