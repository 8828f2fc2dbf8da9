"""A service's runbook, generated from its spec: a pure function of the spec, so its version is the
spec's hash and a spec change makes a new version its owners confirm again."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from relevo.services.catalogue import spec_digest
from relevo.services.rollout_policy import Criterion, Guard, Tolerance
from relevo.services.spec import Rule, ServiceSpec

# Who is told, by law, when an incident may harm people: said in every runbook, whatever the spec.
DATA_PROTECTION_AUTHORITY = "the data-protection authority (in Spain the AEPD)"
MARKET_SURVEILLANCE = "the market surveillance authority"


@dataclass(frozen=True)
class Section:
    """One heading of a runbook: a paragraph, then its points in order."""

    title: str
    text: str = ""
    points: list[str] = field(default_factory=list)
    ordered: bool = False  # steps to follow in order, not a list of facts


@dataclass(frozen=True)
class Confirmation:
    """An owner's confirmation of one runbook version."""

    by: str
    role: str  # operators | approvers
    at: datetime


@dataclass(frozen=True)
class Runbook:
    """A service's runbook as data: Markdown and HTML are both drawn from it."""

    service: str
    version: str  # the spec's sha256
    description: str
    owner: str
    detect: str
    recover: str
    sections: list[Section]
    confirmations: list[Confirmation] = field(default_factory=list)  # of this version, oldest first

    @property
    def confirmed(self) -> bool:
        """True when an owner confirmed this version."""
        return bool(self.confirmations)


def _names(names: list[str], role: str, service: str) -> str:
    return ", ".join(names) if names else f"anyone holding the {role} role for {service}"


def _tolerance(tolerance: Tolerance | None) -> str:
    if tolerance is None:
        return "within tolerance of"
    if tolerance.absolute is not None:
        points = tolerance.absolute * 100
        return f"at most {points:g} point{'' if points == 1 else 's'} above"
    return f"at most {tolerance.relative:g} times"


def criterion_words(criterion: Criterion) -> str:
    """An acceptance criterion as a sentence."""
    c = criterion
    if c.metric == "decision_rate":
        what = f"the share of {c.label} decisions {_tolerance(c.tolerance)} the stable version's"
    elif c.metric == "latency":
        what = (f"at most {c.max_share:.0%} of answers slower than {c.budget_ms:g} ms" if c.max_share is not None
                else f"the share of answers slower than {c.budget_ms:g} ms {_tolerance(c.tolerance)} the stable "
                "version's")
    elif c.metric == "correction_rate":
        what = (f"the share of reviewed decisions case workers correct {_tolerance(c.tolerance)} the stable "
                f"version's (decisions at least {c.review_delay} old)")
    elif c.metric == "error_rate":
        what = f"the share of failed model calls {_tolerance(c.tolerance)} the stable version's"
    elif c.metric == "fairness":
        what = (f"the rate of {c.label} for every {c.attribute} group at least {c.min_ratio:g} of the highest "
                "group's")
    else:
        what = f"the candidate agrees with the stable version on at least {c.min_agreement:.0%} of shadowed cases"
    return f"{c.name}: {what}, shown on at least {c.min_sample} of the candidate's decisions"


def guard_words(guard: Guard) -> str:
    """A guard as a sentence."""
    what = ("failed" if guard.metric == "error_rate" else f"were slower than {guard.budget_ms:g} ms")
    return (f"more than {guard.max_share:.0%} of the candidate's last {guard.last} decisions {what}: rolled back "
            "at once, without statistics")


def _rule_words(rule: Rule) -> str:
    symbols = {"eq": "=", "ne": "≠", "lt": "<", "lte": "≤", "gt": ">", "gte": "≥", "in": "in", "not_in": "not in"}
    conditions = " and ".join(f"{name} {symbols[op]} {value}" for name, ops in rule.when.items()
                              for op, value in ops.items())
    return f"when {conditions}: {rule.decision}" + (f" ({rule.reason})" if rule.reason else "")


def _plans(spec: ServiceSpec) -> list[Section]:
    watched = ", ".join(c.name for c in spec.rollout.criteria)
    guards = ", ".join(f"{g.metric} guard" for g in spec.rollout.guards) or "no guard"
    sections = []
    for name, steps in spec.rollout.plans.items():
        points = []
        for step in steps:
            if step.kind == "shadow":
                points.append(f"shadow for at least {step.duration}: the candidate answers copies of the cases, "
                              f"never citizens; the judge compares it with the stable version on {watched}")
            elif step.kind == "canary":
                points.append(f"canary: the candidate answers {step.weight:g}% of cases for at least "
                              f"{step.duration}; the judge watches {watched} and the {guards}")
            elif step.kind == "bluegreen":
                points.append(f"blue/green: a preview on mirrored traffic for at least {step.duration}, then every "
                              f"case switches to the candidate, watched for {step.watch_after_switch} on {watched} "
                              f"and the {guards}")
            else:
                points.append("promote: the candidate becomes the stable version"
                              + (", once an approver confirms" if spec.rollout.require_approval
                                 else " when every criterion is shown"))
        default = " (the default)" if name == spec.rollout.default_plan else ""
        sections.append(Section(
            f"Deployment steps: plan {name}{default}",
            f"Start with `relevo rollout start {spec.name} --plan {name}` once the release's checklist is clear; "
            "a step never passes before its duration ends, and one that ends without enough evidence waits for "
            "a person.", points, ordered=True))
    return sections


def _fallback(spec: ServiceSpec) -> Section:
    fallback = spec.fallback
    points = (["the fallback rules, in order: " + "; ".join(_rule_words(r) for r in fallback.rules)]
              if fallback.rules else [f"the fallback entry point {fallback.entrypoint}"] if fallback.entrypoint
              else [])
    points.append(f"then manual review: every other case goes to a case worker, and the citizen is given a "
                  f"reference starting {fallback.manual_reference_prefix}")
    points.append(f"the kill switch: `relevo fallback {spec.name} on` sends every case to the fallback at once, "
                  f"whatever the versions; `relevo fallback {spec.name} off` when the cause is fixed")
    return Section("Fallback procedure", f"When the model cannot answer (a timeout past {spec.timeout_ms:g} ms, an "
                   "error, an open circuit) or must not:", points, ordered=True)


def _notifications(spec: ServiceSpec) -> Section:
    roles = spec.roles
    personal = any(f.personal or f.protected for f in spec.inputs.values())
    points = [f"{DATA_PROTECTION_AUTHORITY}: within 72 hours of becoming aware of a breach where personal data may "
              "be affected (GDPR Art. 33), by the data-protection officer"
              + ("; this service's inputs include personal data" if personal else "")]
    points.append(f"{MARKET_SURVEILLANCE}: a serious incident (AI Act Art. 73), by the provider or deployer as "
                  "soon as the link with the system is known, within 15 days at the latest (2 days when widespread, "
                  "10 days after a death)")
    points.append("the informed: " + (", ".join(roles.informed) if roles.informed else "nobody named")
                  + ", told by Relevo on the notification channels of every rollout's start, hold, promotion, "
                  "rollback and revert")
    if roles.consulted:
        points.append("the consulted: " + ", ".join(roles.consulted) + ", asked before a release and told of any "
                      "incident it causes")
    return Section("Who notifies whom", "The incident owners see that these are made:", points)


def runbook_from_spec(spec: ServiceSpec, confirmations: list[Confirmation] | None = None) -> Runbook:
    """The runbook of spec, as data (a pure function of the spec)."""
    roles, service = spec.roles, spec.name
    owners = Section("Owners", "The service's RACI, from its spec's roles:", [
        f"responsible (operators: start, pause, resume, roll back): {_names(roles.operators, 'operator', service)}",
        f"accountable (approvers: promote, waive): {_names(roles.approvers, 'approver', service)}",
        f"incident owners (document cause and remediation): {_names(roles.incident_owners, 'operator', service)}",
        "consulted: " + (", ".join(roles.consulted) or "nobody named"),
        "informed: " + (", ".join(roles.informed) or "nobody named")])
    detect, recover = spec.runbook.detect, spec.runbook.recover
    targets = Section("Target times", "", [
        f"detect an incident within {detect}: guards and the judge watch every rollout step; monitors run every "
        f"{spec.monitoring.every}, and an alert nobody acknowledges is escalated after "
        f"{spec.monitoring.escalate_after}",
        f"recover within {recover}: roll back (`relevo rollout rollback ID`), or switch to the fallback "
        f"(`relevo fallback {service} on`), so that citizens are answered as before"])
    acceptance = Section("Acceptance criteria", "Each must be shown within its tolerance, on positive evidence, "
                         "before the candidate is promoted:", [criterion_words(c) for c in spec.rollout.criteria])
    rollback = Section("Rollback criteria", "The rollout is rolled back and an incident opened when:",
                       [guard_words(g) for g in spec.rollout.guards]
                       + ["any acceptance criterion is shown outside its tolerance, at any step"])
    monitoring = Section("After promotion: monitoring", f"Monitored windows of {spec.monitoring.window}; alerts "
                         "fire on:", [rule.name + f" ({rule.severity})" for rule in spec.monitoring.alerts]
                         or ["no alert rule: the spec's monitoring names none"])
    custom = [Section(s.title, s.body) for s in spec.runbook.sections]
    return Runbook(service, spec_digest(spec), spec.description, spec.owner, detect, recover,
                   [owners, targets, *_plans(spec), acceptance, rollback, monitoring, _fallback(spec),
                    _notifications(spec), *custom], list(confirmations or []))
