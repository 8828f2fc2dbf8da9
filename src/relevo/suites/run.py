"""Running a service's test suite on a version: `relevo test`, and the smoke part before a rollout.

The version is loaded from its stored files (their hashes checked first) and asked every case as
the gateway would ask it; regression compares it with the stable version on the same reference
cases. The run is stored with the version's hash, the suite's and the environment's fingerprint,
and audited, passed or failed. A run where nothing passed (every check not applicable) fails:
zero evidence is never a pass.
"""

from __future__ import annotations

from typing import Callable

from relevo.context import Context
from relevo.errors import NotFound
from relevo.registry.load import load_version
from relevo.registry.queries import VersionRecord, resolve_version, version_name
from relevo.routing.environments import known_environment
from relevo.routing.table import read_route
from relevo.services.catalogue import get_spec
from relevo.services.spec import ServiceSpec
from relevo.store import connect
from relevo.suites.answering import Answering
from relevo.suites.fairness import run_fairness
from relevo.environments.fingerprint import fingerprint
from relevo.suites.golden import run_golden
from relevo.suites.latency import run_latency
from relevo.suites.records import current_suite, require_runner, save_run, stored_run
from relevo.suites.regression import run_regression
from relevo.suites.results import CheckResult, SuiteRun, overall
from relevo.suites.suite import Suite

# progress(phase, total) -> a step() to call once per unit of that phase
Progress = Callable[[str, int], Callable[[], None]]


def _quiet(phase: str, total: int) -> Callable[[], None]:
    return lambda: None


def _suite_of(conn, service: str) -> tuple[int, str, Suite]:
    found = current_suite(conn, service)
    if found is None:
        raise NotFound(f"{service} has no test suite: name one in its spec (tests: FILE, beside the spec) and "
                       f"apply the spec (relevo service apply SPEC)")
    return found


def _stable_of(conn, service: str, environment: str) -> int | None:
    for env in dict.fromkeys((environment, "production")):
        route = read_route(conn, service, env)
        if route is not None and route.stable_version_id is not None:
            return route.stable_version_id
    return None


def _open(ctx: Context, service: str, ref: str, spec: ServiceSpec) -> Answering:
    record, model = load_version(ctx, service, ref)
    return Answering(record, model, spec, ctx.clock)


def _full(ctx: Context, suite: Suite, spec: ServiceSpec, version: Answering, stable_ref: str | None,
          progress: Progress) -> list[CheckResult]:
    results: list[CheckResult] = []
    if suite.golden:
        results += run_golden(version, suite.golden, progress("golden cases", len(suite.golden)))
    reference = suite.reference_rows
    decided: list[str | None] = []
    if reference:
        step = progress("reference cases", len(reference))
        decided = version.answer_many(reference)
        step()
    if suite.regression is not None:
        stable_decided, reason = None, f"no stable version to compare {version.record.name} with"
        if stable_ref == version.record.name:
            reason = f"{version.record.name} is the stable version: nothing to compare it with"
        elif stable_ref is not None:
            stable = _open(ctx, spec.name, stable_ref, spec)
            try:
                step = progress(f"reference cases, stable {stable_ref}", len(reference))
                stable_decided = stable.answer_many(reference)
                step()
            finally:
                stable.close()
        results += run_regression(suite.regression, spec, reference, suite.reference_labels, decided, stable_decided,
                                  suite.alpha, no_stable=reason)
    if suite.fairness:
        results += run_fairness(suite.fairness, reference, decided, suite.alpha)
    if suite.latency is not None:
        rows = [dict(c.inputs) for c in suite.golden] or reference[:1000]
        results += run_latency(version, suite.latency, rows, progress("latency calls", suite.latency.calls))
    if suite.robustness is not None:
        from relevo.suites.isolation import IsolatedVersion
        from relevo.suites.robustness import run_robustness  # hypothesis: only when a suite asks for it

        # Generated cases may kill the version's process: they are asked in a child process. The
        # other checks stay here, latency above all (a pipe would add its own time to each call).
        isolated = IsolatedVersion(version.record, spec, ctx.blobs)
        try:
            results += run_robustness(isolated, suite.robustness, spec,
                                      progress("generated cases", suite.robustness.examples))
        finally:
            isolated.close()
    return results


def _record(ctx: Context, record: VersionRecord, suite_id: int, suite_sha: str, kind: str, environment: str,
            stable_id: int | None, results: list[CheckResult], started) -> SuiteRun:
    with connect(ctx.engine) as conn:
        run_id = save_run(conn, ctx, service=record.service, version_id=record.id, version_sha256=record.sha256,
                          suite_id=suite_id, suite_sha256=suite_sha, kind=kind, environment=environment,
                          fingerprint=fingerprint(environment), stable_version_id=stable_id,
                          outcome=overall(results), results=results, started_at=started)
        return stored_run(conn, run_id)


def run_suite(ctx: Context, service: str, ref: str, environment: str = "staging",
              progress: Progress = _quiet) -> SuiteRun:
    """Run the service's suite on version ref in environment, store the result and audit it."""
    known_environment(ctx, environment)
    require_runner(ctx, service, "running a suite records its result")
    started = ctx.clock.now()
    with connect(ctx.engine) as conn:
        spec = get_spec(conn, service)
        suite_id, suite_sha, suite = _suite_of(conn, service)
        record = resolve_version(conn, service, ref)
        stable_id = _stable_of(conn, service, environment)
        stable_ref = None if stable_id is None else version_name(conn, stable_id)
    version = _open(ctx, service, record.name, spec)
    try:
        results = _full(ctx, suite, spec, version, stable_ref, progress)
    finally:
        version.close()
    return _record(ctx, record, suite_id, suite_sha, "full", environment,
                   None if stable_ref in (None, record.name) or suite.regression is None else stable_id,
                   results, started)


def smoke_test(ctx: Context, service: str, ref: str, environment: str, spec: ServiceSpec) -> SuiteRun | None:
    """The suite's smoke cases on version ref under spec, stored; None when the service has no
    suite or the suite no smoke case (nothing to run)."""
    started = ctx.clock.now()
    with connect(ctx.engine) as conn:
        found = current_suite(conn, service)
        record = resolve_version(conn, service, ref)
    if found is None or not found[2].smoke_cases:
        return None
    suite_id, suite_sha, suite = found
    version = _open(ctx, service, record.name, spec)
    try:
        results = run_golden(version, suite.smoke_cases)
    finally:
        version.close()
    return _record(ctx, record, suite_id, suite_sha, "smoke", environment, None, results, started)
