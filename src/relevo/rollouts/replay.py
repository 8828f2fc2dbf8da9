"""Replay: recorded cases of one environment (production) sent to a version in another (staging),
and the same paired report a shadow step gives: agreement with its interval, the flip table, the
same per protected group. No citizen's case reaches the version; check-plan then sizes the
rollout's paired steps on how the two versions really differ.

The cases leave production minimised: as the decision log keeps them (personal fields already
pseudonymised or dropped, as the spec's logging says), and then without any personal field at
all, so no pseudonym reaches staging, where it could be joined with anything. A case is not
replayed, and the report counts why, when production's answer came from the fallback or a case
worker (nothing to compare) or a rollout's candidate (not the stable version), when its inputs were not kept, when the current spec refuses them,
or when the version reads a personal field (which never leaves production).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Annotated, Any, Callable

import numpy as np
from pydantic import Field
from sqlalchemy import Connection, select

from relevo.audit import record_change
from relevo.audit.queries import Since, parse_since
from relevo.context import Context
from relevo.errors import InvalidInput, NotFound
from relevo.gateway.validation import InputRejected, InputValidator
from relevo.registry.load import load_version
from relevo.registry.queries import VersionRecord, resolve_version, version_name
from relevo.rollouts.observations import StepObservations
from relevo.rollouts.shadow_report import ShadowReport, shadow_report
from relevo.routing.environments import known_environment
from relevo.routing.table import read_route
from relevo.services.catalogue import get_spec
from relevo.services.roles import require_role
from relevo.services.spec import ServiceSpec
from relevo.store import connect
from relevo.store.tables import decisions, replays
from relevo.suites.answering import Answering

MAX_CASES = 100_000
NOT_A_MODEL = "answered in production by the fallback or a case worker: no model answer to compare"
BY_CANDIDATE = "answered in production by a rollout's candidate, not by the stable version"
NOT_KEPT = "its inputs were not kept (the spec's logging keeps none)"
PERSONAL = "the version reads a personal field, which never leaves production"


@dataclass(frozen=True)
class Replay:
    """One replay: what was read, replayed and why not, and the paired report."""

    id: int
    service: str
    source: str
    target: str
    version: str
    cases_read: int
    replayed: int
    not_replayed: dict[str, int]
    report: ShadowReport
    ran_at: datetime
    ran_by: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self) | {"report": self.report.as_dict()}


def _target_version(conn: Connection, service: str, target: str, version: str | None) -> VersionRecord:
    if version is not None:
        return resolve_version(conn, service, version)
    route = read_route(conn, service, target)
    for version_id in (route.candidate_version_id, route.stable_version_id) if route is not None else ():
        if version_id is not None:
            return resolve_version(conn, service, version_name(conn, version_id))
    try:
        return resolve_version(conn, service, "candidate")
    except NotFound:
        raise NotFound(f"{service} has no version routed in {target} and none tagged candidate: name the version "
                       "to replay to (--version V)") from None


def _minimised(spec: ServiceSpec) -> ServiceSpec:
    """The spec without its personal fields: what a replayed case may carry."""
    return spec.model_copy(update={"inputs": {n: f for n, f in spec.inputs.items() if not f.personal}})


def replay(ctx: Context, service: str, source: str = "production", target: str = "staging",
           version: str | None = None, since: Since | None = None,
           limit: Annotated[int, Field(ge=1, le=MAX_CASES)] = 1000,
           step: Callable[[], None] = lambda: None) -> Replay:
    """Send source's newest recorded cases (since a time, at most limit) to a version in target,
    compare its answers with the ones given, store the report and audit it."""
    known_environment(ctx, source)
    known_environment(ctx, target)
    if source == target:
        raise InvalidInput(f"replay from one environment to another: both are {source}")
    if not 1 <= limit <= MAX_CASES:
        raise InvalidInput(f"limit must lie between 1 and {MAX_CASES:,}, got {limit}")
    with connect(ctx.engine) as conn:
        spec = get_spec(conn, service)
        require_role(conn, ctx, service, "operators")
        record = _target_version(conn, service, target, version)
        query = select(decisions.c.served_by, decisions.c.arm, decisions.c.decision, decisions.c.inputs,
                       decisions.c.created_at).where(
            decisions.c.service == service, decisions.c.environment == source)
        if since is not None:
            query = query.where(decisions.c.created_at >= parse_since(since, ctx.clock.now()))
        rows = conn.execute(query.order_by(decisions.c.created_at.desc(), decisions.c.id.desc()).limit(limit)).all()
    minimised = _minimised(spec)
    validator = InputValidator(minimised)
    personal = {n for n, f in spec.inputs.items() if f.personal}
    reads_personal = sorted(personal & set(record.metadata.signature.names))
    why: Counter[str] = Counter()
    kept: list[tuple[Any, dict[str, Any]]] = []
    for row in reversed(rows):  # oldest first, as a step's observations
        if row.served_by != "version" or row.decision is None:
            why[NOT_A_MODEL] += 1
        elif row.arm == "candidate":
            why[BY_CANDIDATE] += 1
        elif not row.inputs:
            why[NOT_KEPT] += 1
        elif reads_personal:
            why[f"{PERSONAL} ({', '.join(reads_personal)})"] += 1
        else:
            try:
                kept.append((row, validator.validate({k: v for k, v in row.inputs.items() if k not in personal})))
            except InputRejected as exc:
                field, message = exc.errors[0]
                why[f"refused by the current spec ({field}: {message})"] += 1
    answers: list[str | None] = []
    if kept:
        _, model = load_version(ctx, service, record.name)
        version_answering = Answering(record, model, spec, ctx.clock)
        try:
            answers = version_answering.answer_many([clean for _, clean in kept])
        finally:
            version_answering.close()
        step()
    attributes = [n for n, f in spec.inputs.items() if f.protected]
    obs = _observations(kept, answers)
    report = shadow_report(obs, attributes, spec.decisions, alpha=spec.rollout.alpha)
    now = ctx.clock.now()
    with connect(ctx.engine) as conn:
        replay_id = conn.execute(replays.insert().values(
            service=service, source_environment=source, target_environment=target, version_id=record.id,
            cases_read=len(rows), replayed=len(kept), not_replayed=dict(why), report=report.as_dict(), ran_at=now,
            ran_by=ctx.actor).returning(replays.c.id)).scalar_one()
        record_change(conn, ctx, at=now, action="replay.ran", subject=f"{service}/{record.name}", details={
            "replay_id": replay_id, "source": source, "target": target, "cases_read": len(rows), "replayed": len(kept),
            "not_replayed": dict(why), "pairs": report.overall.pairs, "agreement": report.overall.agreement,
            "candidate_errors": report.candidate_errors})
    return Replay(replay_id, service, source, target, record.name, len(rows), len(kept), dict(why), report, now,
                  ctx.actor)


def _observations(kept: list[tuple[Any, dict[str, Any]]], answers: list[str | None]) -> StepObservations:
    """The replayed cases as a shadow step's observations: production's answer, the version's copy."""
    n = len(kept)
    return StepObservations(
        candidate=np.zeros(n, dtype=bool), decision=np.array([row.decision for row, _ in kept], dtype=object),
        latency_ms=np.zeros(n), failed=np.zeros(n, dtype=bool), corrected=np.zeros(n, dtype=bool),
        reviewed=np.zeros(n, dtype=bool), held=np.zeros(n, dtype=bool),
        created_at=np.array([np.datetime64(row.created_at.replace(tzinfo=None), "us") for row, _ in kept],
                            dtype="datetime64[us]"),
        inputs=[clean for _, clean in kept], shadow_decision=np.array(answers, dtype=object),
        shadow_failed=np.array([a is None for a in answers], dtype=bool), shadow_latency_ms=np.full(n, np.nan))


def newest_replay(conn: Connection, service: str, source: str) -> tuple[datetime, str, dict[str, Any]] | None:
    """(when, version, the report as stored) of the newest replay of source's cases, or None."""
    row = conn.execute(select(replays.c.ran_at, replays.c.version_id, replays.c.report).where(
        replays.c.service == service, replays.c.source_environment == source)
        .order_by(replays.c.id.desc()).limit(1)).first()
    return None if row is None else (row.ran_at, version_name(conn, row.version_id), row.report)
