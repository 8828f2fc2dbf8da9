"""The lock file agrees with pyproject.toml, this environment was installed from it, and every
package the code imports is declared."""

from __future__ import annotations

import ast
import importlib.metadata as metadata
import importlib.util
import re
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"
MLSERVER_LOCK = ROOT / "scripts" / "mlserver.lock"
REFRESH = "refresh it with scripts/lock (see its header) and commit the lock on its own"


def _digest_module():
    spec = importlib.util.spec_from_file_location("lockdigest", ROOT / "scripts" / "lockdigest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _pins(path: Path) -> dict[str, str]:
    """name -> version of every pin that applies to this interpreter and platform."""
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith((" ", "#")):
            continue
        requirement = Requirement(line)
        if requirement.marker is None or requirement.marker.evaluate():
            (specifier,) = requirement.specifier
            out[canonicalize_name(requirement.name)] = specifier.version
    return out


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _requirements(*groups: str) -> list[Requirement]:
    project = _project()
    lines = list(project["dependencies"])
    for group in groups:
        lines += project["optional-dependencies"][group]
    return [Requirement(line) for line in lines]


def test_the_lock_was_made_from_this_pyproject():
    header = re.search(r"^# pyproject-dependencies-sha256: ([0-9a-f]{64})$", LOCK.read_text(encoding="utf-8"), re.M)
    assert header, f"requirements.lock has no pyproject-dependencies-sha256 line; {REFRESH}"
    assert header.group(1) == _digest_module().dependencies_digest(ROOT / "pyproject.toml"), (
        f"pyproject.toml's dependencies changed since requirements.lock was made; {REFRESH}")


def test_every_declared_requirement_is_pinned_within_its_range():
    pins = _pins(LOCK)
    for requirement in _requirements("test", "onnx", "dataframe", "lock"):
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement} is not pinned in requirements.lock; {REFRESH}"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"requirements.lock pins {name}=={pins[name]}, outside {requirement}; {REFRESH}")


def test_this_environment_was_installed_from_the_lock():
    pins = _pins(LOCK)
    wrong = []
    for name, version in sorted(pins.items()):
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue  # e.g. the lock extra's tools, which the tests do not need
        if installed != version:
            wrong.append(f"{name} {installed} (locked {version})")
    missing = [str(r) for r in _requirements("test") if r.marker is None or r.marker.evaluate()
               if not _installed(r.name)]
    assert not wrong and not missing, (
        "this environment was not installed from requirements.lock: "
        + "; ".join(wrong + [f"{m} missing" for m in missing])
        + ". Install with: pip install -c requirements.lock -e '.[test]'")


def _installed(name: str) -> bool:
    try:
        metadata.version(name)
        return True
    except metadata.PackageNotFoundError:
        return False


def test_the_mlserver_environment_has_relevos_scikit_learn():
    assert _pins(MLSERVER_LOCK)["scikit-learn"] == _pins(LOCK)["scikit-learn"], (
        f"scripts/mlserver.lock and requirements.lock pin different scikit-learn versions; {REFRESH}")


def _third_party_imports(folder: Path) -> dict[str, str]:
    """Top-level module -> a file importing it, for every import that is not stdlib or relevo's own."""
    found: dict[str, str] = {}
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in ("relevo", "tests"):
                    found.setdefault(top, str(path.relative_to(ROOT)))
    return found


def _undeclared(folder: Path, declared: set[str]) -> list[str]:
    providers = metadata.packages_distributions()
    out = []
    for module, where in sorted(_third_party_imports(folder).items()):
        dists = {canonicalize_name(d) for d in providers.get(module, [])}
        if not dists & declared:
            out.append(f"{module} (imported by {where}; provided by {', '.join(sorted(dists)) or 'nothing installed'})")
    return out


def test_every_imported_package_is_declared():
    runtime = {canonicalize_name(r.name) for r in _requirements("onnx", "dataframe")}
    tests = runtime | {canonicalize_name(r.name) for r in _requirements("test")}
    problems = _undeclared(ROOT / "src", runtime) + _undeclared(ROOT / "tests", tests)
    assert not problems, "imported but not declared in pyproject.toml: " + "; ".join(problems)

