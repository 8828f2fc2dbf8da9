"""Outbound messages: the log always, a webhook when one is configured."""

from relevo.notify.send import notify

__all__ = ["notify"]
