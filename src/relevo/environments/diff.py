"""Every difference between two fingerprints, named in words an operator reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from relevo.environments.fingerprint import RUNTIME

# The fingerprint's plain parts, in the order they are shown.
PARTS = {"python": "Python", "implementation": "Python implementation", "platform": "platform",
         "relevo": "Relevo", "packages_sha256": "installed packages (hash)", "settings_sha256": "settings (hash)"}


@dataclass(frozen=True)
class Difference:
    """One thing that differs: what it is, and its value on each side (None: absent there)."""

    what: str
    left: str | None
    right: str | None


def _packages(body: dict[str, Any]) -> dict[str, str]:
    return dict(p.split("==", 1) for p in body.get("packages", []) if "==" in p)


def differences(left: dict[str, Any], right: dict[str, Any], *, runtime_only: bool = False) -> list[Difference]:
    """What differs between two fingerprints: the runtime, each package, the settings and, unless
    runtime_only (then only RUNTIME's parts and the packages), the platform, each service's spec and
    served artifacts."""
    out = [Difference(label, _text(left.get(key)), _text(right.get(key))) for key, label in PARTS.items()
           if left.get(key) != right.get(key) and (not runtime_only or key in RUNTIME)]
    a, b = _packages(left), _packages(right)
    out += [Difference(f"package {name}", a.get(name), b.get(name)) for name in sorted(set(a) | set(b))
            if a.get(name) != b.get(name)]
    if runtime_only:
        return out
    sa, sb = left.get("services", {}), right.get("services", {})
    for service in sorted(set(sa) | set(sb)):
        x, y = sa.get(service, {}), sb.get(service, {})
        for key in ("spec_sha256", "mode", "stable", "candidate"):
            if x.get(key) != y.get(key):
                out.append(Difference(f"{service}: {key.replace('_sha256', ' (hash)')}", _text(x.get(key)), _text(y.get(key))))
    return out


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dict) and "version" in value:
        return f"{value['version']} ({str(value.get('sha256', ''))[:12]})"
    text = str(value)
    return text[:12] if len(text) == 64 else text  # a hash: its first 12 characters, as elsewhere
