"""Telling people: every notification goes to the log, and to a webhook when configured.

The webhook (RELEVO_WEBHOOK_URL) receives a JSON POST; a failing webhook is logged and never
stops the action that triggered it (a rollback must not wait for a chat server).
"""

from __future__ import annotations

import logging
import os
from typing import Any

import httpx

log = logging.getLogger("relevo.notify")


def notify(kind: str, subject: str, message: str, details: dict[str, Any] | None = None,
           webhook_url: str | None = None) -> bool:
    """Send one notification; True when the webhook (if any) accepted it."""
    log.warning("%s %s: %s", kind, subject, message)
    url = webhook_url or os.environ.get("RELEVO_WEBHOOK_URL")
    if not url:
        return True
    body = {"kind": kind, "subject": subject, "message": message, "details": details or {}}
    try:
        response = httpx.post(url, json=body, timeout=5.0)
        response.raise_for_status()
        return True
    except httpx.HTTPError as exc:
        log.error("webhook %s refused the %s notification: %s", url, kind, exc)
        return False
