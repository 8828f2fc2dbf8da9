"""Environments' fingerprints as recorded, their differences, and what "validated in staging" means.

A fingerprint is recorded when a gateway starts (and by hand, `relevo env fingerprint`), and
kept only when it differs from the environment's last one. A version is validated in staging
when its newest full test run in staging passed on the runtime production runs now (same Python,
same packages, same Relevo), or when an approver other than the one who ran it waived the
differences, with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from relevo.audit import record_change
from relevo.audit.reasons import Reason, check_reason
from relevo.context import Context
from relevo.environments.diff import Difference, differences
from relevo.environments.fingerprint import digest, runtime, served
from relevo.errors import Conflict, NotFound, Refused
from relevo.identity import holds
from relevo.registry.queries import resolve_version
from relevo.routing.environments import check_environment, known_environment
from relevo.services.catalogue import get_spec
from relevo.store import connect
from relevo.store.tables import environment_fingerprints, staging_waivers, test_runs


@dataclass(frozen=True)
class Fingerprint:
    """One recorded fingerprint of an environment."""

    id: int
    environment: str
    sha256: str
    taken_at: datetime
    taken_by: str
    body: dict[str, Any]


def _row(row: Any) -> Fingerprint:
    return Fingerprint(row.id, row.environment, row.sha256, row.taken_at, row.taken_by, row.fingerprint)


def latest_fingerprint(conn: Connection, environment: str) -> Fingerprint | None:
    """The environment's newest fingerprint, or None."""
    row = conn.execute(select(environment_fingerprints).where(environment_fingerprints.c.environment == environment)
                       .order_by(environment_fingerprints.c.id.desc()).limit(1)).first()
    return None if row is None else _row(row)


def record_fingerprint(ctx: Context, environment: str, settings_sha256: str | None = None) -> Fingerprint:
    """Record what environment is made of now (the running process's runtime, its settings' hash,
    what each service serves there); kept and audited only when it changed."""
    known_environment(ctx, environment)
    if ctx.grants is not None and not holds(ctx.grants, "operator", None):
        raise Refused(f"{ctx.actor} does not hold the operator role: recording an environment's fingerprint")
    with connect(ctx.engine) as conn:
        body = {"environment": environment} | runtime() | {"settings_sha256": settings_sha256,
                                                           "services": served(conn, environment)}
        sha = digest(body)
        last = latest_fingerprint(conn, environment)
        if last is not None and last.sha256 == sha:
            return last
        now = ctx.clock.now()
        new_id = conn.execute(environment_fingerprints.insert().values(
            environment=environment, sha256=sha, fingerprint=body, taken_at=now, taken_by=ctx.actor,
        ).returning(environment_fingerprints.c.id)).scalar_one()
        changed = [d.what for d in differences(last.body, body)] if last is not None else ["first fingerprint"]
        record_change(conn, ctx, at=now, action="environment.fingerprinted", subject=environment,
                      details={"fingerprint_id": new_id, "sha256": sha, "changed": changed[:50],
                               "packages_sha256": body["packages_sha256"], "python": body["python"]})
        return Fingerprint(new_id, environment, sha, now, ctx.actor, body)


@dataclass(frozen=True)
class EnvironmentDiff:
    """Every difference between two environments' newest fingerprints."""

    left: Fingerprint
    right: Fingerprint
    differences: list[Difference]


def diff_environments(ctx: Context, left: str, right: str) -> EnvironmentDiff:
    """Compare two environments' newest fingerprints; NotFound naming one that has none."""
    with connect(ctx.engine) as conn:
        found = {}
        for name in (left, right):
            check_environment(conn, name)
            found[name] = latest_fingerprint(conn, name)
            if found[name] is None:
                raise NotFound(f"{name} has no fingerprint yet: one is recorded when a gateway starts there "
                               f"(relevo serve --env {name}), or by hand (relevo env fingerprint --env {name})")
    a, b = found[left], found[right]
    assert a is not None and b is not None
    return EnvironmentDiff(a, b, differences(a.body, b.body))


@dataclass(frozen=True)
class StagingValidation:
    """Whether a version is validated in staging for production, and on what evidence."""

    service: str
    version: str
    validated: bool
    why: str
    test_run_id: int | None = None
    production_fingerprint_id: int | None = None
    differences: list[Difference] | None = None
    waived_by: str | None = None
    reason: str | None = None


def _evidence(conn: Connection, service: str, version: str) -> tuple[Any, Fingerprint | None, list[Difference]]:
    record = resolve_version(conn, service, version)
    run = conn.execute(select(test_runs).where(
        test_runs.c.service == service, test_runs.c.version_id == record.id, test_runs.c.environment == "staging",
        test_runs.c.kind == "full").order_by(test_runs.c.id.desc()).limit(1)).first()
    production = latest_fingerprint(conn, "production")
    found = [] if run is None or production is None else differences(
        run.fingerprint, production.body, runtime_only=True)
    return run, production, found


def staging_validation(ctx: Context, service: str, version: str) -> StagingValidation:
    """Validated: the newest full run in staging passed on production's runtime, or its differences were waived."""
    with connect(ctx.engine) as conn:
        get_spec(conn, service)
        return staging_validation_in(conn, service, version)


def staging_validation_in(conn: Connection, service: str, version: str) -> StagingValidation:
    """staging_validation inside the caller's transaction."""
    name = resolve_version(conn, service, version).name
    run, production, found = _evidence(conn, service, version)
    if run is None:
        return StagingValidation(service, name, False, f"no full test run of {name} in staging "
                                 f"(relevo test {service} {name} --env staging)")
    if run.outcome != "passed":
        return StagingValidation(service, name, False, f"the newest run in staging (test run {run.id}) failed",
                                 test_run_id=run.id)
    if production is None:
        return StagingValidation(service, name, False, "production has no fingerprint to compare with "
                                 "(one is recorded when its gateway starts)", test_run_id=run.id)
    if not found:
        return StagingValidation(service, name, True, f"test run {run.id} passed in staging on production's runtime",
                                 run.id, production.id, [])
    waiver = conn.execute(select(staging_waivers).where(
        staging_waivers.c.test_run_id == run.id, staging_waivers.c.fingerprint_id == production.id)).first()
    if waiver is not None:
        return StagingValidation(service, name, True, f"test run {run.id} passed in staging; its differences from "
                                 f"production were waived by {waiver.waived_by}", run.id, production.id, found,
                                 waiver.waived_by, waiver.reason)
    return StagingValidation(service, name, False, f"test run {run.id} passed in staging, on a runtime that differs "
                             f"from production's in {len(found)} ways", run.id, production.id, found)


def waive_differences(ctx: Context, service: str, version: str, reason: Reason) -> StagingValidation:
    """An approver's waiver of the differences between a passed staging run and production's runtime."""
    reason = check_reason(reason, "the differences between staging and production")
    if ctx.grants is not None and not holds(ctx.grants, "approver", service):
        raise Refused(f"{ctx.actor} does not hold the approver role for {service}")
    with connect(ctx.engine) as conn:
        run, production, found = _evidence(conn, service, version)
        if run is None or run.outcome != "passed" or production is None:
            raise Conflict(f"nothing to waive: {service} {version} has no passed full run in staging to hold against "
                           "production's fingerprint")
        if not found:
            raise Conflict(f"nothing to waive: test run {run.id} ran on production's runtime")
        if run.ran_by == ctx.actor:
            raise Refused(f"{ctx.actor} ran test run {run.id}: another approver must waive its differences")
        now = ctx.clock.now()
        conn.execute(staging_waivers.insert().values(
            service=service, test_run_id=run.id, fingerprint_id=production.id,
            differences=[d.__dict__ for d in found], reason=reason, waived_by=ctx.actor, waived_at=now))
        record_change(conn, ctx, at=now, action="environment.differences_waived", subject=f"{service}/{version}",
                      details={"test_run_id": run.id, "fingerprint_id": production.id, "reason": reason,
                               "differences": [d.what for d in found][:50]})
    return staging_validation(ctx, service, version)
