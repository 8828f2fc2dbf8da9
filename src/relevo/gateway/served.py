"""What a gateway serves, as one snapshot per service: the route and the versions answering."""

from __future__ import annotations

from dataclasses import dataclass

from relevo.gateway.gateway import Gateway


@dataclass(frozen=True)
class ServedRoute:
    """A service's route in the gateway's environment, as the gateway applies it."""

    mode: str
    weight: float
    stable: str | None  # the stable version, when it is loaded
    candidate: str | None  # the candidate version, when it is loaded
    candidate_spec_sha256: str | None  # the candidate's spec, when its release changes the service's
    revision: int
    fallback_forced: bool


@dataclass(frozen=True)
class ServedService:
    """One service a gateway answers."""

    name: str
    description: str
    decisions: list[str]
    environment: str
    route: ServedRoute | None  # None: no route here, the fallback answers


def served_services(gateway: Gateway) -> list[ServedService]:
    """Every service the gateway answers, with its route, from one snapshot each."""
    out = []
    for name in gateway.service_names():
        runtime = gateway.runtime(name)
        route = runtime.route
        out.append(ServedService(
            name=name, description=runtime.spec.description.strip(), decisions=list(runtime.spec.decisions),
            environment=gateway.environment,
            route=None if route is None else ServedRoute(
                mode=route.mode, weight=route.weight,
                stable=runtime.stable.record.name if runtime.stable else None,
                candidate=runtime.candidate.record.name if runtime.candidate else None,
                candidate_spec_sha256=(runtime.candidate_policy.spec_sha256
                                       if runtime.candidate_policy is not runtime.policy else None),
                revision=route.revision, fallback_forced=route.fallback_forced)))
    return out
