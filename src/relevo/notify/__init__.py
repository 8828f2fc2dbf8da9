"""Outbound messages: notices of committed changes and alerts, on the log and the configured channels."""

from relevo.notify.channels import AlertmanagerChannel, AppriseChannel, Channel, ChannelError, LogChannel, WebhookChannel
from relevo.notify.listeners import Listeners
from relevo.notify.notice import Notice

__all__ = ["AlertmanagerChannel", "AppriseChannel", "Channel", "ChannelError", "Listeners", "LogChannel", "Notice", "WebhookChannel"]
