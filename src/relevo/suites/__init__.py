"""Test suites: golden cases, regression against the stable version, latency, robustness and
fairness, run on a version before it serves; their smoke part gates every rollout's start."""

from relevo.suites.records import apply_suite, suite_runs
from relevo.suites.results import CheckResult, SuiteRun
from relevo.suites.run import run_suite, smoke_test
from relevo.suites.suite import Suite, load_suite, parse_suite, suite_digest

__all__ = ["CheckResult", "Suite", "SuiteRun", "apply_suite", "load_suite", "parse_suite", "run_suite", "smoke_test",
           "suite_digest", "suite_runs"]
