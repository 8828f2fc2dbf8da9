"""mypy finds in src/relevo no type error that tests/mypy-baseline.txt does not list, and the list only shrinks."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import script_module

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "mypy-baseline"


def _baseline_tool():
    """scripts/mypy-baseline as a module: the test runs and normalises mypy exactly as the script does."""
    return script_module(SCRIPT)


def _listed(lines) -> str:
    return "\n".join(f"  {line}" + (f" x{n}" if n > 1 else "") for line, n in sorted(lines.items()))


def test_mypy_finds_only_the_errors_of_the_baseline():
    tool = _baseline_tool()
    # The repository's .mypy_cache: a run after a small edit rechecks only what it touches.
    found = tool.run_mypy()
    baseline = tool.read_baseline()
    new, gone = found - baseline, baseline - found
    problems = []
    if new:
        problems.append(f"mypy finds {sum(new.values())} type error(s) that tests/mypy-baseline.txt does not list:\n"
                        f"{_listed(new)}\nFix them (`python -m mypy` shows where), or, if one is intended, run "
                        "scripts/mypy-baseline and commit the new baseline with the reason.")
    if gone:
        problems.append(f"{sum(gone.values())} error(s) of tests/mypy-baseline.txt no longer occur (well done):\n"
                        f"{_listed(gone)}\nRun scripts/mypy-baseline to drop them, so they cannot come back unseen.")
    assert not problems, "\n\n".join(problems)


def test_the_baseline_is_as_the_script_writes_it():
    # Sorted, counted, with its header: what scripts/mypy-baseline writes for the errors it lists.
    tool = _baseline_tool()
    assert tool.BASELINE.read_text(encoding="utf-8") == tool.format_baseline(tool.read_baseline())
