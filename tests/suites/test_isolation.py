"""The robustness check asks its generated cases in a process of its own: a version that kills its
process fails that check, named with the case and how it died, while the other checks and the
run's record go on as for any version; a hung one is found and its process stopped."""

from __future__ import annotations

import ast
import multiprocessing
import re

import pytest

from relevo.audit import read_events
from relevo.registry import register_version
from relevo.suites import answering, isolation, run_suite, suite_runs
from tests.suites.conftest import SERVICE, VERSIONS, version_folder


def _register(ctx, tmp_path, monkeypatch, name: str, body: str) -> str:
    monkeypatch.setitem(VERSIONS, name, body)
    folder, meta = version_folder(tmp_path / "more", name)
    return register_version(ctx, SERVICE, folder, meta).name


def _text_of(detail: str) -> str:
    """The generated text the failing case carried (s='...'), as the report shows it."""
    shown = re.search(r"""\bs=('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")""", detail)
    assert shown, detail
    return ast.literal_eval(shown.group(1))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_version_that_kills_its_process_fails_robustness_and_the_run_is_stored(ctx, eligibility, tmp_path,
                                                                                 monkeypatch):
    segfaults = _register(ctx, tmp_path, monkeypatch, "segfaults", 'import os, signal\n\ndef predict(row):\n'
                          '    if len(row["s"]) > 10:\n        os.kill(os.getpid(), signal.SIGSEGV)\n'
                          '    return decide(row)\n')
    for version, how in ((eligibility["exits"], "exit code 3"), (segfaults, "killed by signal SIGSEGV")):
        run = run_suite(ctx, SERVICE, version)  # returns: this process survived the version's death
        others = {(r.check, r.outcome) for r in run.results if r.check != "robustness"}
        assert others == {("golden", "passed"), ("regression", "passed"), ("fairness", "passed"), ("latency", "passed")}
        [robustness] = [r for r in run.results if r.check == "robustness"]
        assert robustness.outcome == "failed" and run.outcome == "failed"
        assert f"the version's process died ({how}); on " in robustness.detail, robustness.detail
        assert len(_text_of(robustness.detail)) > 10  # the case it died on, as generated
        assert "as generated (not shrunk" in robustness.detail and "were not asked" in robustness.detail
        [event] = [e for e in read_events(ctx, service=SERVICE, action="suite.full_failed")
                   if e.subject == f"{SERVICE}/{version}"]
        assert event.details["failed"] == ["robustness generated inputs"]
        assert event.details["test_run_id"] == run.id
        [stored] = [r for r in suite_runs(ctx, SERVICE, version)]
        assert stored.outcome == "failed" and stored.results == run.results
    assert not multiprocessing.active_children()  # each child was ended with its check


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_version_that_hangs_on_a_generated_case_is_found_and_its_process_stopped(ctx, eligibility, tmp_path,
                                                                                   monkeypatch):
    monkeypatch.setattr(answering, "HANG_S", 0.3)
    monkeypatch.setattr(isolation, "GRACE_S", 0.5)
    # One sleeps in the model's call (the child's own timeout finds it); the other sleeps in C
    # holding the interpreter's lock, so only the parent's wait can: both processes are stopped.
    sleeps = _register(ctx, tmp_path, monkeypatch, "sleeps", 'import time\n\ndef predict(row):\n'
                       '    if len(row["s"]) > 10:\n        time.sleep(30)\n    return decide(row)\n')
    holds = _register(ctx, tmp_path, monkeypatch, "holds", 'import ctypes\n\ndef predict(row):\n'
                      '    if len(row["s"]) > 10:\n        ctypes.PyDLL(None).sleep(30)\n    return decide(row)\n')
    for version, said in ((sleeps, "no answer within the service's timeout (1000 ms): it hung"),
                          (holds, "no answer within the service's timeout (1000 ms): it hung, and its process "
                                  "was stopped")):
        run = run_suite(ctx, SERVICE, version)
        assert {r.check for r in run.failures} == {"robustness"}, [(r.check, r.detail) for r in run.failures]
        [robustness] = run.failures
        assert robustness.detail.startswith(said) and len(_text_of(robustness.detail)) > 10, robustness.detail
        assert "were not asked" in robustness.detail
        assert not multiprocessing.active_children()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_child_checks_the_versions_files_before_it_loads_them(ctx, eligibility):
    from relevo.registry import versions_of
    from relevo.services import parse_spec
    from tests.suites.conftest import SPEC

    [record] = [r for r in versions_of(ctx, SERVICE) if r.name == eligibility["good"]]
    model = ctx.blobs.local_path(record.blob_uri) / "model.py"
    model.chmod(0o644)  # stored files are read-only: changed here as an intruder would
    model.write_text(model.read_text() + "\n# changed after registration\n")
    version = isolation.IsolatedVersion(record, parse_spec(SPEC, "eligibility.yaml"), ctx.blobs)
    try:
        assert version.not_loaded is not None and "do not match the registered hash: modified file: model.py" in (
            version.not_loaded), version.not_loaded
        assert version.answer({"x": 0.5, "s": "a"}, "a case").problem.startswith(
            "not asked: the version could not be loaded in its own process: IntegrityFailure: refusing to load")
    finally:
        version.close()
