"""The demo's governance: the records its people keep for the licence pre-filter, and each
release's checklist closed the way they would close it."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Callable

from relevo import governance
from relevo.context import Context
from relevo.continuity import confirm_runbook
from relevo.demo import SERVICE_NAME
from relevo.demo.people import ADMIN, APPROVER, PUBLISHER, as_person
from relevo.environments import record_fingerprint
from relevo.governance import Checklist, ServiceRecords
from relevo.suites import run_suite

DPO = "dpo"
DPO_RECORDS = {
    "dpia": {"reference": "DPIA-2026-014", "completed_on": date(2026, 3, 2),
             "data_categories": ["applicant identifier", "age band", "nationality group", "licence application data"],
             "legal_basis": "GDPR Art. 6(1)(e): a task in the public interest (licensing, Ley 7/1985 art. 84)",
             "reviewer": "Data Protection Office"},
    "processing_record": {"entry": "RAT-URB-07", "controller": "City Council, Urban Planning",
                          "purposes": "pre-filtering activity licence applications for case workers"},
    "automated_decisions": {"solely_automated_legal_effect": False,
                            "human_step": "a case worker reviews every rejection and every uncertain answer",
                            "contest": "an administrative appeal (recurso de reposición) at the electronic office"},
}
OWNER_RECORDS = {
    "ai_act": {"role": "provider", "provider": "City Council, IT department (trained in-house)",
               "high_risk_annex_iii_5a": True,
               "reason": "it evaluates whether applicants qualify for a public service (a licence) before a case "
                         "worker does",
               "change_plan": ["training_data_source"]},
    "fria": {"reference": "FRIA-2026-003", "completed_on": date(2026, 3, 20),
             "assessor": "Licensing Department with the Data Protection Office",
             "affected_groups": ["licence applicants", "small businesses", "applicants over 65"],
             "notified_authority_on": date(2026, 4, 1)},
    "eu_registration": {"registration_id": "EU-HR-DEMO-000123", "registered_on": date(2026, 4, 2)},
}
DEMO_LEAD = timedelta(days=2)  # the demo spec's communication.lead (the default): the scenario's span counts it
NOTICE_SUMMARY = "the pre-filter is retrained on this year's applications"
NOTICE_REVIEW = "the citizen help desk, or any case worker at the electronic office"


def keep_records(ctx: Context) -> None:
    """The service's records, each kept by the person who answers for it."""
    governance.set_records(as_person(ctx, DPO), SERVICE_NAME, ServiceRecords.model_validate(DPO_RECORDS))
    governance.set_records(as_person(ctx, APPROVER), SERVICE_NAME, ServiceRecords.model_validate(OWNER_RECORDS))


def record_production(ctx: Context) -> None:
    """Production's fingerprint, as its gateway records it on start (here, the demo's own process)."""
    record_fingerprint(as_person(ctx, ADMIN), "production")


def _give_notice(publisher: Context, version: str, plan: str | None, step: Callable[[str], None]) -> None:
    """The release manager gives notice of the deployment, generates its public notices, and waits the lead time."""
    notice = governance.schedule_notice(publisher, SERVICE_NAME, version, publisher.clock.now() + DEMO_LEAD, plan=plan,
                                        summary=NOTICE_SUMMARY, review_channel=NOTICE_REVIEW)
    if notice.public_due:
        for language in notice.languages:
            governance.public_notice(publisher, SERVICE_NAME, notice.id, language)
    step(f"{version}: notice {notice.id} given to {', '.join(notice.informed)} {notice.lead} ahead"
         + (f", its public notice in {', '.join(notice.languages)}" if notice.public_due else ""))
    advance = getattr(publisher.clock, "advance", None)
    if advance is not None:  # the demo's simulated clock: the lead time passes before the rollout starts
        advance(DEMO_LEAD)


def prepare_release(ctx: Context, version: str, plan: str | None = None, waivers: dict[str, str] | None = None,
                    step: Callable[[str], None] = lambda _: None) -> Checklist:
    """Close version's checklist as the story's people would: its suite run in staging, the
    release manager's confirmation of the runbook and notice of the deployment, the DPO's review of a significant change, the service owner's
    conformity record for a substantial one, and the owner's waivers (item: reason)."""
    publisher, owner = as_person(ctx, PUBLISHER), as_person(ctx, APPROVER)
    run = run_suite(publisher, SERVICE_NAME, version, "staging")
    step(f"{version}: its suite {run.outcome} in staging (test run {run.id})")
    checklist = governance.checklist_of(publisher, SERVICE_NAME, version=version, plan=plan)
    for item in checklist.open:
        if item.item == "runbook":
            confirm_runbook(publisher, SERVICE_NAME)
        elif item.item == "communication" and not (waivers and item.item in waivers):
            _give_notice(publisher, version, plan, step)
        elif item.item == "dpia_review":
            step(f"{version}: {item.evidence}; the DPO reviews the DPIA")
            governance.attest(as_person(ctx, DPO), SERVICE_NAME, item.item,
                              f"DPIA-2026-014 reviewed for {version}: the processing of personal data is unchanged; "
                              "the new model family is recorded in the technical documentation", version=version, plan=plan)
        elif item.item == "conformity":
            step(f"{version}: outside the change plan, a substantial modification; the service owner attaches its "
                 "conformity record")
            governance.attest(owner, SERVICE_NAME, item.item, f"internal-control conformity assessment of {version} "
                              "(AI Act Annex VI) completed", link=f"docs/conformity/{SERVICE_NAME}-{version}.pdf",
                              version=version, plan=plan)
        elif waivers and item.item in waivers:
            step(f"{version}: the service owner waives {item.item}: {waivers[item.item]}")
            governance.waive(owner, SERVICE_NAME, item.item, waivers[item.item], version=version, plan=plan)
    return governance.checklist_of(publisher, SERVICE_NAME, version=version, plan=plan)
