"""A service's next maintenance windows, as `relevo windows` and the API list them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import Field

from relevo.context import Context
from relevo.services.catalogue import get_spec
from relevo.services.windows import Opening, is_open, next_openings
from relevo.store import connect


@dataclass(frozen=True)
class ServiceWindows:
    """A service's windows now: whether it has any, whether one is open, and the next openings."""

    service: str
    timezone: str | None  # None: no windows section, always open
    open_now: bool
    openings: list[Opening]

    def as_dict(self) -> dict:
        """JSON form."""
        return {"service": self.service, "timezone": self.timezone, "always_open": self.timezone is None,
                "open_now": self.open_now, "openings": [o.as_dict() for o in self.openings]}


def service_windows(ctx: Context, service: str, n: Annotated[int, Field(ge=1, le=100)] = 5) -> ServiceWindows:
    """The service's next n maintenance window openings (the one in progress first); none when it
    has no windows section (always open)."""
    with connect(ctx.engine) as conn:
        policy = get_spec(conn, service).windows
    now = ctx.clock.now()
    if policy is None:
        return ServiceWindows(service, None, True, [])
    return ServiceWindows(service, policy.timezone, is_open(policy, now), next_openings(policy, now, n))
