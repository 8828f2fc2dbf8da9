"""Robustness: cases generated from the spec's schema (hypothesis), most of them valid and at the
edges (ends of ranges, every enum value, very long texts, unicode and control characters, missing
optional fields), some broken (out of range, wrong type, too long, a required field missing).

Every case goes through the gateway's validation first. A broken case must be refused there, as
a citizen's request would be; a case it accepts must be answered by the version, within the
service's timeout, with one of its decisions. A failing case is shrunk to the simplest that fails
the same way, and named. The generation is derandomised: the same spec gives the same cases.

The version answers in a process of its own (relevo.suites.isolation): one that kills its process
fails the check, named with the case and its exit code or signal, and the run goes on to be
stored. After a hang or a death no further case is asked, and the case is named as generated.
"""

from __future__ import annotations

import math
from typing import Any, Callable

from hypothesis import strategies as st

from relevo.gateway.validation import InputRejected, InputValidator
from relevo.registry.probe import show_row
from relevo.services.spec import FieldSpec, ServiceSpec
from relevo.suites.isolation import IsolatedVersion
from relevo.suites.results import CheckResult
from relevo.suites.suite import Robustness

MISSING = object()  # a field left out of the case
_NO_SURROGATES: list[Any] = ["Cs"]  # lone surrogates cannot travel in JSON as UTF-8
_TEXT = st.characters(exclude_categories=_NO_SURROGATES, exclude_characters="\x00")  # any a stored text can carry
_ANY_TEXT = st.characters(exclude_categories=_NO_SURROGATES)  # NUL too, which the gateway refuses


def _number_range(field: FieldSpec) -> tuple[float, float]:
    lo = field.minimum if field.minimum is not None else -1e12
    hi = field.maximum if field.maximum is not None else 1e12
    return lo, hi


def _valid(field: FieldSpec) -> st.SearchStrategy[Any]:
    if field.type == "boolean":
        return st.booleans()
    if field.enum:
        return st.sampled_from(field.enum)
    if field.type == "string":
        return st.one_of(st.text(_TEXT, max_size=field.max_length),
                         st.text(_TEXT, min_size=field.max_length, max_size=field.max_length))
    lo, hi = _number_range(field)
    if field.type == "integer":
        ends = st.sampled_from([math.ceil(lo), math.floor(hi)])
        return st.one_of(ends, st.integers(math.ceil(lo), math.floor(hi)))
    return st.one_of(st.sampled_from([lo, hi]), st.floats(lo, hi, allow_nan=False, allow_infinity=False))


def _broken(field: FieldSpec) -> st.SearchStrategy[Any]:
    wrong_type: list[st.SearchStrategy[Any]] = [st.lists(st.integers(), max_size=3),
                                                st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)]
    if field.type == "string":
        wrong_type.append(st.integers())
        over = st.text(_ANY_TEXT, min_size=field.max_length + 1, max_size=10 * field.max_length + 1)
        if not field.enum:
            return st.one_of(over, *wrong_type)
        allowed = set(field.enum)
        return st.one_of(st.text(_TEXT, max_size=20).filter(lambda v: v not in allowed), *wrong_type)
    wrong_type.append(st.text(max_size=10))
    if field.type == "boolean":
        return st.one_of(st.integers(), *wrong_type)
    lo, hi = _number_range(field)
    outside = [st.floats(allow_nan=True, allow_infinity=True).filter(lambda v: not lo <= v <= hi)]
    if field.type == "integer":
        outside.append(st.floats(lo, hi, allow_nan=False).filter(lambda v: not float(v).is_integer()))
    return st.one_of(*outside, *wrong_type)


def cases(spec: ServiceSpec) -> st.SearchStrategy[dict[str, Any]]:
    """Requests' inputs as a client might send them, three in four valid."""
    def one(field: FieldSpec) -> st.SearchStrategy[Any]:
        return _valid(field) if field.required else st.one_of(st.just(MISSING), _valid(field))

    valid = st.fixed_dictionaries({name: one(f) for name, f in spec.inputs.items()})

    def break_one(case: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
        return st.sampled_from(sorted(spec.inputs)).flatmap(lambda name: st.one_of(
            _broken(spec.inputs[name]), st.just(MISSING)).map(lambda value: case | {name: value}))

    return st.one_of(valid, valid, valid, valid.flatmap(break_one)).map(
        lambda case: {k: v for k, v in case.items() if v is not MISSING})



class _Failed(Exception):
    pass


def run_robustness(version: IsolatedVersion, check: Robustness, spec: ServiceSpec,
                   step: Callable[[], None] = lambda: None) -> list[CheckResult]:
    """One result: every generated case refused by validation or answered in time; else the simplest failing case."""
    if not spec.inputs:
        return [CheckResult("robustness", "generated inputs", "not applicable", "the spec declares no inputs")]
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings

    validator = InputValidator(spec)
    tally = {"answered": 0, "refused": 0, "asked_before_stop": 0}
    found: dict[str, tuple[dict[str, Any], str]] = {}

    @settings(max_examples=check.examples, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck), phases=(Phase.generate, Phase.shrink),
              verbosity=Verbosity.quiet, report_multiple_bugs=False)
    @given(cases(spec))
    def probe(case: dict[str, Any]) -> None:
        step()
        if version.stopped is not None:
            return  # not asked again: the first hang or death is the finding
        try:
            clean = validator.validate(case)
        except InputRejected:
            tally["refused"] += 1
            return
        answer = version.answer(clean, f"the generated case ({show_row(case)})")
        if answer.problem is not None:
            if version.stopped is not None:
                found["stopped"] = (case, answer.problem)
                tally["asked_before_stop"] = tally["answered"] + tally["refused"] + 1
            else:
                found["last"] = (case, answer.problem)
            raise _Failed(answer.problem)
        tally["answered"] += 1

    if version.not_loaded is not None:
        return [CheckResult("robustness", "generated inputs", "failed", "the version could not be loaded in a "
                            f"process of its own: {version.not_loaded}")]
    try:
        probe()
    except Exception:  # the finding is recorded in found; hypothesis' own report is not needed
        case, problem = found.get("stopped") or found.get("last") or ({}, "the generator failed")
        detail = f"{problem}; on {show_row(case)}"
        if "stopped" in found:
            left = check.examples - tally["asked_before_stop"]
            detail += (f", as generated (not shrunk: the version's process is not started again); the remaining "
                       f"generated cases (up to {left}) were not asked")
        return [CheckResult("robustness", "generated inputs", "failed", detail)]
    if not tally["answered"]:
        return [CheckResult("robustness", "generated inputs", "failed",
                            f"none of {tally['refused']} generated cases was accepted by validation: nothing shows "
                            "the version answers")]
    return [CheckResult("robustness", "generated inputs", "passed",
                        f"{tally['answered'] + tally['refused']} generated cases: {tally['answered']} answered in time, {tally['refused']} "
                        "refused by validation as the gateway would refuse them")]
