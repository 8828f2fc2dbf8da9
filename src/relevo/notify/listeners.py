"""What hears of a committed change: the notification channels, and a counter for metrics."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Sequence

from prometheus_client import CollectorRegistry, Counter

from relevo.notify.channels import AlertmanagerChannel, AppriseChannel, Channel, LogChannel, WebhookChannel, escalations
from relevo.notify.notice import Notice

if TYPE_CHECKING:
    from relevo.settings import Settings

log = logging.getLogger("relevo.notify")


class Listeners:
    """Counts every committed change by action, and sends its notice (if any) on every channel."""

    def __init__(self, channels: Sequence[Channel] = ()) -> None:
        self.channels: list[Channel] = [LogChannel(), *channels]
        self.registry = CollectorRegistry(auto_describe=True)
        self._changes = Counter("relevo_changes", "Changes of state recorded by this process, by audit action",
                                ["action"], registry=self.registry)

    @classmethod
    def from_settings(cls, settings: "Settings") -> "Listeners":
        """The channels the settings configure, after the log: RELEVO_WEBHOOK_URL (JSON), RELEVO_NOTIFY_URLS
        (apprise), RELEVO_NOTIFY_ESCALATION_URLS (apprise: escalated alerts and their resolution), RELEVO_ALERTMANAGER_URL."""
        channels: list[Channel] = []
        if settings.webhook_url:
            channels.append(WebhookChannel(settings.webhook_url))
        if settings.notify_urls:
            channels.append(AppriseChannel(settings.notify_urls))
        if settings.notify_escalation_urls:
            channels.append(AppriseChannel(settings.notify_escalation_urls, "escalation", takes=escalations,
                                           setting="RELEVO_NOTIFY_ESCALATION_URLS"))
        if settings.alertmanager_url:
            channels.append(AlertmanagerChannel(settings.alertmanager_url))
        return cls(channels)

    def committed(self, action: str, notice: Notice | None = None) -> bool:
        """A change was committed: count it, tell its notice; True when every channel accepted the notice."""
        self._changes.labels(action=action).inc()
        return self.tell(notice) if notice is not None else True

    def tell(self, notice: Notice) -> bool:
        """Send notice on every channel; a failing channel is logged, never raised."""
        delivered = True
        for channel in self.channels:
            try:
                channel.send(notice)
            except Exception as exc:  # a channel's failure must not stop the others or the caller
                log.error("the %s channel refused the %s notice on %s: %s", channel.name, notice.kind, notice.subject, exc)
                delivered = False
        return delivered
