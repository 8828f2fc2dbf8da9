"""Storing suites and their runs: a suite applied is kept by its hash; every run, audited."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from relevo.audit import record_change
from relevo.context import Context
from relevo.audit.reasons import Reason, check_reason
from relevo.errors import Conflict, NotFound, Refused
from relevo.identity import holds
from relevo.registry.queries import resolve_version, version_name
from relevo.services.catalogue import get_spec
from relevo.services.roles import require_role
from relevo.store import connect
from relevo.store.tables import suites, test_runs
from relevo.suites.loosening import suite_loosened
from relevo.suites.results import CheckResult, SuiteRun
from relevo.suites.suite import Suite, check_suite, suite_digest


RUNNERS = ("publisher", "operator")  # who applies suites and runs them: model owners and operators


def require_runner(ctx: Context, service: str, what: str) -> None:
    """Refused unless the acting identity is a publisher or an operator of service."""
    if ctx.grants is not None and not any(holds(ctx.grants, role, service) for role in RUNNERS):
        raise Refused(f"{ctx.actor} holds neither the publisher nor the operator role for {service}: {what}")


def apply_suite(ctx: Context, service: str, suite: Suite, override: Reason | None = None) -> str:
    """Make suite the service's test suite (publishers, or operators as with a spec); returns 'applied' or 'unchanged'.

    A suite weaker than the current one (relevo.suites.loosening) is refused unless an approver of
    the service overrides with a written reason, kept in the audit log with what it loosens.
    """
    digest = suite_digest(suite)
    with connect(ctx.engine) as conn:
        spec = get_spec(conn, service)
        if override is None:
            require_runner(ctx, service, "applying a test suite")
        check_suite(suite, spec, f"for {service}")
        current = current_suite(conn, service)
        if current is not None and current[1] == digest:
            return "unchanged"
        loosened = [] if current is None else suite_loosened(current[2], suite)
        if loosened and override is None:
            raise Conflict(f"the new test suite of {service} is weaker than the current one:\n"
                           + "\n".join(f"  - {what}" for what in loosened)
                           + "\nan approver of the service may apply it with a written reason (--suite-override REASON)")
        if override is not None:  # the override is an approver's, whether or not it turns out needed
            reason = check_reason(override, f"{service}'s test suite")
            require_role(conn, ctx, service, "approvers")
        existing = conn.execute(select(suites.c.id).where(suites.c.service == service, suites.c.sha256 == digest)).scalar()
        now = ctx.clock.now()
        if existing is not None:  # an earlier suite again: it becomes the newest
            conn.execute(suites.update().where(suites.c.id == existing).values(applied_at=now, applied_by=ctx.actor))
        else:
            conn.execute(suites.insert().values(service=service, sha256=digest, body=suite.model_dump(mode="json"),
                                                applied_at=now, applied_by=ctx.actor))
        record_change(conn, ctx, at=now, action="suite.applied", subject=service, details={
            "suite_sha256": digest, "golden": len(suite.golden), "smoke": len(suite.smoke_cases),
            "reference_cases": len(suite.reference_rows),
            "checks": [name for name in ("regression", "latency", "robustness") if getattr(suite, name) is not None]
            + (["fairness"] if suite.fairness else []),
            "before_sha256": None if current is None else current[1]}
            | ({"loosened": loosened, "override_reason": reason} if override is not None else {}))
    return "applied"


def current_suite(conn: Connection, service: str) -> tuple[int, str, Suite] | None:
    """(id, hash, suite) of the service's newest suite, or None."""
    row = conn.execute(select(suites.c.id, suites.c.sha256, suites.c.body).where(suites.c.service == service)
                       .order_by(suites.c.applied_at.desc(), suites.c.id.desc()).limit(1)).first()
    return None if row is None else (row.id, row.sha256, Suite.model_validate(row.body))


def save_run(conn: Connection, ctx: Context, *, service: str, version_id: int, version_sha256: str, suite_id: int,
             suite_sha256: str, kind: str, environment: str, fingerprint: dict[str, Any], stable_version_id: int | None,
             outcome: str, results: list[CheckResult], started_at: datetime) -> int:
    """Store one run and audit it; returns its id."""
    now = ctx.clock.now()
    run_id = conn.execute(test_runs.insert().values(
        service=service, version_id=version_id, version_sha256=version_sha256, suite_id=suite_id, kind=kind,
        environment=environment, fingerprint=fingerprint, stable_version_id=stable_version_id, outcome=outcome,
        results=[dict(vars(r)) for r in results], started_at=started_at, finished_at=now, ran_by=ctx.actor,
    ).returning(test_runs.c.id)).scalar_one()
    failed = [f"{r.check} {r.name}" for r in results if r.outcome == "failed"]
    record_change(conn, ctx, at=now, action=f"suite.{kind}_{outcome}", subject=f"{service}/{version_name(conn, version_id)}",
                  details={"test_run_id": run_id, "version_sha256": version_sha256, "suite_sha256": suite_sha256,
                           "environment": environment, "packages_sha256": fingerprint.get("packages_sha256"),
                           "failed": failed[:20], "failed_count": len(failed),
                           "checks": len(results)})
    return run_id


def _run(conn: Connection, row: Any) -> SuiteRun:
    suite_sha = conn.execute(select(suites.c.sha256).where(suites.c.id == row.suite_id)).scalar_one()
    return SuiteRun(row.id, row.service, version_name(conn, row.version_id), row.version_sha256, suite_sha, row.kind,
                   row.environment, row.fingerprint,
                   None if row.stable_version_id is None else version_name(conn, row.stable_version_id),
                   row.outcome, row.started_at, row.finished_at, row.ran_by,
                   [CheckResult(**r) for r in row.results])


def stored_run(conn: Connection, run_id: int) -> SuiteRun:
    """One stored run."""
    row = conn.execute(select(test_runs).where(test_runs.c.id == run_id)).first()
    if row is None:
        raise NotFound(f"no test run {run_id}")
    return _run(conn, row)


def suite_runs(ctx: Context, service: str, version: str | None = None, limit: int = 20) -> list[SuiteRun]:
    """The newest runs of a service's suite (on one version when named), newest first."""
    with connect(ctx.engine) as conn:
        get_spec(conn, service)
        query = select(test_runs).where(test_runs.c.service == service)
        if version is not None:
            query = query.where(test_runs.c.version_id == resolve_version(conn, service, version).id)
        rows = conn.execute(query.order_by(test_runs.c.id.desc()).limit(limit)).all()
        return [_run(conn, row) for row in rows]
