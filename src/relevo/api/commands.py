"""The use cases a person runs, as HTTP operations: one table the API's routes and the remote CLI share.

Each entry names a use case, its method and path; the path's `{names}` are the use case's
parameters of the same names, the others travel in the query (GET) or in a JSON body (POST, PUT,
PATCH), and the answer is the use case's result as JSON. Both sides derive the types from the use
case's own signature, so the CLI on a remote `relevo serve` calls exactly what it would call on a
local store, and gets the same typed result back to print.

Who may call: every operation needs a valid token. A change is checked by the use case itself
(the role it needs, for the service it concerns, four eyes), as on a local store. A read is open
to any identity unless `roles` narrows it: the audit log is read by auditors, operators, the
data-protection officer and admins; identities and tokens (never their secrets) by auditors and
admins.
"""

from __future__ import annotations

import inspect
import re
import typing
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Callable

from relevo import (audit, continuity, drills, environments, evidence, gateway, governance, identity, monitoring,
                    registry, rollouts, routing, services, suites, web)

AUDIT_READERS = ("auditor", "operator", "dpo", "admin")
ACCESS_READERS = ("auditor", "admin")  # who holds which roles, and which tokens exist
# A service's DPIA and AI Act records, and its vendors' contracts: for those who answer for them and auditors.
GOVERNANCE_READERS = ("operator", "approver", "dpo", "auditor", "admin")
# Monitoring reads a window of the decision log (seconds of work for a long one): not for clients.
MONITORING_READERS = ("operator", "approver", "auditor", "dpo", "admin")


@dataclass(frozen=True)
class Command:
    """One use case as one HTTP operation."""

    fn: Callable[..., Any]
    method: str
    path: str
    roles: tuple[str, ...] = ()  # for a read: who may call it (empty: any identity)
    tag: str = "administration"
    only: tuple[str, ...] | None = None  # the parameters a caller may give, when not all (the rest keep defaults)
    operation: str | None = None  # the operation's id, when the use case's name is taken
    body_rules: dict[str, Any] | None = None  # JSON Schema the body keeps as a whole (rules between its fields)

    @property
    def name(self) -> str:
        """The operation's id: the use case's name, unless given."""
        return self.operation or self.fn.__name__

    @property
    def reads(self) -> bool:
        """GET operations change nothing."""
        return self.method == "GET"

    @cached_property
    def hints(self) -> dict[str, Any]:
        """The use case's parameter and return types, resolved (with what a type publishes of itself:
        a pattern, a bound, its JSON form)."""
        return typing.get_type_hints(self.fn, include_extras=True)

    @cached_property
    def parameters(self) -> list[inspect.Parameter]:
        """The use case's parameters but its Context."""
        return [p for p in inspect.signature(self.fn).parameters.values()
                if p.name != "ctx" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
                and (self.only is None or p.name in self.only)]

    @cached_property
    def in_path(self) -> frozenset[str]:
        """The parameters the path carries."""
        return frozenset(re.findall(r"{(\w+)}", self.path))

    def url(self, arguments: dict[str, Any]) -> str:
        """The path with its parameters filled in (quoted)."""
        from urllib.parse import quote

        return re.sub(r"{(\w+)}", lambda m: quote(str(arguments[m.group(1)]), safe=""), self.path)


COMMANDS: list[Command] = [
    # Services, versions, tags.
    Command(services.list_services, "GET", "/v1/specs", tag="registry", operation="list_specs"),
    Command(rollouts.apply_by_hand, "POST", "/v1/specs", tag="registry"),
    Command(services.service_windows, "GET", "/v1/services/{service}/windows", tag="registry"),
    Command(registry.versions_of, "GET", "/v1/services/{service}/versions", tag="registry"),
    Command(registry.describe_version, "GET", "/v1/services/{service}/versions/{ref}", tag="registry"),
    Command(registry.verify, "GET", "/v1/services/{service}/verification", tag="registry", only=("service", "ref")),
    Command(registry.annotate_version, "POST", "/v1/services/{service}/versions/{ref}/annotations", tag="registry"),
    Command(gateway.predict_rows, "POST", "/v1/services/{service}/versions/{ref}/predictions",
            roles=("publisher", "operator", "admin"), tag="registry"),
    Command(rollouts.tag_by_hand, "PUT", "/v1/services/{service}/tags/{tag}", tag="registry"),
    Command(suites.apply_suite, "PUT", "/v1/services/{service}/suite", tag="registry"),
    Command(suites.suite_runs, "GET", "/v1/services/{service}/test-runs", tag="registry"),
    # A suite runs on the server, recorded with the server's environment's fingerprint.
    Command(suites.run_suite, "POST", "/v1/services/{service}/test-runs", tag="registry",
            only=("service", "ref", "environment")),
    # Routes and the kill switch.
    Command(routing.describe_route, "GET", "/v1/services/{service}/routes/{environment}", tag="routing"),
    Command(rollouts.route_by_hand, "PATCH", "/v1/services/{service}/routes/{environment}", tag="routing"),
    Command(rollouts.fallback_by_hand, "PUT", "/v1/services/{service}/routes/{environment}/fallback", tag="routing"),
    # Environments: what they are made of, how they differ, what was validated in staging.
    Command(routing.list_environments, "GET", "/v1/environments", tag="environments"),
    Command(routing.add_environment, "POST", "/v1/environments", tag="environments"),
    Command(environments.diff_environments, "GET", "/v1/environments/{left}/differences/{right}", tag="environments"),
    Command(environments.staging_validation, "GET", "/v1/services/{service}/versions/{version}/staging-validation",
            tag="environments"),
    Command(environments.waive_differences, "POST", "/v1/services/{service}/versions/{version}/staging-waivers",
            tag="environments"),
    Command(rollouts.replay, "POST", "/v1/services/{service}/replays", tag="environments",
            only=("service", "source", "target", "version", "since", "limit")),
    # Rollouts and incidents.
    Command(rollouts.start_rollout, "POST", "/v1/services/{service}/rollouts", tag="rollouts",
            body_rules={"anyOf": [services.given_fields("version"), services.given_fields("spec")]}),
    Command(rollouts.rollout_history, "GET", "/v1/services/{service}/rollouts", tag="rollouts"),
    Command(rollouts.rollout_status, "GET", "/v1/services/{service}/rollout-status", tag="rollouts"),
    Command(rollouts.check_plan, "GET", "/v1/services/{service}/plan-check", tag="rollouts"),
    Command(rollouts.transition, "POST", "/v1/rollouts/{rollout_id}/transitions", tag="rollouts"),
    # Only the controller promotes or rolls back automatically, never a caller.
    Command(rollouts.promote, "POST", "/v1/rollouts/{rollout_id}/promotion", tag="rollouts",
            only=("rollout_id", "override")),
    Command(rollouts.rollback, "POST", "/v1/rollouts/{rollout_id}/rollback", tag="rollouts",
            only=("rollout_id", "reason")),
    Command(rollouts.revert, "POST", "/v1/rollouts/{rollout_id}/revert", tag="rollouts"),
    Command(rollouts.list_incidents, "GET", "/v1/incidents", tag="rollouts"),
    Command(rollouts.document_incident, "POST", "/v1/incidents/{incident_id}/documentation", tag="rollouts"),
    Command(rollouts.classify_incident, "POST", "/v1/incidents/{incident_id}/classifications", tag="rollouts",
            body_rules=rollouts.KIND_ONLY_FOR_AI_ACT),
    Command(rollouts.record_incident_report, "POST", "/v1/incidents/{incident_id}/reports", tag="rollouts"),
    # The pre-deployment checklist, a service's records, vendors.
    Command(governance.checklist_of, "GET", "/v1/services/{service}/checklist", tag="governance",
            only=("service", "rollout_id", "version", "environment", "plan")),
    Command(governance.attest, "POST", "/v1/services/{service}/checklist/attestations", tag="governance"),
    Command(governance.waive, "POST", "/v1/services/{service}/checklist/waivers", tag="governance"),
    Command(governance.service_records_of, "GET", "/v1/services/{service}/records", roles=GOVERNANCE_READERS,
            tag="governance"),
    Command(governance.set_records, "PUT", "/v1/services/{service}/records", tag="governance"),
    Command(governance.list_vendors, "GET", "/v1/vendors", roles=GOVERNANCE_READERS, tag="governance"),
    Command(governance.record_vendor, "POST", "/v1/vendors", tag="governance"),
    # A service's runbook, generated from its spec, and its owners' confirmations of that version.
    Command(continuity.runbook_of, "GET", "/v1/services/{service}/runbook", tag="governance", only=("service",)),
    Command(continuity.confirm_runbook, "POST", "/v1/services/{service}/runbook/confirmations", tag="governance",
            only=("service",)),
    # Drills: their history and their schedule.
    Command(drills.drill_history, "GET", "/v1/services/{service}/drills", tag="governance"),
    # A drill runs on the server, on a scratch SQLite store (a scratch PostgreSQL cluster only from the CLI).
    Command(drills.run_drill, "POST", "/v1/services/{service}/drills", tag="governance",
            only=("service", "environment", "scenario", "real_time", "override")),
    Command(drills.drill_schedule, "GET", "/v1/services/{service}/drills/schedule", tag="governance"),
    # The deployment playbook, as one Markdown or HTML document.
    Command(web.playbook_document, "GET", "/v1/services/{service}/playbook", tag="governance"),
    # Planned deployments' notices, told to the informed; their public notices, generated and kept on record
    # (a changed spec and a body's own template travel only to a local store: `relevo notice --spec/--template`).
    Command(governance.schedule_notice, "POST", "/v1/services/{service}/notices", tag="governance",
            only=("service", "version", "at", "environment", "plan", "summary", "contact", "review_channel")),
    Command(governance.notices_of, "GET", "/v1/services/{service}/notices", tag="governance"),
    Command(governance.public_notice, "POST", "/v1/services/{service}/notices/{notice_id}/public-notices",
            tag="governance", only=("service", "notice_id", "language")),
    # A rollout's evidence pack, as JSON (`relevo evidence` writes the zip from it).
    Command(evidence.evidence_of, "GET", "/v1/services/{service}/rollouts/{rollout_id}/evidence",
            roles=evidence.EVIDENCE_READERS, tag="governance"),
    # Monitoring: passes, reports, runs, alerts.
    Command(monitoring.run_monitors, "POST", "/v1/services/{service}/monitor-runs", tag="monitoring",
            only=("service", "environment")),
    Command(monitoring.monitor_runs_of, "GET", "/v1/services/{service}/monitor-runs", roles=MONITORING_READERS,
            tag="monitoring"),
    Command(monitoring.monitor_run, "GET", "/v1/monitor-runs/{run_id}", roles=MONITORING_READERS, tag="monitoring"),
    Command(monitoring.monitoring_report, "GET", "/v1/services/{service}/monitoring", roles=MONITORING_READERS,
            tag="monitoring", only=("service", "environment", "window", "last")),
    Command(monitoring.list_alerts, "GET", "/v1/alerts", roles=MONITORING_READERS, tag="monitoring"),
    Command(monitoring.acknowledge_alert, "POST", "/v1/alerts/{alert_id}/acknowledgement", tag="monitoring"),
    # The decision log's retention: decisions past it purged (the schedule in `relevo serve` does it daily).
    Command(gateway.purge_decisions, "POST", "/v1/services/{service}/purges", tag="retention",
            only=("service", "dry_run")),
    # Identities and tokens.
    Command(identity.list_identities, "GET", "/v1/identities", roles=ACCESS_READERS, tag="identities"),
    Command(identity.add_identity, "POST", "/v1/identities", tag="identities"),
    Command(identity.change_grants, "POST", "/v1/identities/{name}/grants", tag="identities"),
    Command(identity.disable_identity, "POST", "/v1/identities/{name}/disable", tag="identities"),
    Command(identity.list_tokens, "GET", "/v1/tokens", roles=ACCESS_READERS, tag="identities"),
    Command(identity.create_token, "POST", "/v1/tokens", tag="identities"),
    Command(identity.revoke_token, "POST", "/v1/tokens/{token_id}/revoke", tag="identities"),
    # The audit log.
    Command(audit.read_events, "GET", "/v1/audit/events", roles=AUDIT_READERS, tag="audit"),
    Command(audit.verify_store, "GET", "/v1/audit/verification", roles=AUDIT_READERS, tag="audit"),
    Command(audit.bundle_of, "GET", "/v1/audit/bundle", roles=AUDIT_READERS, tag="audit"),
    Command(audit.prove_event, "GET", "/v1/audit/events/{event_id}/proof", roles=AUDIT_READERS, tag="audit"),
    Command(audit.prove_growth, "POST", "/v1/audit/growth-proof", roles=AUDIT_READERS, tag="audit"),
    Command(audit.checkpoint, "POST", "/v1/audit/checkpoints", roles=AUDIT_READERS, tag="audit"),
    Command(audit.public_key, "GET", "/v1/audit/key", tag="audit"),
    Command(audit.rotate_key, "POST", "/v1/audit/key/rotation", tag="audit"),
    Command(audit.replace_lost_key, "POST", "/v1/audit/key/replacement", tag="audit"),
]

BY_FUNCTION: dict[Callable[..., Any], Command] = {c.fn: c for c in COMMANDS}
