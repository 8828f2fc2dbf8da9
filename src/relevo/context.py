"""What every use case needs: the store, the blob store, the clock, who is acting, who is told."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine

from relevo.blobs import BlobStore, LocalBlobStore
from relevo.clock import Clock, SystemClock, parse_duration
from relevo.notify import Listeners
from relevo.settings import Settings
from relevo.store import open_store


# The role the last passed check let an identity act under, in this thread or task (each API
# request runs in a context of its own): the audit event of the change it allowed names it.
_ACTED_AS: ContextVar[tuple[str, str] | None] = ContextVar("relevo_acted_as", default=None)


def note_role(actor: str, role: str) -> None:
    """A check passed: actor acts under role (until the next check)."""
    _ACTED_AS.set((actor, role))


def role_of(actor: str) -> str | None:
    """The role actor's last passed check named, or None (no check, or another actor's)."""
    noted = _ACTED_AS.get()
    return noted[1] if noted is not None and noted[0] == actor else None


@dataclass(frozen=True)
class Context:
    """Dependencies handed to use cases; adapters build one per process."""

    engine: Engine
    blobs: BlobStore
    clock: Clock
    actor: str
    listeners: Listeners = field(default_factory=Listeners)  # who hears of committed changes
    audit_key: Path | None = None  # the audit log's signing key file (created on first need)
    audit_origin: str = "relevo-audit"  # the log's name in its checkpoints
    audit_every: timedelta = timedelta(hours=1)  # a signed checkpoint at least this often while events arrive
    controller_lease: timedelta = timedelta(seconds=10)  # the rollout controller's lease, unrenewed
    # The acting identity's roles as (role, service or None for every service), from its token;
    # None only on a store with no identities yet, where the spec's names alone decide.
    grants: frozenset[tuple[str, str | None]] | None = None

    @classmethod
    def open(cls, settings: Settings | None = None, clock: Clock | None = None) -> "Context":
        """Open the store named by settings (checking it is initialised and current)."""
        settings = settings or Settings()
        clock = clock or SystemClock()
        return cls(
            engine=open_store(settings.resolved_database_url(), now=clock.now()),
            blobs=LocalBlobStore(settings.blob_root),
            clock=clock,
            actor=settings.actor,
            listeners=Listeners.from_settings(settings),
            audit_key=settings.audit_key_file,
            audit_origin=settings.audit_origin,
            audit_every=parse_duration(settings.audit_checkpoint_every),
            controller_lease=parse_duration(settings.controller_lease),
        )

    def acting_as(self, actor: str, grants: frozenset[tuple[str, str | None]] | None = None) -> "Context":
        """The same dependencies, acting for another identity (whose roles are then checked)."""
        return replace(self, actor=actor, grants=grants if grants is not None else self.grants)

    def close(self) -> None:
        """Release database connections."""
        self.engine.dispose()
