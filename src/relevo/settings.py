"""Settings read from the environment (RELEVO_*), with the embedded default."""

from __future__ import annotations

import getpass
import hashlib
import ipaddress
import json
import socket
from pathlib import Path
from typing import ClassVar

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from relevo.clock import parse_duration


def _default_actor() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "unknown"


class Settings(BaseSettings):
    """Where Relevo keeps its state, who is acting, how the API and the notices behave."""

    model_config = SettingsConfigDict(env_prefix="RELEVO_")

    home: Path = Field(default=Path(".relevo"), description="folder for the SQLite store and blobs")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; SQLite under home if unset")
    actor: str = Field(default_factory=_default_actor, description="who is acting, for the audit log")
    pseudonym_key: str | None = Field(default=None, description="hex HMAC key for pseudonyms in the decision log")
    pseudonym_keys: str | None = Field(default=None, description="earlier pseudonym keys (hex, comma-separated), "
                                       "kept to find the decisions made under them until those are purged")
    api_max_body_kb: int = Field(default=64, ge=1, description="largest request body the API accepts, in KiB")
    api_max_upload_mb: int = Field(default=2048, ge=1, description="largest archive `relevo register` may upload "
                                                                 "through the API, in MiB")
    api_threads: int = Field(default=256, ge=1, description="threads for API requests that wait on the store")
    api_metrics_public: bool = Field(default=False, description="serve /metrics without a token (a scraper "
                                                                "inside a closed network); else operators and auditors")
    api_trusted_proxies: str = Field(
        default="127.0.0.1", description="reverse proxies (addresses or networks, comma-separated) whose "
                                         "X-Forwarded-For names the client: the failed-token limit counts per client, "
                                         "so name your proxy, or every client behind it shares one limit")
    webhook_url: str | None = Field(default=None, description="a URL that receives every notice as a JSON POST")
    notify_urls: str | None = Field(default=None, description="apprise URLs (space- or comma-separated) that get every "
                                    "notice: slack://, msteams://, matrix://, tgram://, mailto://, ...")
    notify_escalation_urls: str | None = Field(default=None, description="apprise URLs that get escalated alerts "
                                               "(the on-call channel)")
    alertmanager_url: str | None = Field(default=None, description="a Prometheus Alertmanager's address; alerts are "
                                         "posted to its /api/v2/alerts")
    audit_key: Path | None = Field(default=None, description="the audit log's Ed25519 signing key file; "
                                                             "home/audit.key if unset (replicas share one)")
    audit_origin: str = Field(default_factory=lambda: f"{socket.gethostname() or 'localhost'}/relevo-audit",
                              pattern=r"^[^\s+]+$", description="the audit log's name in its checkpoints (no spaces or '+')")
    audit_checkpoint_every: str = Field(default="1h", description="a signed checkpoint at least this often while events arrive")
    controller_lease: str = Field(default="10s", description="how long the rollout controller's lease lasts unrenewed "
                                  "(at least two controller intervals): a replica that dies holding it is replaced "
                                  "within this plus one interval")

    @field_validator("api_trusted_proxies")
    @classmethod
    def _addresses(cls, value: str) -> str:
        for item in filter(None, (part.strip() for part in value.split(","))):
            if item != "*":
                try:
                    ipaddress.ip_network(item)
                except ValueError:
                    raise ValueError(f"{item!r} is not an address or network (10.0.0.5, 10.0.0.0/24 with no host bits, or *)") from None
        return value

    @field_validator("audit_checkpoint_every")
    @classmethod
    def _a_duration(cls, value: str) -> str:
        parse_duration(value)  # raises ValueError naming the form expected
        return value

    @field_validator("controller_lease")
    @classmethod
    def _a_lease(cls, value: str) -> str:
        if parse_duration(value).total_seconds() <= 0:  # raises ValueError naming the form expected
            raise ValueError(f"a lease of {value!r} would lapse at once: give a length such as 10s")
        return value

    def resolved_database_url(self) -> str:
        """The database URL in force: the explicit one, or SQLite under the home folder."""
        if self.database_url:
            url = self.database_url
            # Accept the plain scheme users copy from psql; SQLAlchemy needs the driver named.
            if url.startswith("postgresql://") or url.startswith("postgres://"):
                url = "postgresql+psycopg://" + url.split("://", 1)[1]
            return url
        return f"sqlite:///{(self.home / 'relevo.db').resolve()}"

    @property
    def audit_key_file(self) -> Path:
        """The audit log's signing key file in force."""
        return (self.audit_key or self.home / "audit.key").resolve()

    @property
    def blob_root(self) -> Path:
        """Folder of the local blob store."""
        return (self.home / "blobs").resolve()

    # Left out of the settings' hash: secrets (a key, a password in a URL, a webhook's token) and
    # what differs between machines by design (where files live, who runs the command).
    UNHASHED: ClassVar[frozenset[str]] = frozenset({"pseudonym_key", "pseudonym_keys", "database_url", "webhook_url",
                                                  "notify_urls", "notify_escalation_urls", "alertmanager_url",
                                                  "audit_key", "home", "actor", "audit_origin"})

    def digest(self) -> str:
        """sha256 of the settings that shape behaviour, secrets and machine-specific values left out."""
        body = self.model_dump(mode="json", exclude=set(self.UNHASHED))
        return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()

