"""The evidence of one rollout, gathered for an auditor: the candidate's technical documentation
(Annex IV), the checklist it started with, approvals and overrides, test runs, the judge's
verdicts over time, its incidents, the service's records in force, and its audit events with
their inclusion proofs in one signed checkpoint (verifiable offline with the public key alone)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from relevo import audit, governance, registry, rollouts, suites
from relevo.audit import AuditEvent
from relevo.context import Context
from relevo.drills import Drill, drills_of
from relevo.errors import NotFound, Refused
from relevo.evidence.annex_iv import AnnexSection, annex_iv
from relevo.evidence.events import rollout_event_ids
from relevo.governance import Checklist, RecordEntry
from relevo.identity import holds
from relevo.registry import VersionDetails
from relevo.rollouts import Incident, KeptVerdict, RolloutSummary
from relevo.services import ServiceSpec
from relevo.store import connect
from relevo.store.tables import releases, rollout_verdicts
from relevo.suites import SuiteRun

# Who may build a pack: it holds the audit log's events of the rollout and the service's records.
EVIDENCE_READERS = ("auditor", "approver", "operator", "dpo", "admin")
# The events an approval or an override leaves: a promotion, an override with its reason, a
# checklist item attested or waived.
APPROVALS = ("rollout.promoted", "override.recorded", "checklist.attested", "checklist.waived")
DRILLS_BEFORE = timedelta(days=365)  # the drills a pack shows: those of the year up to the rollout's end


@dataclass(frozen=True)
class Evidence:
    """Everything an evidence pack holds about one rollout, as of generated_at."""

    service: str
    rollout: RolloutSummary
    generated_at: datetime
    generated_by: str
    candidate: VersionDetails
    spec: ServiceSpec  # the release's: what the candidate serves under
    annex_iv: list[AnnexSection]
    checklist: Checklist | None  # None for a rollout started before Relevo kept checklists
    approvals: list[AuditEvent]
    change_notice: dict[str, Any] | None  # the release.change_notice event's details, for a significant change
    test_runs: list[SuiteRun]  # of the candidate, newest first
    smoke_run: int | None  # the test run of the smoke cases that gated the rollout's start
    verdicts: list[KeptVerdict]  # every verdict the judge kept, in the order it kept them
    incidents: list[Incident]
    records: dict[str, RecordEntry]
    events: list[AuditEvent]  # every event audit_bundle proves, in the log's order
    public_key: str  # the instance's key that signed the bundle's checkpoint
    audit_bundle: dict[str, Any]  # relevo-audit-bundle/1 holding a selection: `relevo audit verify --bundle`
    drills: list[Drill] = field(default_factory=list)  # the service's drills of the year up to the rollout's end


def _verdicts(rollout_id: int) -> Any:
    return (select(rollout_verdicts).where(rollout_verdicts.c.rollout_id == rollout_id)
            .order_by(rollout_verdicts.c.id))


def evidence_of(ctx: Context, service: str, rollout_id: int) -> Evidence:
    """The evidence of a service's rollout (auditors, approvers, operators, the DPO, admins)."""
    if ctx.grants is not None and not any(holds(ctx.grants, role, service) for role in EVIDENCE_READERS):
        raise Refused(f"an evidence pack of {service} needs the {', '.join(EVIDENCE_READERS[:-1])} or "
                      f"{EVIDENCE_READERS[-1]} role")
    found = [r for r in rollouts.rollout_history(ctx, service) if r.id == rollout_id]
    if not found:
        raise NotFound(f"{service} has no rollout {rollout_id} (`relevo rollout history {service}` lists its rollouts)")
    rollout = found[0]
    candidate = registry.describe_version(ctx, service, rollout.candidate)
    try:
        checklist: Checklist | None = governance.checklist_of(ctx, service, rollout_id)
    except NotFound:  # started before Relevo kept checklists
        checklist = None
    incidents = [i for i in rollouts.list_incidents(ctx, service) if i.rollout_id == rollout_id]
    records = governance.service_records_of(ctx, service)
    runs = suites.suite_runs(ctx, service, rollout.candidate, limit=100)
    with connect(ctx.engine) as conn:
        spec = ServiceSpec.model_validate(conn.execute(
            select(releases.c.spec).where(releases.c.id == rollout.release.id)).scalar_one())
        verdicts = [KeptVerdict.kept(row["step_index"], row["at"], row["details"] | {"verdict": row["verdict"]})
                    for row in conn.execute(_verdicts(rollout_id)).mappings()]
        ids = rollout_event_ids(conn, rollout, [i.id for i in incidents])
        end = rollout.ended_at or ctx.clock.now()
        drills = [d for d in drills_of(conn, service, since=end - DRILLS_BEFORE) if d.started_at <= end]
    bundle = audit.selection_of(ctx, ids, f"the audit events of {service} rollout {rollout_id}, its incidents, its "
                                          f"routing changes and its candidate {rollout.candidate}")
    events = [AuditEvent(e["id"], datetime.fromisoformat(e["at"]), e["actor"], e["action"], e["subject"],
                         e["details"] or {}, e["seq"], e["leaf_hash"]) for e in bundle["events"]]
    mine = f"{service}/rollout-{rollout_id}"
    started = next((e for e in events if e.action == "rollout.started" and e.subject == mine), None)
    notice = next((e for e in events if e.action == "release.change_notice" and e.subject == mine), None)
    smoke_run = started.details.get("smoke_test_run") if started else None
    return Evidence(
        service=service, rollout=rollout, generated_at=ctx.clock.now(), generated_by=ctx.actor, candidate=candidate,
        spec=spec, annex_iv=annex_iv(candidate, spec, checklist, records, notice.details if notice else None, runs,
                                     smoke_run, incidents),
        checklist=checklist, approvals=[e for e in events if e.action in APPROVALS],
        change_notice=notice.details if notice else None, test_runs=runs, smoke_run=smoke_run, verdicts=verdicts,
        incidents=incidents, records=records, events=events, public_key=audit.public_key(ctx), audit_bundle=bundle,
        drills=drills)
