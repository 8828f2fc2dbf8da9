"""The team's channels, each against a real receiver on 127.0.0.1: e-mail through apprise to a real
SMTP server, Alertmanager's API payload to a real HTTP server, the escalation channel; a channel
that fails is logged and never stops the others; a URL apprise cannot read is named without its
secret."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from relevo.errors import InvalidInput
from relevo.notify import AlertmanagerChannel, AppriseChannel, Listeners, Notice
from relevo.settings import Settings

AT = datetime(2026, 11, 30, 9, 30, tzinfo=timezone.utc)


def _alert(kind: str, **details) -> Notice:
    return Notice(kind, "licence-prefilter/production/alert-3", "licence-prefilter (production): PSI against the "
                  "reference above 0.2: documents_complete 0.41", {
                      "alert_id": 3, "rule": "input_drift(psi > 0.2)", "severity": "warning",
                      "environment": "production", "service": "licence-prefilter", **details},
                  "relevo-monitor", AT, ("case-worker",))


def _mailto(port: int) -> str:
    return f"mailto://127.0.0.1:{port}?from=relevo@city.example&to=it-team@city.example&mode=insecure"


def test_an_alert_is_mailed_through_a_real_smtp_server(smtp_server):
    port, messages = smtp_server
    listeners = Listeners.from_settings(Settings(notify_urls=_mailto(port)))
    assert listeners.tell(_alert("alert.opened"))
    [mail] = messages
    assert mail["X-Envelope-To"] == "it-team@city.example" and mail["From"] == "relevo@city.example"
    assert mail["Subject"] == "[Relevo] warning: licence-prefilter/production/alert-3"
    body = mail.get_body(preferencelist=("plain",)).get_content()
    assert "documents_complete 0.41" in body and "For: case-worker." in body and "alert.opened" in body


def test_only_escalations_and_their_end_reach_the_escalation_channel(smtp_server):
    port, messages = smtp_server
    listeners = Listeners.from_settings(Settings(notify_escalation_urls=_mailto(port)))
    listeners.tell(_alert("alert.opened"))
    listeners.tell(_alert("alert.resolved", escalated=False))
    assert messages == []
    listeners.tell(_alert("alert.escalated", severity="critical", was="warning"))
    listeners.tell(_alert("alert.resolved", severity="critical", escalated=True))
    escalated, resolved = messages
    assert escalated["Subject"].startswith("[Relevo] critical:") and resolved["Subject"].startswith("[Relevo] critical:")


def test_alertmanager_gets_alerts_that_fire_until_resolved(receiver):
    url, received = receiver
    channel = AlertmanagerChannel(url.rsplit("/", 1)[0])
    channel.send(_alert("alert.opened"))
    channel.send(_alert("alert.escalated", severity="critical", was="warning", opened_at=AT.isoformat()))
    channel.send(_alert("alert.resolved", opened_at=AT.isoformat()))
    channel.send(_alert("alert.acknowledged"))  # nothing Alertmanager holds changes
    assert received.paths == ["/api/v2/alerts"] * 3
    opened, escalated, resolved = received
    for alerts in received:  # the API's PostableAlerts: labels and annotations map text to text
        for alert in alerts:
            assert set(alert) == {"labels", "annotations", "startsAt", "endsAt", "generatorURL"}
            assert all(isinstance(v, str) for v in {**alert["labels"], **alert["annotations"]}.values())
            assert datetime.fromisoformat(alert["startsAt"]) <= datetime.fromisoformat(alert["endsAt"])
    [fired] = opened
    assert fired["labels"] == {"alertname": "relevo_alert", "service": "licence-prefilter", "environment": "production",
                               "severity": "warning", "rule": "input_drift(psi > 0.2)", "alert_id": "3"}
    assert datetime.fromisoformat(fired["endsAt"]) - AT == timedelta(days=7)
    # Escalated: the warning ends now, the same alert fires on as critical.
    ended, critical = escalated
    assert ended["labels"]["severity"] == "warning" and ended["endsAt"] == AT.isoformat()
    assert critical["labels"]["severity"] == "critical" and critical["endsAt"] > AT.isoformat()
    [done] = resolved
    assert done["endsAt"] == AT.isoformat() and done["labels"]["rule"] == "input_drift(psi > 0.2)"
    rollback = Notice("rollout.rolled_back", "licence-prefilter/rollout-4", "v3 rolled back", {}, "relevo-controller", AT)
    assert channel.alerts(rollback)[0]["labels"]["severity"] == "critical"


def test_a_failing_channel_is_logged_and_the_others_still_hear(smtp_server, receiver, caplog):
    port, messages = smtp_server
    url, received = receiver
    dead = "mailto://127.0.0.1:9?from=relevo@city.example&to=nobody@city.example&mode=insecure"
    listeners = Listeners.from_settings(Settings(notify_urls=dead, webhook_url=url))
    assert listeners.tell(_alert("alert.opened")) is False
    assert len(received) == 1 and received[0]["severity"] == "warning"
    assert "the apprise channel refused the alert.opened notice" in caplog.text


def test_no_channel_address_reaches_a_message_or_the_log(receiver, caplog):
    """A channel's URL often carries its secret (a Slack path, a Telegram bot token in the host, a
    password): refusals and failures name the channel, never the address."""
    for url in ("nosuchservice://hooks.example.org/T000/SECRET-TOKEN", "nosuch://123456789:AAHsecretBotToken/42"):
        with pytest.raises(InvalidInput, match="RELEVO_NOTIFY_URLS") as refused:
            AppriseChannel(url)
        assert "SECRET" not in str(refused.value).upper() and "hooks.example.org" not in str(refused.value)
    url, _ = receiver
    secret = url.replace("http://", "http://admin:hunter2@").replace("/hook", "/services/T00/SECRETTOKEN")
    refusing = Listeners.from_settings(Settings(webhook_url=secret.replace(url.split("/")[2], "127.0.0.1:9"),
                                                alertmanager_url=secret.rsplit("/", 3)[0] + "/nowhere"))
    assert refusing.tell(_alert("alert.opened")) is False
    assert "could not be reached" in caplog.text or "answered" in caplog.text
    assert "hunter2" not in caplog.text and "SECRETTOKEN" not in caplog.text
