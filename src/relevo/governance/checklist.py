"""The pre-deployment checklist: what must hold before a release may reach citizens.

Relevo ticks the items it holds the evidence for (metadata, tests, staging, shadowing, criteria,
the runbook its owners confirmed, fallback, the deployment's notice and public notice, records, contracts); the
others are attested by the role that answers for them (with a note or a link). An item that cannot hold may be waived by the service's accountable approver,
with a reason, except the two the law asks of people: the DPO's review of the DPIA after a
significant change, and the conformity record of a substantial modification. A rollout cannot
start while any item is open. Marks belong to one release (a version under one spec, in one
environment) and never carry over to another.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from relevo.continuity import confirmations_of
from relevo.environments import staging_validation_in
from relevo.governance.communication import communication_state, public_due
from relevo.governance.records import records_in_force
from relevo.governance.significance import Difference, outside_plan, significant_differences
from relevo.governance.vendors import Sla, vendors_of
from relevo.registry.queries import VersionRecord
from relevo.services.catalogue import spec_digest
from relevo.services.review_policy import ReviewPolicy
from relevo.services.spec import ServiceSpec
from relevo.store.tables import checklist_marks, suites, test_runs


@dataclass(frozen=True)
class ItemKind:
    """One line of the checklist: who answers for it, and whether it can be waived."""

    id: str
    title: str
    attested_by: str | None  # the spec role (operators, approvers) or grant (dpo) that attests it; None: Relevo ticks it
    waivable: bool = True


ITEMS = [
    ItemKind("metadata", "a versioned artifact with complete metadata", None),
    ItemKind("tests", "automated tests passed", None),
    ItemKind("staging", "validated in staging", None),
    ItemKind("shadow", "shadowing in production before any citizen gets its answers", None),
    ItemKind("criteria", "acceptance criteria and rollback thresholds defined", None),
    ItemKind("runbook", "runbook updated and owners confirmed", None),
    ItemKind("fallback", "a fallback plan documented", None),
    ItemKind("communication", "communication scheduled", None),
    ItemKind("records", "DPIA and regulatory documentation in place", None),
    ItemKind("dpia_review", "the DPIA reviewed for this significant change", "dpo", waivable=False),
    ItemKind("conformity", "a conformity record for this substantial modification", "approvers", waivable=False),
    ItemKind("contracts", "contracts and SLAs current", None),
]
BY_ID = {kind.id: kind for kind in ITEMS}
STATES = ("passed", "attested", "waived", "open", "not applicable")


@dataclass(frozen=True)
class ChecklistItem:
    """One item's state: passed (Relevo's evidence), attested, waived, open, or not applicable."""

    item: str
    title: str
    state: str
    evidence: str
    by: str | None = None  # "relevo" for its own evidence; the person who attested or waived
    at: datetime | None = None
    link: str | None = None


@dataclass(frozen=True)
class Checklist:
    """A release's checklist in one environment, and how it differs from the stable release."""

    service: str
    environment: str
    version: str
    spec_sha256: str
    items: list[ChecklistItem]
    significant: list[dict[str, str]] = field(default_factory=list)  # kind, what
    substantial: list[dict[str, str]] = field(default_factory=list)  # the differences outside the change plan
    rollout_id: int | None = None  # set when it is the checklist a rollout started with

    @property
    def open(self) -> list[ChecklistItem]:
        """The items still open: the rollout cannot start."""
        return [i for i in self.items if i.state == "open"]


def _marks(conn: Connection, service: str, environment: str, version_id: int, spec_sha: str) -> dict[str, Any]:
    """The newest mark of each item for this release."""
    rows = conn.execute(select(checklist_marks).where(
        checklist_marks.c.service == service, checklist_marks.c.environment == environment,
        checklist_marks.c.version_id == version_id, checklist_marks.c.spec_sha256 == spec_sha)
        .order_by(checklist_marks.c.id)).all()
    return {r.item: r for r in rows}


def _tests(conn: Connection, service: str, version: VersionRecord) -> tuple[bool, str]:
    suite = conn.execute(select(suites.c.id).where(suites.c.service == service)
                         .order_by(suites.c.applied_at.desc(), suites.c.id.desc()).limit(1)).scalar()
    if suite is None:
        return False, f"{service} has no test suite (give its spec a `tests` file)"
    run = conn.execute(select(test_runs.c.id, test_runs.c.outcome, test_runs.c.environment).where(
        test_runs.c.service == service, test_runs.c.version_id == version.id, test_runs.c.kind == "full",
        test_runs.c.suite_id == suite).order_by(test_runs.c.id.desc()).limit(1)).first()
    if run is None:
        return False, f"no full run of the current suite on {version.name} (relevo test {service} {version.name})"
    if run.outcome != "passed":
        return False, f"the newest full run on {version.name} (test run {run.id}) failed"
    return True, f"test run {run.id} passed in {run.environment}"


def _shadow(rules: ServiceSpec, plan_name: str) -> tuple[bool, str]:
    steps = rules.rollout.plans.get(plan_name) or []
    first = steps[0] if steps else None
    if first is not None and first.kind == "shadow":
        return True, f"the {plan_name} plan starts in shadow for {first.duration}: the judge must pass it first"
    if first is not None and first.kind == "bluegreen":
        return True, f"the {plan_name} plan previews the candidate on mirrored traffic before its switch"
    return False, f"the {plan_name} plan sends citizens' cases to the candidate without shadowing it first"


def _runbook(conn: Connection, service: str, spec_sha: str) -> tuple[str, str]:
    confirmed = confirmations_of(conn, service, spec_sha)
    if not confirmed:
        return "open", (f"the runbook of this spec (sha {spec_sha[:12]}) has not been confirmed: "
                        f"relevo runbook confirm {service}")
    return "passed", "the runbook of this spec (sha {}) confirmed by {}".format(
        spec_sha[:12], ", ".join(f"{c.by} ({c.role[:-1]}, {c.at:%Y-%m-%d})" for c in confirmed))


def _records(conn: Connection, service: str, spec: ServiceSpec, metadata) -> tuple[bool, str]:
    held = records_in_force(conn, service)
    personal = any(f.personal or f.protected for f in spec.inputs.values()) or any(
        f.personal or f.protected for f in metadata.fields)
    needed = ["ai_act", "automated_decisions"] + (["dpia", "processing_record"] if personal else [])
    ai_act = held.get("ai_act")
    if ai_act is not None and ai_act.body["high_risk_annex_iii_5a"]:
        needed += ["fria", "eu_registration"]  # a public body deploying a high-risk system (Art. 27, 49(3))
    missing = [kind for kind in needed if kind not in held]
    if missing:
        return False, "missing records: " + ", ".join(missing) + f" (relevo records {service} --set FILE)"
    automated = held["automated_decisions"].body
    if automated["solely_automated_legal_effect"] and spec.review == ReviewPolicy():
        return False, ("decisions are solely automated with legal effect, but the spec sends none to a case worker: "
                       "the human step GDPR Art. 22 asks for must exist (the spec's `review` section)")
    dated = ", ".join(f"{kind} by {held[kind].recorded_by} on {held[kind].recorded_at.date().isoformat()}"
                      for kind in needed)
    return True, f"records in force: {dated}"


def _contracts(conn: Connection, service: str, today) -> tuple[str, str]:
    supplied = vendors_of(conn, service)
    if not supplied:
        ai_act = records_in_force(conn, service).get("ai_act")
        if ai_act is not None and ai_act.body["role"] == "provider":
            return "not applicable", f"no vendor: the body provides {service} itself (its AI Act record)"
        return "open", (f"no vendor record covers {service} (relevo vendor add FILE), and its AI Act record does not "
                        "say the body provides it itself")
    problems = []
    for vendor in supplied:
        gaps = Sla.model_validate(vendor.sla).gaps()
        if vendor.renewal_date < today:
            problems.append(f"{vendor.name}'s contract {vendor.contract_reference} lapsed on {vendor.renewal_date}")
        if gaps:
            problems.append(f"{vendor.name}'s SLA lacks {', '.join(gaps)}")
    if problems:
        return "open", "; ".join(problems)
    return "passed", "; ".join(f"{v.name}: contract {v.contract_reference} until {v.renewal_date}" for v in supplied)


def evaluate(conn: Connection, *, service: str, environment: str, candidate: VersionRecord,
             candidate_spec: ServiceSpec, rules: ServiceSpec, plan_name: str, stable: VersionRecord | None,
             now: datetime) -> Checklist:
    """The checklist of releasing candidate under candidate_spec in environment, against stable
    under the current spec (rules), inside the caller's transaction."""
    spec_sha = spec_digest(candidate_spec)
    marks = _marks(conn, service, environment, candidate.id, spec_sha)
    significant: list[Difference] = []
    if stable is not None:
        significant = significant_differences(stable.metadata, rules, candidate.metadata, candidate_spec)
    ai_act = records_in_force(conn, service).get("ai_act")
    substantial = outside_plan(significant, ai_act.body["change_plan"] if ai_act is not None else [])

    found: dict[str, tuple[str, str]] = {}
    found["metadata"] = ("passed", f"{candidate.name} (sha256 {candidate.sha256[:12]}) registered by "
                                   f"{candidate.registered_by} with its metadata validated")
    ok, why = _tests(conn, service, candidate)
    found["tests"] = ("passed" if ok else "open", why)
    if environment == "staging":
        found["staging"] = ("not applicable", "the release is for staging itself")
    else:
        validation = staging_validation_in(conn, service, candidate.name)
        found["staging"] = ("passed" if validation.validated else "open", validation.why)
    ok, why = _shadow(rules, plan_name)
    found["shadow"] = ("passed" if ok else "open", why)
    criteria, guards = rules.rollout.criteria, rules.rollout.guards
    found["criteria"] = (("passed", f"{len(criteria)} criteria ({', '.join(c.name for c in criteria)}) and "
                                    f"{len(guards)} guards") if criteria and guards else
                         ("open", "the spec's rollout section defines no " + ("criteria" if not criteria else "guards")))
    fallback = candidate_spec.fallback
    found["fallback"] = (("passed", f"{len(fallback.rules)} fallback rules, then the manual queue") if fallback.rules
                         else ("passed", f"fallback entry point {fallback.entrypoint}, then the manual queue")
                         if fallback.entrypoint else ("open", "the spec's fallback has no rules and no entry point: "
                                                              "only the manual queue answers when the model cannot"))
    found["runbook"] = _runbook(conn, service, spec_sha)
    policy = candidate_spec.communication
    due = public_due(policy, environment, stable, rules, candidate, candidate_spec, significant)
    found["communication"] = communication_state(conn, service, environment, candidate, spec_sha, policy, due, now)
    ok, why = _records(conn, service, candidate_spec, candidate.metadata)
    found["records"] = ("passed" if ok else "open", why)
    if stable is None:
        found["dpia_review"] = ("open", "no stable version to compare the candidate with")
    elif significant:
        found["dpia_review"] = ("open", "a significant change: " + "; ".join(d.what for d in significant))
    else:
        found["dpia_review"] = ("not applicable", "no significant change from the stable release")
    if substantial:
        found["conformity"] = ("open", "a substantial modification, outside the pre-determined change plan: "
                                       + "; ".join(d.what for d in substantial))
    elif significant:
        found["conformity"] = ("not applicable", "every significant difference is within the pre-determined change plan")
    else:
        found["conformity"] = ("not applicable", "no significant change from the stable release")
    found["contracts"] = _contracts(conn, service, now.date())

    items = []
    for kind in ITEMS:
        state, evidence = found[kind.id]
        mark = marks.get(kind.id)
        if state == "open" and mark is not None:
            items.append(ChecklistItem(kind.id, kind.title, mark.mark, mark.note, mark.marked_by, mark.marked_at,
                                       mark.link))
        else:
            items.append(ChecklistItem(kind.id, kind.title, state, evidence, "relevo" if state == "passed" else None))
    return Checklist(service, environment, candidate.name, spec_sha, items,
                     [d.__dict__ for d in significant], [d.__dict__ for d in substantial])
