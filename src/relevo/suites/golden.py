"""Golden cases: each must be decided as expected (and, where stated, with the probability expected)."""

from __future__ import annotations

from typing import Callable, Sequence

from relevo.suites.answering import Answering
from relevo.suites.results import CheckResult
from relevo.suites.suite import GoldenCase


def run_golden(version: Answering, cases: Sequence[GoldenCase], step: Callable[[], None] = lambda: None
               ) -> list[CheckResult]:
    """One result per golden case."""
    out = []
    for case in cases:
        answer = version.answer(dict(case.inputs), f"golden case {case.name}")
        step()
        if answer.problem is not None:
            out.append(CheckResult("golden", case.name, "failed", answer.problem, seconds=answer.seconds))
            continue
        if answer.decision != case.expect:
            out.append(CheckResult("golden", case.name, "failed", f"decided {answer.decision}, expected {case.expect}",
                                   seconds=answer.seconds))
            continue
        if case.probability is not None:
            given = (answer.probabilities or {}).get(case.expect)
            if given is None:
                out.append(CheckResult("golden", case.name, "failed", f"gave no probability for {case.expect}",
                                       seconds=answer.seconds))
                continue
            if abs(given - case.probability) > case.tolerance:
                out.append(CheckResult("golden", case.name, "failed",
                                       f"P({case.expect}) = {given:.3f}, expected {case.probability:g} "
                                       f"± {case.tolerance:g}", measured=given, seconds=answer.seconds))
                continue
        out.append(CheckResult("golden", case.name, "passed", f"decided {case.expect}", seconds=answer.seconds))
    return out
