"""The audit log: an append-only record of every change of state, and the one recorder that writes it."""

from relevo.audit.record import canonical_event
from relevo.audit.recorder import Change, record_change

__all__ = ["Change", "canonical_event", "record_change"]
