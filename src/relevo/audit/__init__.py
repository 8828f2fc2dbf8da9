"""The audit log: an append-only record of every change of state."""

from relevo.audit.record import record_event

__all__ = ["record_event"]
