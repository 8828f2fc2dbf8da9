"""ruff finds none of the defects it is asked for (pyproject.toml, [tool.ruff]) in the project's Python."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Every folder that holds Python; scripts/ includes its Python scripts without a .py suffix (extend-include).
PATHS = ["src", "tests", "benchmarks", "scripts"]


def test_ruff_finds_nothing():
    run = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", *PATHS],
                         cwd=REPO, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, (f"ruff check {' '.join(PATHS)} (exit {run.returncode}); fix these, or, where the code "
                                 f"is deliberate, add `# noqa: CODE` with the reason:\n{run.stdout}{run.stderr}")


def _is_python(path: Path) -> bool:
    if path.suffix == ".py":
        return True
    with path.open("rb") as file:
        first = file.readline()
    return first.startswith(b"#!") and b"python" in first


def test_every_python_file_is_linted():
    # A Python file outside PATHS, or a script without .py that ruff is not told of, would escape the lint.
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    python = {name for name in tracked.split("\0") if name and (REPO / name).is_file() and _is_python(REPO / name)}
    listed = subprocess.run([sys.executable, "-m", "ruff", "check", "--show-files", *PATHS],
                            cwd=REPO, capture_output=True, text=True, timeout=120).stdout.splitlines()
    linted = {Path(line).relative_to(REPO).as_posix() for line in listed if line.startswith(str(REPO))}
    assert "scripts/mypy-baseline" in linted and len(linted) > 100, listed
    assert python - linted == set(), "Python that ruff does not check: add its folder to PATHS, or it to extend-include"
