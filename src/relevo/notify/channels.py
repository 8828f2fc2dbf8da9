"""Channels a notice goes out on: the log always, a webhook when one is configured.

A channel is anything with a name and `send(notice)` that raises when the notice was not
accepted; the Listeners log that failure and go on (a rollback must not wait for a chat server).
"""

from __future__ import annotations

import logging
from typing import Protocol

import httpx

from relevo.notify.notice import Notice

log = logging.getLogger("relevo.notify")


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
        """POST the notice; raises httpx.HTTPError when the receiver refuses it or cannot be reached."""
        response = httpx.post(self.url, json=notice.as_json(), timeout=self.timeout_s)
        response.raise_for_status()
