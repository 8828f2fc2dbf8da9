"""The sha256 of what pyproject.toml asks to install, as requirements.lock records it.

scripts/lock writes it into the lock's header; tests/test_lock.py recomputes it, so a changed
dependency in pyproject.toml without a refreshed lock fails the suite.
Usage: python scripts/lockdigest.py [pyproject.toml]
"""

from __future__ import annotations

import hashlib
import json
import sys
import tomllib
from pathlib import Path


def dependencies_digest(pyproject: Path) -> str:
    """sha256 of requires-python, the dependencies and every optional group, canonically."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    body = {"requires-python": project.get("requires-python", ""),
            "dependencies": sorted(project.get("dependencies", [])),
            "optional-dependencies": {k: sorted(v) for k, v in sorted(project.get("optional-dependencies", {}).items())}}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


if __name__ == "__main__":
    print(dependencies_digest(Path(sys.argv[1] if len(sys.argv) > 1 else "pyproject.toml")))
