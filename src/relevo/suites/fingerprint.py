"""What a run's environment is made of, so two environments can be compared: the runtime, the
installed packages (and one hash of them all), Relevo's own version."""

from __future__ import annotations

import hashlib
import platform
import sys
from importlib import metadata
from typing import Any


def fingerprint(environment: str) -> dict[str, Any]:
    """The running process's fingerprint, for the named environment."""
    packages = sorted({f"{d.metadata['Name'].lower()}=={d.version}" for d in metadata.distributions()
                       if d.metadata['Name']})
    return {
        "environment": environment,
        "python": platform.python_version(),
        "implementation": sys.implementation.name,
        "platform": platform.platform(terse=True),
        "relevo": metadata.version("relevo"),
        "packages_sha256": hashlib.sha256("\n".join(packages).encode()).hexdigest(),
        "packages": packages,
    }
