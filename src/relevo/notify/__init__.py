"""Outbound messages: notices of committed changes, on the log and the configured channels."""

from relevo.notify.channels import Channel, LogChannel, WebhookChannel
from relevo.notify.listeners import Listeners
from relevo.notify.notice import Notice

__all__ = ["Channel", "Listeners", "LogChannel", "Notice", "WebhookChannel"]
