"""What an environment is made of, so two can be compared: the runtime (Python, the installed
packages and one hash of them all, Relevo's version), a hash of the settings (secrets left out),
and, per service it serves, the spec's hash and the artifacts its route sends cases to."""

from __future__ import annotations

import functools
import hashlib
import platform
import sys
from importlib import metadata
from typing import Any

from sqlalchemy import Connection, select

from relevo.audit.leaf import canonical_json
from relevo.registry.queries import version_by_id
from relevo.store.tables import routes, services

# The runtime's parts a staging run is held against production by: a passed suite shows the version
# works on exactly this Python, these packages and this Relevo (the kernel in `platform` may differ).
RUNTIME = ("python", "implementation", "relevo", "packages_sha256")


@functools.cache
def runtime() -> dict[str, Any]:
    """The running process's runtime (read once: packages do not change under a running process)."""
    packages = sorted({f"{d.metadata['Name'].lower()}=={d.version}" for d in metadata.distributions()
                       if d.metadata['Name']})
    return {
        "python": platform.python_version(),
        "implementation": sys.implementation.name,
        "platform": platform.platform(terse=True),
        "relevo": metadata.version("relevo"),
        "packages_sha256": hashlib.sha256("\n".join(packages).encode()).hexdigest(),
        "packages": packages,
    }


def fingerprint(environment: str) -> dict[str, Any]:
    """The runtime, for the named environment (what a test run records)."""
    return {"environment": environment} | runtime()


def served(conn: Connection, environment: str) -> dict[str, Any]:
    """Per service routed in environment: its spec's hash and the artifacts its route serves."""
    out: dict[str, Any] = {}
    specs = dict(conn.execute(select(services.c.name, services.c.spec_sha256)).all())
    for route in conn.execute(select(routes).where(routes.c.environment == environment)).all():
        arms = {}
        for arm, version_id in (("stable", route.stable_version_id), ("candidate", route.candidate_version_id)):
            if version_id is not None:
                record = version_by_id(conn, version_id)
                arms[arm] = {"version": record.name, "sha256": record.sha256}
        out[route.service] = {"spec_sha256": specs.get(route.service), "mode": route.mode} | arms
    return out


def digest(body: dict[str, Any]) -> str:
    """sha256 of a fingerprint's canonical JSON form."""
    return hashlib.sha256(canonical_json(body)).hexdigest()
