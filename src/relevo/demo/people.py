"""The people of the demo's story, as identities with their roles: the demo acts as they would,
so every gate it passes is passed by someone allowed to (and four eyes are two people)."""

from __future__ import annotations

from datetime import timedelta

from relevo import identity
from relevo.context import Context
from relevo.demo import SERVICE_NAME
from relevo.identity import Grant

ADMIN = "demo-admin"
PUBLISHER = "release-manager"  # declares the service, registers versions, starts rollouts
APPROVER = "service-owner"  # accountable: approves promotions and writes overrides
PORTAL = "citizen-portal"  # the system that posts applications

STORY: dict[str, tuple[str, list[Grant], str]] = {
    ADMIN: ("person", [Grant("admin")], "runs the demo and manages the people below"),
    PUBLISHER: ("person", [Grant("publisher", SERVICE_NAME), Grant("operator", SERVICE_NAME)],
                "declares the service, registers versions, starts and steers rollouts"),
    APPROVER: ("person", [Grant("approver", SERVICE_NAME), Grant("operator", SERVICE_NAME)],
               "the service's accountable owner: approves promotions, writes overrides"),
    "case-worker": ("person", [Grant("case_worker", SERVICE_NAME)], "works the manual-review queue"),
    "dpo": ("person", [Grant("dpo")], "the data-protection officer"),
    "auditor": ("person", [Grant("auditor")], "reads and verifies the audit log"),
    PORTAL: ("service", [Grant("client", SERVICE_NAME)], "the citizen portal: posts applications, reads decisions"),
}


def as_person(ctx: Context, name: str) -> Context:
    """ctx acting as one of the story's people, with their roles."""
    return ctx.acting_as(name, frozenset((g.role, g.service) for g in STORY[name][1]))


def meet_the_people(ctx: Context) -> list[str]:
    """Make the story's identities that do not exist yet; returns the names made."""
    admin = as_person(ctx, ADMIN)
    known = {p.name for p in identity.list_identities(ctx)}
    made = []
    for name, (kind, grants, description) in STORY.items():
        if name not in known:
            identity.add_identity(admin, name, kind=kind, grants=grants, description=description)
            made.append(name)
    return made


def token_of(ctx: Context, name: str, label: str, hours: int = 24) -> str:
    """A short-lived token of one of the story's people (made by the demo's admin)."""
    return identity.create_token(as_person(ctx, ADMIN), name, label=label, expires_in=timedelta(hours=hours))[1]
