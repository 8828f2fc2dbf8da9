"""The audit log: an append-only record of every change of state, and the one recorder that writes it."""

from relevo.audit.queries import AuditEvent, list_events, parse_since, read_events
from relevo.audit.record import canonical_event
from relevo.audit.recorder import Change, record_change

__all__ = ["AuditEvent", "Change", "canonical_event", "list_events", "parse_since", "read_events", "record_change"]
