"""A notice: what people are told of a change of state, once it is committed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


SEVERITIES = {"rollout.rolled_back": "critical", "rollout.reverted": "critical", "rollout.held": "warning",
              "alert.resolved": "info"}


@dataclass(frozen=True)
class Notice:
    """One message about one change: its audit action, what it concerns, the words people read."""

    kind: str  # the change's audit action, e.g. rollout.rolled_back
    subject: str  # e.g. licence-prefilter/rollout-3
    message: str
    details: dict[str, Any] = field(default_factory=dict)
    actor: str | None = None
    at: datetime | None = None
    informed: tuple[str, ...] = ()  # the people the service's RACI says are told (a channel may address them)

    @property
    def severity(self) -> str:
        """How urgent the notice is: an alert's own severity; a rollback, critical; a hold, a warning."""
        given = self.details.get("severity")
        if given in ("info", "warning", "critical"):
            return given
        return SEVERITIES.get(self.kind, "info")

    def as_json(self) -> dict[str, Any]:
        """The JSON body a webhook receives."""
        return {"kind": self.kind, "subject": self.subject, "message": self.message, "severity": self.severity,
                "details": self.details, "actor": self.actor, "at": self.at.isoformat() if self.at else None,
                "informed": list(self.informed)}
