"""The checklist as a gate: reading a release's checklist, marking its items, and refusing a
rollout's start while any is open."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import WithJsonSchema

from sqlalchemy import Connection, select

from relevo.audit import record_change
from relevo.audit.reasons import MIN_REASON, Reason, check_reason
from relevo.context import Context
from relevo.errors import Conflict, InvalidInput, NotFound, Refused
from relevo.governance.checklist import BY_ID, ITEMS, Checklist, ChecklistItem, evaluate
from relevo.identity import require_grant
from relevo.registry.queries import VersionRecord, resolve_version, version_by_id
from relevo.routing.environments import known_environment
from relevo.routing.table import read_route
from relevo.services.catalogue import get_spec, spec_digest
from relevo.services.roles import require_role
from relevo.services.spec import ServiceSpec
from relevo.store import connect, storable_text
from relevo.store.tables import checklist_marks, rollouts, tags

ITEM_IDS = tuple(kind.id for kind in ITEMS)
# A checklist item's name: the published schema lists them; an unknown one is NotFound, naming them.
ItemId = Annotated[str, WithJsonSchema({"type": "string", "enum": list(ITEM_IDS)})]
# Where an attestation's evidence lives (a URL, a document reference): the published schema states its rule.
Link = Annotated[str, WithJsonSchema({"type": "string", "minLength": 1, "maxLength": 500, "pattern": "^[^\\u0000]+$"})]


def _candidate(conn: Connection, service: str, version: str | None, spec: ServiceSpec | None,
               stable: VersionRecord | None) -> VersionRecord:
    if version is not None:
        return resolve_version(conn, service, version)
    if spec is not None and stable is not None:
        return stable  # a spec-only release of the stable version
    tagged = conn.execute(select(tags.c.version_id).where(tags.c.service == service, tags.c.tag == "candidate")).scalar()
    if tagged is None:
        raise NotFound(f"{service} has no version tagged candidate: name the version whose checklist to show "
                       "(--version)")
    return version_by_id(conn, tagged)


def release_checklist(conn: Connection, ctx: Context, service: str, version: str | None, environment: str,
                      spec: ServiceSpec | None = None, plan: str | None = None) -> Checklist:
    """The checklist of a release not yet started, inside the caller's transaction."""
    rules = get_spec(conn, service)
    if spec is not None and spec.name != service:
        raise InvalidInput(f"the spec describes service {spec.name!r}, not {service!r}")
    plan_name = plan or rules.rollout.default_plan
    if plan_name not in rules.rollout.plans:
        raise NotFound(f"unknown plan {plan_name!r}; plans of {service}: {', '.join(rules.rollout.plans)}")
    route = read_route(conn, service, environment)
    stable = version_by_id(conn, route.stable_version_id) if route and route.stable_version_id else None
    candidate = _candidate(conn, service, version, spec, stable)
    return evaluate(conn, service=service, environment=environment, candidate=candidate,
                    candidate_spec=spec or rules, rules=rules, plan_name=plan_name, stable=stable,
                    now=ctx.clock.now())


def checklist_of(ctx: Context, service: str, rollout_id: int | None = None, version: str | None = None,
                 environment: str = "production", plan: str | None = None,
                 spec: ServiceSpec | None = None) -> Checklist:
    """A release's checklist as it stands (version, default: the one tagged candidate), or the
    one a rollout started with."""
    if rollout_id is None:
        known_environment(ctx, environment)
    with connect(ctx.engine) as conn:
        get_spec(conn, service)
        if rollout_id is None:
            return release_checklist(conn, ctx, service, version, environment, spec, plan)
        row = conn.execute(select(rollouts.c.service, rollouts.c.checklist).where(rollouts.c.id == rollout_id)).first()
        if row is None or row.service != service:
            raise NotFound(f"{service} has no rollout {rollout_id}")
        if row.checklist is None:
            raise NotFound(f"rollout {rollout_id} started before Relevo kept checklists: it has none")
        return stored_checklist(row.checklist, rollout_id)


def stored_checklist(body: dict[str, Any], rollout_id: int | None = None) -> Checklist:
    """A checklist from its JSON form (as a rollout keeps it)."""
    from datetime import datetime

    items = [ChecklistItem(**(i | {"at": datetime.fromisoformat(i["at"]) if i.get("at") else None}))
             for i in body["items"]]
    return Checklist(body["service"], body["environment"], body["version"], body["spec_sha256"], items,
                     body.get("significant", []), body.get("substantial", []), rollout_id)


def checklist_json(checklist: Checklist) -> dict[str, Any]:
    """The JSON form a rollout keeps."""
    return {"service": checklist.service, "environment": checklist.environment, "version": checklist.version,
            "spec_sha256": checklist.spec_sha256, "significant": checklist.significant,
            "substantial": checklist.substantial,
            "items": [i.__dict__ | {"at": i.at.isoformat() if i.at else None} for i in checklist.items]}


def _mark(ctx: Context, service: str, item: str, mark: str, note: str, link: str | None, version: str | None,
          environment: str, plan: str | None, spec: ServiceSpec | None) -> Checklist:
    kind = BY_ID.get(item)
    if kind is None:
        raise NotFound(f"unknown checklist item {item!r}; items: {', '.join(ITEM_IDS)}")
    known_environment(ctx, environment)
    storable_text("note", note)
    if link is not None:
        storable_text("link", link)
        if len(link) > 500:
            raise InvalidInput("link: at most 500 characters")
    with connect(ctx.engine) as conn:
        current = release_checklist(conn, ctx, service, version, environment, spec, plan)
        state = next(i for i in current.items if i.item == item)
        if mark == "waived":
            if not kind.waivable:
                raise Refused(f"{item} ({kind.title}) cannot be waived: it needs the "
                              f"{'data-protection officer' if kind.attested_by == 'dpo' else 'accountable approver'}'s "
                              "attestation")
            require_role(conn, ctx, service, "approvers")
        else:
            if kind.attested_by is None:
                raise Refused(f"{item} ({kind.title}) is ticked by Relevo from its evidence, not attested; an approver "
                              "may waive it with a reason if it cannot hold")
            if kind.attested_by == "dpo":
                require_grant(ctx, "dpo", service)
            else:
                require_role(conn, ctx, service, kind.attested_by)
        if state.state in ("passed", "not applicable"):
            raise Conflict(f"{item} is {state.state} ({state.evidence}): nothing to "
                           f"{'attest' if mark == 'attested' else 'waive'}")
        candidate = resolve_version(conn, service, current.version)
        now = ctx.clock.now()
        conn.execute(checklist_marks.insert().values(
            service=service, environment=environment, version_id=candidate.id, spec_sha256=current.spec_sha256,
            item=item, mark=mark, note=note, link=link, marked_by=ctx.actor, marked_at=now))
        record_change(conn, ctx, at=now, action=f"checklist.{mark}", subject=f"{service}/{candidate.name}",
                      details={"environment": environment, "item": item, "note": note, "link": link,
                               "spec_sha256": current.spec_sha256, "was": state.evidence})
        return release_checklist(conn, ctx, service, current.version, environment, spec, plan)


def attest(ctx: Context, service: str, item: ItemId, note: Reason, link: Link | None = None, version: str | None = None,
           environment: str = "production", plan: str | None = None, spec: ServiceSpec | None = None) -> Checklist:
    """Attest an item Relevo cannot tick (by the role that answers for it), with a note (and a link);
    plan: the plan the rollout will follow (default: the service's), as the checklist depends on it."""
    if len(note.strip()) < MIN_REASON:
        raise InvalidInput(f"an attestation says what was done (a note of at least {MIN_REASON} characters)")
    return _mark(ctx, service, item, "attested", note.strip(), link, version, environment, plan, spec)


def waive(ctx: Context, service: str, item: ItemId, reason: Reason, version: str | None = None,
          environment: str = "production", plan: str | None = None, spec: ServiceSpec | None = None) -> Checklist:
    """The accountable approver's waiver of an item that cannot hold for this release, with a reason."""
    reason = check_reason(reason, f"the checklist item {item}")
    return _mark(ctx, service, item, "waived", reason, None, version, environment, plan, spec)


def require_clear(conn: Connection, ctx: Context, service: str, candidate: VersionRecord, environment: str,
                  spec: ServiceSpec, plan: str) -> Checklist:
    """The release's checklist, or Refused naming every open item and how to close it."""
    checklist = release_checklist(conn, ctx, service, candidate.name, environment,
                                  spec if spec_digest(spec) != spec_digest(get_spec(conn, service)) else None, plan)
    if checklist.open:
        lines = "; ".join(f"{i.item} ({i.evidence})" for i in checklist.open)
        raise Refused(f"{service} {candidate.name} cannot start in {environment}: its checklist has open items: {lines}. "
                      f"See `relevo checklist {service} --version {candidate.name} --env {environment}`; items Relevo "
                      "cannot tick are attested (`relevo attest`), an item that cannot hold is waived by an approver "
                      "with a reason (`relevo waive`)")
    # Four eyes: whoever waived what the evidence could not show does not also start the rollout.
    own = [i.item for i in checklist.items if i.state == "waived" and i.by == ctx.actor]
    if own:
        raise Refused(f"{ctx.actor} waived {', '.join(own)} on the checklist of {service} {candidate.name} and cannot "
                      "also start its rollout: another operator starts it")
    return checklist
