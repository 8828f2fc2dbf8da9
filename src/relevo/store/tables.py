"""Table definitions. Migrations in migrations/versions must produce exactly this schema."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from relevo.store.metadata import metadata
from relevo.store.types import JSONDoc, UTCDateTime

services = Table(
    "services",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("spec", JSONDoc, nullable=False),
    Column("spec_sha256", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

versions = Table(
    "versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("service", String(100), ForeignKey("services.name"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("manifest", JSONDoc, nullable=False),
    Column("metadata", JSONDoc, nullable=False),
    Column("format", String(20), nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("file_count", Integer, nullable=False),
    Column("blob_uri", Text, nullable=False),
    Column("registered_at", UTCDateTime, nullable=False),
    Column("registered_by", String(200), nullable=False),
    UniqueConstraint("service", "number", name="uq_versions_service_number"),
    UniqueConstraint("service", "sha256", name="uq_versions_service_sha256"),
)

profiles = Table(
    "profiles",
    metadata,
    Column("version_id", Integer, ForeignKey("versions.id"), primary_key=True),
    Column("source_name", Text, nullable=False),
    Column("source_sha256", String(64), nullable=False),
    Column("row_count", Integer, nullable=False),
    Column("profile", JSONDoc, nullable=False),
)

annotations = Table(
    "annotations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("version_id", Integer, ForeignKey("versions.id"), nullable=False, index=True),
    Column("field", String(200), nullable=True),
    Column("note", Text, nullable=False),
    Column("author", String(200), nullable=False),
    Column("at", UTCDateTime, nullable=False),
)

tags = Table(
    "tags",
    metadata,
    Column("service", String(100), ForeignKey("services.name"), primary_key=True),
    Column("tag", String(100), primary_key=True),
    Column("version_id", Integer, ForeignKey("versions.id"), nullable=False),
    Column("moved_at", UTCDateTime, nullable=False),
    Column("moved_by", String(200), nullable=False),
)

tag_moves = Table(
    "tag_moves",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("service", String(100), nullable=False, index=True),
    Column("tag", String(100), nullable=False),
    Column("from_version_id", Integer, ForeignKey("versions.id"), nullable=True),
    Column("to_version_id", Integer, ForeignKey("versions.id"), nullable=True),  # None: the tag was removed
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
)

# Append-only. Each row carries the sha256 of its own canonical content so that a later
# hash chain (prev_hash) and signed checkpoints can be added without rewriting history.
audit_events = Table(
    "audit_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(100), nullable=False, index=True),
    Column("subject", String(300), nullable=False, index=True),
    Column("details", JSONDoc, nullable=False),
    # The event's place in the audit log's Merkle tree (0, 1, 2, ... with no gap), the salt of
    # its details' hash, that hash (what the leaf holds instead of the details, so a retention
    # purge of personal data keeps every proof valid) and the leaf's hash (RFC 9162).
    Column("seq", BigInteger, nullable=False, unique=True),
    Column("salt", String(32), nullable=False),
    Column("details_sha256", String(64), nullable=False),
    Column("leaf_hash", String(64), nullable=False),
)

# The audit log's tree as it grows: its size and the roots of its perfect subtrees (the
# frontier), in one row. Appends lock it, so events from every replica get one agreed order.
audit_tree = Table(
    "audit_tree",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("frontier", JSONDoc, nullable=False),
)

# Signed checkpoints of the audit log (C2SP tlog-checkpoint notes): append-only, like the events.
audit_checkpoints = Table(
    "audit_checkpoints",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tree_size", BigInteger, nullable=False, index=True),
    Column("root_hash", String(64), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("note", Text, nullable=False),
)


# Where services are routed and answered: staging and production in every store, and any other
# a team adds (relevo env add).
environments = Table(
    "environments",
    metadata,
    Column("name", String(20), primary_key=True),
    Column("description", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
)


# The routing table: which versions answer a service in an environment, and how. Gateways poll
# the revisions and apply a change within a second.
routes = Table(
    "routes",
    metadata,
    Column("service", String(100), ForeignKey("services.name"), primary_key=True),
    Column("environment", String(20), primary_key=True),
    Column("stable_version_id", Integer, ForeignKey("versions.id"), nullable=True),
    Column("candidate_version_id", Integer, ForeignKey("versions.id"), nullable=True),
    Column("mode", String(20), nullable=False),
    Column("weight", Float, nullable=False),
    Column("fallback_forced", Boolean, nullable=False),
    Column("step", String(100), nullable=True),
    Column("revision", Integer, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("updated_by", String(200), nullable=False),
    # The candidate's release (version + spec): its spec answers the candidate's cases, so a
    # spec-only change (a threshold, a rule) rolls out like a model. None: the service's spec.
    Column("candidate_release_id", Integer, ForeignKey("releases.id"), nullable=True),
)

# One row per answered request, written before the answer is sent (group commit). On PostgreSQL the
# table is partitioned by month (migration 0021, relevo.store.partitions): its primary key is (id,
# created_at), its reference unique with its created_at, and the tables that refer to a decision
# have no foreign key there (a trigger checks feedback and shadow answers).
decisions = Table(
    "decisions",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("reference", String(40), nullable=False, unique=True),
    Column("service", String(100), nullable=False),
    Column("environment", String(20), nullable=False),
    Column("case_pseudonym", String(64), nullable=False),
    # The id of the key case_pseudonym (and the personal inputs) were made under, so a key can
    # retire once no decision needs it. None: a decision made before keys had ids.
    Column("pseudonym_key", String(16), nullable=True),
    Column("arm", String(10), nullable=True),
    Column("routed_version_id", Integer, nullable=True),
    Column("served_by", String(10), nullable=False),
    Column("decision", String(100), nullable=True),
    Column("probabilities", JSONDoc, nullable=True),
    Column("fallback_cause", String(20), nullable=True),
    # Why the answer waits for a case worker (the spec's review policy); `decision` is then only
    # proposed, and the case worker's answer (its feedback) is the decision of record.
    Column("review", String(160), nullable=True),
    Column("latency_ms", Float, nullable=False),
    Column("model_latency_ms", Float, nullable=True),
    Column("inputs", JSONDoc, nullable=False),
    Column("route_revision", Integer, nullable=True),
    Column("step", String(100), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_decisions_service_env_created", "service", "environment", "created_at"),
    Index("ix_decisions_version_created", "routed_version_id", "created_at"),
    Index("ix_decisions_step_created", "step", "created_at"),  # a rollout step's evidence
    # A step's answers held for a case worker: few of its decisions, counted at every status.
    Index("ix_decisions_step_held", "step", sqlite_where=text("review IS NOT NULL"),
          postgresql_where=text("review IS NOT NULL")),
)

# The candidate's answer to a copy of a request, computed off the hot path; never returned.
shadow_decisions = Table(
    "shadow_decisions",
    metadata,
    Column("decision_id", String(32), ForeignKey("decisions.id"), primary_key=True),
    Column("version_id", Integer, nullable=False),
    Column("decision", String(100), nullable=True),
    Column("latency_ms", Float, nullable=True),
    Column("error", String(300), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_shadow_decisions_created", "created_at"),  # shadow answers that came late, for the judge
)

# A case worker's later confirmation or correction of a decision: the ground truth.
feedback = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("decision_id", String(32), ForeignKey("decisions.id"), nullable=False, index=True),
    Column("outcome", String(20), nullable=False),
    Column("decision", String(100), nullable=False),
    Column("reason", Text, nullable=False),
    Column("reviewer", String(200), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    # A later verdict on the same decision supersedes this one (its history is kept): only the
    # current verdict, at most one per decision, counts as evidence.
    Column("superseded_by", Integer, nullable=True),
    Column("superseded_at", UTCDateTime, nullable=True),
    Index("ix_feedback_at", "at"),  # verdicts given since the judge's last look
    Index("ux_feedback_current_decision", "decision_id", unique=True,
          sqlite_where=text("superseded_at IS NULL"), postgresql_where=text("superseded_at IS NULL")),
)

manual_reviews = Table(
    "manual_reviews",
    metadata,
    Column("decision_id", String(32), ForeignKey("decisions.id"), primary_key=True),
    Column("service", String(100), nullable=False),
    Column("status", String(20), nullable=False),
    Column("claimed_by", String(200), nullable=True),
    Column("claimed_at", UTCDateTime, nullable=True),
    Column("resolved_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_manual_reviews_service_status", "service", "status", "created_at"),
)

# A release is what rolls out and back as one unit: a model version with the service spec
# (thresholds, rules) it was validated with, identified by one hash.
releases = Table(
    "releases",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("service", String(100), ForeignKey("services.name"), nullable=False),
    Column("version_id", Integer, ForeignKey("versions.id"), nullable=False),
    Column("spec_sha256", String(64), nullable=False),
    Column("spec", JSONDoc, nullable=False),
    Column("digest", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
    UniqueConstraint("service", "digest", name="uq_releases_service_digest"),
)

rollouts = Table(
    "rollouts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("service", String(100), ForeignKey("services.name"), nullable=False),
    Column("environment", String(20), nullable=False),
    Column("release_id", Integer, ForeignKey("releases.id"), nullable=False),
    Column("stable_version_id", Integer, ForeignKey("versions.id"), nullable=False),
    Column("candidate_version_id", Integer, ForeignKey("versions.id"), nullable=False),
    # The release that was stable when the rollout started (its version and spec): what a revert
    # after the promotion goes back to. None for rollouts started before it was recorded.
    Column("stable_release_id", Integer, ForeignKey("releases.id"), nullable=True),
    Column("plan_name", String(100), nullable=False),
    Column("plan", JSONDoc, nullable=False),
    Column("state", String(20), nullable=False),
    Column("step_index", Integer, nullable=False),
    Column("step_started_at", UTCDateTime, nullable=False),
    Column("step_extended_by_s", Float, nullable=False),
    Column("hold_reason", Text, nullable=True),
    Column("started_at", UTCDateTime, nullable=False),
    Column("started_by", String(200), nullable=False),
    Column("ended_at", UTCDateTime, nullable=True),
    Column("incident_id", Integer, nullable=True),
    # The pre-deployment checklist as it stood when the rollout started: each item, its state,
    # who ticked it and on what evidence (None for rollouts started before the checklist).
    Column("checklist", JSONDoc, nullable=True),
    Index("ix_rollouts_service_env_state", "service", "environment", "state"),
)

# The judge's verdicts as they changed, per rollout step: the evidence behind every transition.
rollout_verdicts = Table(
    "rollout_verdicts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("rollout_id", Integer, ForeignKey("rollouts.id"), nullable=False, index=True),
    Column("step_index", Integer, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("verdict", String(10), nullable=False),
    Column("details", JSONDoc, nullable=False),
)

# What the judge keeps of a step (or blue/green phase) between judgements: each criterion's state
# after the step's settled decisions, so the next judgement reads only what arrived since.
step_evidence = Table(
    "step_evidence",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("rollout_id", Integer, ForeignKey("rollouts.id"), nullable=False),
    Column("step_index", Integer, nullable=False),
    Column("phase", String(10), nullable=False),
    Column("policy_digest", String(64), nullable=False),  # the criteria the states were built for
    Column("decisions_until", UTCDateTime, nullable=True),  # every decision up to here is in the states
    Column("reviews_until", UTCDateTime, nullable=True),  # every verdict that came to count up to here too
    Column("kept", Text, nullable=False),  # the states, as JSON text (exact floats)
    Column("judgement", JSONDoc, nullable=True),  # the last judgement made from them
    Column("judged_at", UTCDateTime, nullable=False),
    Column("revision", Integer, nullable=False),  # bumped by each writer: a concurrent one does not overwrite
    UniqueConstraint("rollout_id", "step_index", "phase", name="uq_step_evidence_step"),
)

incidents = Table(
    "incidents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("service", String(100), ForeignKey("services.name"), nullable=False),
    Column("environment", String(20), nullable=False),
    Column("rollout_id", Integer, ForeignKey("rollouts.id"), nullable=True),
    Column("release_id", Integer, ForeignKey("releases.id"), nullable=True),
    Column("title", Text, nullable=False),
    Column("evidence", JSONDoc, nullable=False),
    Column("status", String(20), nullable=False),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("opened_by", String(200), nullable=False),
    Column("cause", Text, nullable=True),
    Column("remediation", Text, nullable=True),
    Column("documented_by", String(200), nullable=True),
    Column("documented_at", UTCDateTime, nullable=True),
    Index("ix_incidents_release_status", "release_id", "status"),
)

# An incident's regulatory clocks, one per regime that applies (the AI Act's serious-incident report,
# the GDPR's breach notification): due from when the organisation became aware, stopped once the
# report is filed; `reminded` is the last reminder stage sent (relevo.rollouts.incident_clocks).
incident_clocks = Table(
    "incident_clocks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", Integer, ForeignKey("incidents.id"), nullable=False),
    Column("regime", String(20), nullable=False),  # ai_act | gdpr_breach
    Column("kind", String(30), nullable=False),  # serious | widespread | critical_disruption | death | personal_data_breach
    Column("aware_at", UTCDateTime, nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("classified_by", String(200), nullable=False),
    Column("classified_at", UTCDateTime, nullable=False),
    Column("reminded", String(10), nullable=True),  # half | day | overdue
    Column("reported_at", UTCDateTime, nullable=True),
    Column("reported_by", String(200), nullable=True),
    Column("report_reference", String(200), nullable=True),
    UniqueConstraint("incident_id", "regime", name="uq_incident_clocks_incident_id"),
)

# Which controller process leads: several `relevo serve` replicas each run a controller, and the
# one holding the unexpired lease judges and moves rollouts; the others stand by.
controller_leases = Table(
    "controller_leases",
    metadata,
    Column("name", String(50), primary_key=True),
    Column("holder", String(200), nullable=False),
    Column("acquired_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

# A client's Idempotency-Key for a decision request: the same key and body return the stored
# decision; written in the decision's own commit. Kept at least 24 hours.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("service", String(100), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("request_sha256", String(64), nullable=False),
    Column("decision_id", String(32), ForeignKey("decisions.id"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_idempotency_keys_created", "created_at"),
)

# Every override of a gate: a named person's, with a reason (also in the audit log, where the
# gates themselves cannot query it cheaply).
overrides = Table(
    "overrides",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("service", String(100), ForeignKey("services.name"), nullable=False),
    Column("environment", String(20), nullable=False),
    Column("gate", String(50), nullable=False),
    Column("version_id", Integer, ForeignKey("versions.id"), nullable=True),
    Column("subject", String(300), nullable=False),
    Column("reason", Text, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Index("ix_overrides_service_gate", "service", "environment", "gate"),
)


# Who may act: people and service accounts (the citizen portal), with roles global or per service.
identities = Table(
    "identities",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("kind", String(20), nullable=False),  # person | service
    Column("description", String(300), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("disabled_at", UTCDateTime, nullable=True),
)

role_grants = Table(
    "role_grants",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("identity_id", Integer, ForeignKey("identities.id"), nullable=False, index=True),
    Column("role", String(30), nullable=False),
    Column("service", String(100), nullable=True),  # None: every service
    UniqueConstraint("identity_id", "role", "service", name="uq_role_grants_identity_role_service"),
)

# Bearer tokens: shown once, kept only as an argon2 hash; found by their public id.
tokens = Table(
    "tokens",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("identity_id", Integer, ForeignKey("identities.id"), nullable=False, index=True),
    Column("label", String(200), nullable=False),
    Column("secret_hash", String(200), nullable=False),
    Column("services", JSONDoc, nullable=True),  # None: every service the identity's roles reach
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
)

# A service's test suites as applied, content-addressed: the golden cases, the checks and the
# reference set's cases, so a run reads exactly what was reviewed. The newest is the service's.
suites = Table(
    "suites",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("service", String(100), ForeignKey("services.name"), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("body", JSONDoc, nullable=False),
    Column("applied_at", UTCDateTime, nullable=False),
    Column("applied_by", String(200), nullable=False),
    UniqueConstraint("service", "sha256", name="uq_suites_service_sha256"),
)

# Every run of a suite on a version: what was tested (the version's and the suite's hashes),
# where (the environment and its fingerprint), by whom, and each check's result.
test_runs = Table(
    "test_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("service", String(100), ForeignKey("services.name"), nullable=False),
    Column("version_id", Integer, ForeignKey("versions.id"), nullable=False),
    Column("version_sha256", String(64), nullable=False),
    Column("suite_id", Integer, ForeignKey("suites.id"), nullable=False),
    Column("kind", String(10), nullable=False),
    Column("environment", String(20), nullable=False),
    Column("fingerprint", JSONDoc, nullable=False),
    Column("stable_version_id", Integer, ForeignKey("versions.id"), nullable=True),
    Column("outcome", String(10), nullable=False),
    Column("results", JSONDoc, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=False),
    Column("ran_by", String(200), nullable=False),
    Index("ix_test_runs_service_version", "service", "version_id"),
)

# What each environment was made of, each time it changed: recorded when a gateway starts (and
# by hand), so `relevo env diff` compares staging with production and a test run in staging can
# be held against production's runtime.
environment_fingerprints = Table(
    "environment_fingerprints",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("environment", String(20), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("fingerprint", JSONDoc, nullable=False),
    Column("taken_at", UTCDateTime, nullable=False),
    Column("taken_by", String(200), nullable=False),
    Index("ix_environment_fingerprints_environment", "environment", "id"),
)

# An approver's acceptance that a version validated in staging holds for production despite the
# differences between the two runtimes: named, with a reason, for the one test run and the one
# production fingerprint it compared.
staging_waivers = Table(
    "staging_waivers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("service", String(100), ForeignKey("services.name"), nullable=False),
    Column("test_run_id", Integer, ForeignKey("test_runs.id"), nullable=False),
    Column("fingerprint_id", Integer, ForeignKey("environment_fingerprints.id"), nullable=False),
    Column("differences", JSONDoc, nullable=False),
    Column("reason", Text, nullable=False),
    Column("waived_by", String(200), nullable=False),
    Column("waived_at", UTCDateTime, nullable=False),
)

# Recorded cases of one environment sent to a version in another (production to staging), and
# the paired comparison that came of it: what check-plan sizes paired steps on before a shadow step.
replays = Table(
    "replays",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("service", String(100), ForeignKey("services.name"), nullable=False),
    Column("source_environment", String(20), nullable=False),
    Column("target_environment", String(20), nullable=False),
    Column("version_id", Integer, ForeignKey("versions.id"), nullable=False),
    Column("cases_read", Integer, nullable=False),
    Column("replayed", Integer, nullable=False),
    Column("not_replayed", JSONDoc, nullable=False),
    Column("report", JSONDoc, nullable=False),
    Column("ran_at", UTCDateTime, nullable=False),
    Column("ran_by", String(200), nullable=False),
    Index("ix_replays_service", "service", "id"),
)

# Each pass of a service's monitors over one window of decisions: the window, the version it was
# held against, the report (drift, performance, fairness) and the window's own profile (what the
# next window is compared with), so a report reads the same later and nothing recomputes the past.
monitor_runs = Table(
    "monitor_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("service", String(100), ForeignKey("services.name"), nullable=False),
    Column("environment", String(20), nullable=False),
    Column("window", String(40), nullable=False),  # "1d", or "last 5000"
    Column("window_start", UTCDateTime, nullable=True),
    Column("window_end", UTCDateTime, nullable=False),
    Column("version_id", Integer, ForeignKey("versions.id"), nullable=True),
    Column("decisions", Integer, nullable=False),
    Column("report", JSONDoc, nullable=False),
    Column("profile", JSONDoc, nullable=False),
    Column("ran_at", UTCDateTime, nullable=False),
    Column("ran_by", String(200), nullable=False),
    # One run per period: replicas racing on the same period store it once.
    UniqueConstraint("service", "environment", "window", "window_end", name="uq_monitor_runs_service"),
)

# Alerts the monitors raised: one open per rule until what it watches is back to normal.
alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("service", String(100), ForeignKey("services.name"), nullable=False),
    Column("environment", String(20), nullable=False),
    Column("rule", String(300), nullable=False),
    Column("severity", String(10), nullable=False),
    Column("status", String(10), nullable=False),  # open | resolved
    Column("summary", Text, nullable=False),
    Column("details", JSONDoc, nullable=False),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("opened_run_id", Integer, ForeignKey("monitor_runs.id"), nullable=False),
    Column("last_run_id", Integer, ForeignKey("monitor_runs.id"), nullable=False),
    Column("escalated_at", UTCDateTime, nullable=True),
    Column("acknowledged_at", UTCDateTime, nullable=True),
    Column("acknowledged_by", String(200), nullable=True),
    Column("acknowledgement", Text, nullable=True),
    Column("resolved_at", UTCDateTime, nullable=True),
    Column("resolved_run_id", Integer, ForeignKey("monitor_runs.id"), nullable=True),
    Index("ux_alerts_open_rule", "service", "environment", "rule", unique=True,
          sqlite_where=text("status = 'open'"), postgresql_where=text("status = 'open'")),
)


# Governance's and continuity's tables are declared apart, and reach every reader of this module from here.
from relevo.store.governance_tables import checklist_marks, service_records, vendors  # noqa: E402, F401
from relevo.store.continuity_tables import deployment_notices, drills, runbook_confirmations  # noqa: E402, F401
