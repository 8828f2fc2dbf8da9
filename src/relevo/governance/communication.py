"""Communication of planned deployments: a notice to the RACI's informed people on every channel, given
a lead time ahead of the start, and a public notice for changes that affect citizens, in each of
the service's languages; the checklist's `communication` item reads both.

It sits in governance, not continuity, because the public notice reads governance's records (the
Art. 22 record's contest path, the controller, the DPO) and significance, and the checklist reads it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import AwareDatetime, WithJsonSchema
from sqlalchemy import Connection, select

from relevo.audit import record_change
from relevo.clock import parse_duration
from relevo.context import Context
from relevo.errors import Conflict, InvalidInput, NotFound
from relevo.governance.notice_text import NoticeFacts, relevo_template, render_notice
from relevo.governance.records import records_in_force
from relevo.governance.significance import Difference, significant_differences
from relevo.registry.queries import VersionRecord, resolve_version, version_by_id
from relevo.routing.environments import check_environment
from relevo.routing.table import read_route
from relevo.services.catalogue import get_spec, rules_digest, spec_digest
from relevo.services.communication_policy import CommunicationPolicy, Language
from relevo.services.roles import require_role
from relevo.services.spec import ServiceSpec
from relevo.services.windows import describe, is_open, next_openings
from relevo.store import connect, storable_text
from relevo.store.tables import deployment_notices

CITIZENS = "production"  # the environment whose stable route answers citizens
HORIZON = timedelta(days=366)  # a notice further ahead than this is a mistyped date
REMIND_BEFORE = timedelta(hours=24)


def _text(limit: int, what: str) -> dict[str, Any]:
    """The published schema of a short free text (no NUL, at least one visible character, at most limit)."""
    return {"type": "string", "minLength": 1, "maxLength": limit,
            "pattern": "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$", "description": what}


Summary = Annotated[str, WithJsonSchema(_text(1000, "what changes, in words citizens read (quoted in the notice)"))]
Contact = Annotated[str, WithJsonSchema(_text(500, "whom citizens contact about the change (default: the data "
                                                  "controller and the DPO)"))]
ReviewChannel = Annotated[str, WithJsonSchema(_text(500, "where citizens ask for a person to review their decision "
                                                         "(a desk, a form's address)"))]


@dataclass(frozen=True)
class DeploymentNotice:
    """A planned deployment's notice: the release, when it starts, whom it told, its public notices."""

    id: int
    service: str
    environment: str
    version: str
    spec_sha256: str
    plan: str
    planned_at: datetime
    summary: str | None
    contact: str | None
    review_channel: str | None
    informed: list[str]
    channels: list[str]
    public_due: str | None  # why a public notice is due; None: it is not
    languages: list[Language]  # the languages it is due in (the release spec's communication.languages)
    lead: str  # how long before the rollout may start (communication.lead)
    public: dict[str, dict[str, Any]]  # language: generated_by, generated_at, sha256, template
    given_by: str
    given_at: datetime


@dataclass(frozen=True)
class PublicNotice:
    """A public notice as generated (Markdown), on record."""

    notice_id: int
    service: str
    language: str
    text: str
    sha256: str
    template: str  # "relevo" or "custom sha256:<hash>"
    generated_by: str
    generated_at: datetime


def public_due(policy: CommunicationPolicy, environment: str, stable: VersionRecord | None, rules: ServiceSpec,
               candidate: VersionRecord, candidate_spec: ServiceSpec, significant: list[Difference]) -> str | None:
    """Why the release needs a public notice (it changes what citizens are answered by), or None."""
    if environment != CITIZENS:
        return None
    if significant:
        return "a significant change (" + ", ".join(dict.fromkeys(d.kind for d in significant)) + ")"
    if policy.public == "significant":
        return None
    if stable is None:
        return f"{candidate.name} is the first version citizens get"
    if candidate.id != stable.id:
        return f"{candidate.name} replaces {stable.name} for citizens"
    if rules_digest(candidate_spec) != rules_digest(rules):
        return "the decision rules citizens are answered by change"
    return "every release in production (communication.public: always)" if policy.public == "always" else None


def _changes(stable: VersionRecord | None, rules: ServiceSpec, candidate: VersionRecord, spec: ServiceSpec,
             significant: list[Difference]) -> list[str]:
    changes = ["version"] if stable is None or candidate.id != stable.id else []
    if rules_digest(spec) != rules_digest(rules):
        changes.append("rules")
    return changes + list(dict.fromkeys(d.kind for d in significant))


def _notice(row: Any, version: str) -> DeploymentNotice:
    public = {lang: {k: v for k, v in entry.items() if k != "text"} for lang, entry in row.public.items()}
    return DeploymentNotice(row.id, row.service, row.environment, version, row.spec_sha256, row.plan, row.planned_at,
                            row.summary, row.contact, row.review_channel, list(row.informed), list(row.channels),
                            row.facts.get("public_due"), row.facts["languages"], row.facts["lead"], public,
                            row.given_by, row.given_at)


def _when_refused(policy: ServiceSpec, at: datetime, earliest: datetime) -> str | None:
    """Why a start at `at` is not in the service's maintenance windows, naming the next openings; None when it is."""
    windows = policy.windows
    if is_open(windows, at):
        return None
    assert windows is not None
    upcoming = next_openings(windows, earliest, 3)
    where = ("; next openings: " + ", ".join(describe(o) for o in upcoming)) if upcoming else "; no window opens soon"
    return f"{at.isoformat()} is outside {policy.name}'s maintenance windows{where}"


def schedule_notice(ctx: Context, service: str, version: str, at: AwareDatetime, environment: str = "production",
                    plan: str | None = None, summary: Summary | None = None, contact: Contact | None = None,
                    review_channel: ReviewChannel | None = None, spec: ServiceSpec | None = None) -> DeploymentNotice:
    """Give notice of a planned deployment (operators): stored, audited and told at once to the
    spec's informed people on every channel; at must be a lead time ahead, inside a maintenance window."""
    now = ctx.clock.now()
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidInput("at must give its UTC offset (e.g. 2026-05-11T09:00:00+02:00)")
    for name, value in (("summary", summary), ("contact", contact), ("review_channel", review_channel)):
        if value is not None:
            storable_text(name, value, required=True)
    with connect(ctx.engine) as conn:
        rules = get_spec(conn, service)
        check_environment(conn, environment)
        if spec is not None and spec.name != service:
            raise InvalidInput(f"the spec describes service {spec.name!r}, not {service!r}")
        chosen = spec or rules
        plan_name = plan or rules.rollout.default_plan
        if plan_name not in rules.rollout.plans:
            raise NotFound(f"unknown plan {plan_name!r}; plans of {service}: {', '.join(rules.rollout.plans)}")
        require_role(conn, ctx, service, "operators")
        candidate = resolve_version(conn, service, version)
        lead = parse_duration(chosen.communication.lead)
        if at > now + HORIZON:
            raise Conflict(f"the planned start {at.isoformat()} is more than {HORIZON.days} days ahead: give notice "
                           "nearer the time")
        if at < now + lead:
            refusal = _when_refused(rules, now + lead, now + lead)
            raise Conflict(f"the planned start {at.isoformat()} is too soon: {service}'s notice is given at least "
                           f"{chosen.communication.lead} ahead (communication.lead), so from {(now + lead).isoformat()}"
                           + (f"; {refusal}" if refusal else ""))
        refusal = _when_refused(rules, at, now + lead)
        if refusal:
            raise Conflict(f"the planned start {refusal}")
        route = read_route(conn, service, environment)
        stable = version_by_id(conn, route.stable_version_id) if route and route.stable_version_id else None
        significant = (significant_differences(stable.metadata, rules, candidate.metadata, chosen)
                       if stable is not None else [])
        due = public_due(chosen.communication, environment, stable, rules, candidate, chosen, significant)
        informed = list(chosen.roles.informed)
        channels = [c.name for c in ctx.listeners.channels if c.name != "log"]
        facts = {"public_due": due, "languages": list(chosen.communication.languages),
                 "lead": chosen.communication.lead, "changes": _changes(stable, rules, candidate, chosen, significant),
                 "description": chosen.description, "decisions": list(chosen.decisions), "owner": chosen.owner,
                 "reviewed_labels": list(chosen.review.labels),
                 "timezone": chosen.windows.timezone if chosen.windows else None}
        digest = spec_digest(chosen)
        notice_id = conn.execute(deployment_notices.insert().returning(deployment_notices.c.id).values(
            service=service, environment=environment, version_id=candidate.id, spec_sha256=digest, plan=plan_name,
            planned_at=at, summary=summary, contact=contact, review_channel=review_channel, informed=informed,
            channels=channels, facts=facts, public={}, given_by=ctx.actor, given_at=now)).scalar_one()
        words = (f"{service}: {candidate.name} is planned in {environment} from {at:%Y-%m-%d %H:%M %Z} ({plan_name} "
                 f"plan)" + (f": {summary.strip()}" if summary else "")
                 + (f". A public notice is due ({due}): relevo notice public {service} {notice_id}" if due else ""))
        record_change(conn, ctx, "notice.scheduled", f"{service}/{candidate.name}",
                      {"notice_id": notice_id, "environment": environment, "plan": plan_name, "spec_sha256": digest,
                       "planned_at": at.isoformat(), "summary": summary, "public_due": due, "channels": channels},
                      at=now, notice=words, informed=informed)
        return _notice(_row(conn, service, notice_id), candidate.name)


def _row(conn: Connection, service: str, notice_id: int) -> Any:
    row = conn.execute(select(deployment_notices).where(deployment_notices.c.id == notice_id)).first()
    if row is None or row.service != service:
        raise NotFound(f"{service} has no deployment notice {notice_id}")
    return row


def notices_of(ctx: Context, service: str, version: str | None = None,
               environment: str | None = None) -> list[DeploymentNotice]:
    """A service's deployment notices, newest first (those of one version, or one environment)."""
    with connect(ctx.engine) as conn:
        get_spec(conn, service)
        query = select(deployment_notices).where(deployment_notices.c.service == service)
        if version is not None:
            query = query.where(deployment_notices.c.version_id == resolve_version(conn, service, version).id)
        if environment is not None:
            query = query.where(deployment_notices.c.environment == environment)
        rows = conn.execute(query.order_by(deployment_notices.c.id.desc())).all()
        return [_notice(r, version_by_id(conn, r.version_id).name) for r in rows]


def public_notice(ctx: Context, service: str, notice_id: int, language: Language = "es",
                  template: str | None = None) -> PublicNotice:
    """Generate a deployment's public notice in language (operators), from Relevo's template or the
    body's own (checked: every field known, every transparency point present); kept on record."""
    with connect(ctx.engine) as conn:
        row = _row(conn, service, notice_id)
        require_role(conn, ctx, service, "operators")
        version = version_by_id(conn, row.version_id).name
        held = records_in_force(conn, service)
        automated = held["automated_decisions"].body if "automated_decisions" in held else {}
        processing = held["processing_record"].body if "processing_record" in held else {}
        dpia = held["dpia"].body if "dpia" in held else {}
        f = row.facts
        facts = NoticeFacts(service, f["description"], f["decisions"], version, row.planned_at, f["timezone"],
                            f["changes"], row.id, row.given_at, row.summary, row.contact, row.review_channel,
                            f["reviewed_labels"], automated.get("human_step"), automated.get("contest"),
                            processing.get("controller"), dpia.get("reviewer"), f["owner"])
        text = render_notice(relevo_template(language) if template is None else template, facts, language,
                             f"public.{language}.md" if template is None else "given")
        sha = hashlib.sha256(text.encode()).hexdigest()
        source = f"custom sha256:{hashlib.sha256(template.encode()).hexdigest()}" if template is not None else "relevo"
        now = ctx.clock.now()
        entry = {"generated_by": ctx.actor, "generated_at": now.isoformat(), "sha256": sha, "template": source,
                 "text": text}
        conn.execute(deployment_notices.update().where(deployment_notices.c.id == row.id).values(
            public=dict(row.public) | {language: entry}))
        record_change(conn, ctx, "notice.public", f"{service}/{version}",
                      {"notice_id": row.id, "language": language, "sha256": sha, "template": source}, at=now)
        return PublicNotice(row.id, service, language, text, sha, source, ctx.actor, now)


def communication_state(conn: Connection, service: str, environment: str, candidate: VersionRecord, spec_sha: str,
                        policy: CommunicationPolicy, due: str | None, now: datetime) -> tuple[str, str]:
    """The checklist's communication item: passed once a notice of this release reached someone at
    least the lead time ago and, where due, its public notice exists in every language; else what is missing."""
    t = deployment_notices
    rows = conn.execute(select(t).where(t.c.service == service, t.c.environment == environment,
                                        t.c.version_id == candidate.id, t.c.spec_sha256 == spec_sha)
                        .order_by(t.c.id)).all()
    fix = f"relevo notice schedule {service} {candidate.name} --env {environment} --at WHEN"
    if not rows:
        return "open", f"no deployment notice of this release ({fix}, at least {policy.lead} ahead)"
    told = [r for r in rows if r.informed or r.channels]
    if not told:
        return "open", (f"notice {rows[-1].id} reached nobody: the spec's roles name no informed person and no channel "
                        "but the log is configured (RELEVO_NOTIFY_URLS, RELEVO_WEBHOOK_URL)")
    lead = parse_duration(policy.lead)
    ready = [r for r in told if r.given_at + lead <= now]
    if not ready:
        r = told[-1]
        return "open", (f"notice {r.id} was given {r.given_at:%Y-%m-%d %H:%M} UTC, less than the lead time "
                        f"({policy.lead}) ago: the rollout may start from {r.given_at + lead:%Y-%m-%d %H:%M} UTC")
    r = ready[-1]
    whom = ", ".join(list(r.informed) + [f"the {c} channel" for c in r.channels])
    evidence = f"notice {r.id} given by {r.given_by} on {r.given_at:%Y-%m-%d %H:%M} UTC to {whom}"
    if due is None:
        return "passed", evidence + "; no public notice due (the release changes nothing citizens are answered by)"
    missing = [lang for lang in policy.languages if lang not in r.public]
    if missing:
        return "open", (f"{evidence}; a public notice is due ({due}) and not generated in {', '.join(missing)}: "
                        f"relevo notice public {service} {r.id} --lang {missing[0]}")
    return "passed", f"{evidence}; public notice in {', '.join(policy.languages)}"


def remind_notices(ctx: Context) -> list[int]:
    """Remind the informed of each deployment planned within the next day, once; returns the notices' ids."""
    now = ctx.clock.now()
    t = deployment_notices
    with connect(ctx.engine) as conn:
        due = conn.execute(select(t.c.id).where(t.c.reminded_at.is_(None), t.c.planned_at > now,
                                                t.c.planned_at <= now + REMIND_BEFORE)).scalars().all()
    sent = []
    for notice_id in due:  # each in its own transaction, re-read under lock: another replica may have told it
        with connect(ctx.engine) as conn:
            row = conn.execute(select(t).where(t.c.id == notice_id).with_for_update()).first()
            if row is None or row.reminded_at is not None:
                continue
            conn.execute(t.update().where(t.c.id == notice_id).values(reminded_at=now))
            version = version_by_id(conn, row.version_id).name
            record_change(conn, ctx, "notice.reminder", f"{row.service}/{version}",
                          {"notice_id": row.id, "planned_at": row.planned_at.isoformat()}, at=now,
                          notice=f"{row.service}: {version} is planned in {row.environment} from "
                                 f"{row.planned_at:%Y-%m-%d %H:%M} UTC (notice {row.id})", informed=list(row.informed))
            sent.append(notice_id)
    return sent
