"""Continuity's tables: runbook confirmations, rehearsed drills and planned deployments' notices."""

from __future__ import annotations

from sqlalchemy import Column, Float, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from relevo.store.metadata import metadata
from relevo.store.types import JSONDoc, UTCDateTime

# Who confirmed which version of a service's runbook (the spec's hash: a spec change needs a new confirmation).
runbook_confirmations = Table(
    "runbook_confirmations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("service", String(100), ForeignKey("services.name"), nullable=False),
    Column("spec_sha256", String(64), nullable=False),
    Column("role", String(20), nullable=False),  # operators | approvers
    Column("confirmed_by", String(200), nullable=False),
    Column("confirmed_at", UTCDateTime, nullable=False),
    Index("ix_runbook_confirmations_service_spec", "service", "spec_sha256"),
)

# A rehearsed drill: a fault injected into a copy of the service in a scratch store, and what the
# real gateway and controller did about it, measured against the runbook's target times.
drills = Table(
    "drills",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("service", String(100), ForeignKey("services.name"), nullable=False),
    Column("environment", String(40), nullable=False),
    Column("scenario", String(30), nullable=False),  # bad-candidate | model-down | slow-model | database-restart
    Column("clock", String(10), nullable=False),  # simulated | real
    Column("outcome", String(10), nullable=False),  # passed | failed
    Column("detect_seconds", Float, nullable=True),  # fault to detection (None: never detected)
    Column("recover_seconds", Float, nullable=True),  # fault to citizens answered as before (None: never)
    Column("target_detect_seconds", Float, nullable=False),
    Column("target_recover_seconds", Float, nullable=False),
    Column("requests", Integer, nullable=False),  # requests sent during the drill
    Column("lost", Integer, nullable=False),  # acknowledged decisions missing from the log (must be 0)
    Column("unanswered", Integer, nullable=False),  # requests that got no answer (must be 0)
    Column("details", JSONDoc, nullable=False),  # the timeline, the versions, the spec's hash, the findings
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=False),
    Column("run_by", String(200), nullable=False),
    Column("override_reason", Text, nullable=True),  # an approver's reason for a drill against production
    Index("ix_drills_service_started", "service", "started_at"),
)

# A planned deployment's notice to the people informed (and the channels), given ahead of its start;
# the public notices generated from it, by language, with the text as it was generated.
deployment_notices = Table(
    "deployment_notices",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("service", String(100), ForeignKey("services.name"), nullable=False),
    Column("environment", String(40), nullable=False),
    Column("version_id", Integer, ForeignKey("versions.id"), nullable=False),
    Column("spec_sha256", String(64), nullable=False),
    Column("plan", String(100), nullable=False),
    Column("planned_at", UTCDateTime, nullable=False),  # when the deployment is planned to start
    Column("summary", Text, nullable=True),
    Column("contact", Text, nullable=True),
    Column("review_channel", Text, nullable=True),
    Column("informed", JSONDoc, nullable=False),  # the RACI's informed people, as told
    Column("channels", JSONDoc, nullable=False),  # the channels it went out on besides the log
    Column("facts", JSONDoc, nullable=False),  # what the public notice says of the release: what changes, why due
    Column("public", JSONDoc, nullable=False),  # language: {format, sha256, text, template, by, at}
    Column("given_by", String(200), nullable=False),
    Column("given_at", UTCDateTime, nullable=False),
    Column("reminded_at", UTCDateTime, nullable=True),  # when its informed were reminded of the near start
    Index("ix_deployment_notices_release", "service", "environment", "version_id", "spec_sha256"),
)

# An overdue drill's due date the channels were told of: once per service and due date, whichever
# replica got there first (the unique key refuses the second).
drill_reminders = Table(
    "drill_reminders",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("service", String(100), ForeignKey("services.name"), nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("told_at", UTCDateTime, nullable=False),
    UniqueConstraint("service", "due_at", name="uq_drill_reminders_service_due_at"),
)
