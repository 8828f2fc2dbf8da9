"""Channels a notice goes out on: the log always; a plain JSON webhook, apprise's services (chat,
e-mail) and Prometheus Alertmanager when configured.

A channel is anything with a name and `send(notice)` that raises when the notice was not
accepted; the Listeners log that failure and go on (a rollback must not wait for a chat server).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Protocol

from relevo.errors import InvalidInput
from relevo.notify.notice import Notice

log = logging.getLogger("relevo.notify")


def escalations(notice: Notice) -> bool:
    """What the on-call channel hears: an escalated alert, and its end."""
    return notice.kind == "alert.escalated" or (notice.kind == "alert.resolved" and bool(notice.details.get("escalated")))


class ChannelError(Exception):
    """A channel did not take a notice. Its message never holds the channel's address: a webhook's
    or a chat service's URL often carries its secret token."""


def post(name: str, url: str, body: Any, timeout_s: float) -> None:
    """POST JSON to url; ChannelError naming the channel and what went wrong, not where."""
    import httpx  # when a notice is sent: every command opens a context with its channels

    try:
        httpx.post(url, json=body, timeout=timeout_s).raise_for_status()
    except httpx.HTTPStatusError as exc:
        raise ChannelError(f"the {name} receiver answered {exc.response.status_code}") from None
    except httpx.HTTPError as exc:
        raise ChannelError(f"the {name} receiver could not be reached ({type(exc).__name__})") from None


class Channel(Protocol):
    """Somewhere notices are sent."""

    name: str

    def send(self, notice: Notice) -> None:
        """Deliver the notice; raise when it was not accepted."""


class LogChannel:
    """Every notice as a warning in the process log."""

    name = "log"

    def send(self, notice: Notice) -> None:
        """Log the notice."""
        log.warning("%s %s: %s%s", notice.kind, notice.subject, notice.message,
                    f" (for {', '.join(notice.informed)})" if notice.informed else "")


class WebhookChannel:
    """Every notice as a JSON POST to a URL (a chat server's incoming webhook, a ticketing system)."""

    name = "webhook"

    def __init__(self, url: str, timeout_s: float = 5.0) -> None:
        self.url = url
        self.timeout_s = timeout_s

    def send(self, notice: Notice) -> None:
        """POST the notice; raises ChannelError when the receiver refuses it or cannot be reached."""
        post(self.name, self.url, notice.as_json(), self.timeout_s)


class AppriseChannel:
    """Every notice through apprise: Slack, Microsoft Teams, Matrix, Telegram, e-mail and the rest it
    supports, each a URL (`slack://...`, `msteams://...`, `mailto://...`); only those `takes` accepts."""

    def __init__(self, urls: str, name: str = "apprise", takes: Callable[[Notice], bool] = lambda notice: True,
                 setting: str = "RELEVO_NOTIFY_URLS") -> None:
        import apprise  # imported with the first channel: it loads every service's plugin

        self.name = name
        self.takes = takes
        self._apprise = apprise.Apprise()
        self._types = {"critical": apprise.NotifyType.FAILURE, "warning": apprise.NotifyType.WARNING,
                       "info": apprise.NotifyType.INFO}
        self._resolved = apprise.NotifyType.SUCCESS
        for url in filter(None, (part.strip() for part in urls.replace(",", " ").split())):
            if not self._apprise.add(url):
                raise InvalidInput(f"{setting}: apprise does not understand the URL {_redacted(url)} (its "
                                   "services' URLs: https://github.com/caronc/apprise/wiki)")

    def send(self, notice: Notice) -> None:
        """Send the notice to every URL; raises when one of them did not take it."""
        if not self.takes(notice):
            return
        when = f" at {notice.at:%Y-%m-%d %H:%M} UTC" if notice.at else ""
        body = f"{notice.message}\n\n{notice.kind} on {notice.subject}{when}, by {notice.actor or 'relevo'}."
        if notice.informed:
            body += f"\nFor: {', '.join(notice.informed)}."
        kind = self._resolved if notice.kind == "alert.resolved" else self._types[notice.severity]
        if not self._apprise.notify(title=f"[Relevo] {notice.severity}: {notice.subject}", body=body, notify_type=kind):
            raise ChannelError(f"apprise could not deliver to every URL of {self.name}")


def _redacted(url: str) -> str:
    """A URL without anything that could be a secret: apprise puts tokens in the host part too
    (tgram://BOT_TOKEN/...), so only the scheme is shown."""
    scheme, found, _ = url.partition("://")
    return f"{scheme}://..." if found else "(not a URL)"


FIRING_FOR = timedelta(days=7)  # an open alert stays firing in Alertmanager until resolved, or this long


class AlertmanagerChannel:
    """Notices as Prometheus Alertmanager alerts (POST /api/v2/alerts): a monitoring alert fires until
    Relevo resolves it; a rollout's notice fires for an hour, for the record."""

    name = "alertmanager"

    def __init__(self, url: str, timeout_s: float = 5.0) -> None:
        self.url = url.rstrip("/") + "/api/v2/alerts"
        self.timeout_s = timeout_s

    def alerts(self, notice: Notice) -> list[dict[str, Any]]:
        """The notice as Alertmanager's alerts: its labels identify it, its annotations describe it."""
        at = notice.at or datetime.now(timezone.utc)
        details = notice.details
        service, _, rest = notice.subject.partition("/")
        labels = {"alertname": "relevo_" + notice.kind.split(".")[0], "service": service,
                  "environment": str(details.get("environment") or rest.split("/")[0] or ""),
                  "severity": notice.severity}
        annotations = {"summary": notice.message, "kind": notice.kind, "subject": notice.subject}
        if notice.kind.startswith("alert."):
            labels |= {"rule": str(details.get("rule", "")), "alert_id": str(details.get("alert_id", ""))}
            opened = details.get("opened_at")
            starts = datetime.fromisoformat(opened) if opened else at
            if notice.kind == "alert.resolved":
                return [_alert(labels, annotations, starts, at)]
            if notice.kind == "alert.escalated":  # the same alert under its former severity ends here
                was = labels | {"severity": str(details.get("was", "warning"))}
                return [_alert(was, annotations, starts, at), _alert(labels, annotations, starts, at + FIRING_FOR)]
            if notice.kind == "alert.opened":
                return [_alert(labels, annotations, at, at + FIRING_FOR)]
            return []  # an acknowledgement changes nothing Alertmanager holds
        return [_alert(labels, annotations, at, at + timedelta(hours=1))]

    def send(self, notice: Notice) -> None:
        """POST the notice's alerts; raises ChannelError when Alertmanager refuses or is away."""
        found = self.alerts(notice)
        if found:
            post(self.name, self.url, found, self.timeout_s)


def _alert(labels: dict[str, str], annotations: dict[str, str], starts: datetime, ends: datetime) -> dict[str, Any]:
    return {"labels": labels, "annotations": annotations, "startsAt": starts.isoformat(), "endsAt": ends.isoformat(),
            "generatorURL": "relevo://" + labels["service"]}
