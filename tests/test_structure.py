"""The structure of docs/architecture.md holds: layers point down, no package cycles."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_the_import_contracts_hold():
    # The contracts are in pyproject.toml ([tool.importlinter]); `lint-imports` prints the same.
    run = subprocess.run([sys.executable, "-c", "import sys; from importlinter.cli import lint_imports; "
                          "sys.exit(lint_imports(config_filename='pyproject.toml', no_cache=True, no_logo=True))"],
                         cwd=REPO, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout, run.stdout


# Packages whose __init__ says what they offer; adapters import from there, not from their modules.
OFFERING = {"audit", "casework", "evidence", "gateway", "monitoring", "notify", "registry", "rollouts", "routing",
            "services", "store"}
ADAPTERS = ["cli", "api", "demo"]
# The demo seeds its own store: it declares its service with the ungated write that `relevo service
# apply` (rollouts.apply_by_hand) wraps, since its story's people are created by the demo itself.
ALLOWED = {("relevo.demo.setup", "relevo.services.catalogue")}


def _deep_imports() -> list[str]:
    found = []
    src = REPO / "src"
    for adapter in ADAPTERS:
        for path in sorted((src / "relevo" / adapter).rglob("*.py")):
            module = ".".join(path.relative_to(src).with_suffix("").parts)
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                names = ([node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level
                         else [a.name for a in node.names] if isinstance(node, ast.Import) else [])
                for name in names:
                    parts = name.split(".")
                    if (len(parts) > 2 and parts[0] == "relevo" and parts[1] in OFFERING
                            and (module, name) not in ALLOWED):
                        found.append(f"{path.relative_to(REPO)}:{node.lineno} imports {name}")
    return found


def test_adapters_import_what_each_package_offers():
    assert _deep_imports() == [], "import these from the package (add the name to its __init__ if it is offered)"


def test_every_offered_name_exists():
    for package in sorted(OFFERING):
        module = importlib.import_module(f"relevo.{package}")
        assert module.__doc__, f"relevo.{package} says what it is"
        missing = [name for name in getattr(module, "__all__", []) if not hasattr(module, name)]
        assert getattr(module, "__all__", None) and not missing, (package, missing)
