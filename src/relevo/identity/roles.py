"""The roles an identity can hold, globally or for one service, and what each lets it do."""

from __future__ import annotations

from dataclasses import dataclass

from relevo.context import Context, note_role
from relevo.errors import InvalidInput, Refused

ROLES = {
    "admin": "manage identities and tokens; holds every other role",
    "publisher": "declare services and register versions",
    "operator": "start, pause, resume and roll back rollouts; route; the kill switch; document incidents",
    "approver": "promote a rollout someone else started; overrides with a reason",
    "dpo": "the data-protection officer: read personal and protected inputs, DPIA records",
    "case_worker": "read queued cases, claim them, confirm or correct decisions",
    "auditor": "read the audit log, verify it, export bundles",
    "client": "a system that asks for decisions and reads them back (the citizen portal)",
}
# The spec's names for who may act map onto these roles.
SPEC_ROLES = {"operators": "operator", "approvers": "approver", "incident_owners": "operator"}


@dataclass(frozen=True)
class Grant:
    """One role, for one service or (service None) for all."""

    role: str
    service: str | None = None

    @classmethod
    def parse(cls, text: str) -> "Grant":
        """'operator' (every service) or 'operator:licence-prefilter'."""
        role, _, service = text.strip().partition(":")
        role = role.replace("-", "_")
        if role not in ROLES:
            raise InvalidInput(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
        return cls(role, service or None)

    def __str__(self) -> str:
        return self.role + (f":{self.service}" if self.service else "")


def holds(grants: frozenset[tuple[str, str | None]], role: str, service: str | None) -> bool:
    """Whether grants include role for service (a global grant, or admin, covers every service)."""
    return any(r in (role, "admin") and (s is None or s == service) for r, s in grants)


def require_grant(ctx: Context, role: str, service: str) -> None:
    """Refused unless the acting identity holds role for service (nothing to check for a caller
    without a token on a store without identities: the adapters refuse changes there otherwise)."""
    if ctx.grants is not None:
        if not holds(ctx.grants, role, service):
            raise Refused(f"{ctx.actor} does not hold the {role} role for {service}")
        note_role(ctx.actor, role)
