"""The routing table: read it, and change it through one audited use case.

Modes: `stable` (the stable version answers everything), `shadow` (stable answers, the
candidate sees a copy), `canary` (the candidate answers `weight`% of cases, sticky by case id),
`bluegreen` (the candidate answers everything; the stable version stays loaded so switching
back is instant). `fallback_forced` is the kill switch: rules, then manual review, answer all.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Callable, Literal

from sqlalchemy import Connection, select

from relevo.audit import record_change
from relevo.context import Context
from relevo.errors import Conflict, InvalidInput, NotFound
from relevo.registry.queries import resolve_version, version_name, version_names
from relevo.routing.environments import check_environment
from relevo.store.announcements import announce
from relevo.services.catalogue import get_spec
from relevo.store import connect
from relevo.store.tables import releases, routes

Mode = Literal["stable", "shadow", "canary", "bluegreen"]
MODES = ("stable", "shadow", "canary", "bluegreen")


@dataclass(frozen=True)
class Route:
    """How one service is answered in one environment."""

    service: str
    environment: str
    stable_version_id: int | None
    candidate_version_id: int | None
    mode: str
    weight: float
    fallback_forced: bool
    step: str | None
    revision: int
    updated_at: datetime | None = None
    updated_by: str | None = None
    candidate_release_id: int | None = None  # the candidate's spec comes from this release

    def check(self) -> "Route":
        """The route itself, or InvalidInput naming what is inconsistent."""
        if self.mode not in MODES:
            raise InvalidInput(f"unknown routing mode {self.mode!r}; modes are {', '.join(MODES)}")
        if not 0 <= self.weight <= 100:
            raise InvalidInput(f"weight must be between 0 and 100, got {self.weight}")
        # The versions come from the request and the route already recorded: a conflict between them.
        if self.mode != "stable" and self.candidate_version_id is None:
            raise Conflict(f"mode {self.mode} needs a candidate version")
        if self.mode in ("stable", "shadow", "canary") and self.stable_version_id is None:
            raise Conflict(f"mode {self.mode} needs a stable version")
        if (self.candidate_version_id is not None and self.candidate_version_id == self.stable_version_id
                and self.candidate_release_id is None):
            raise InvalidInput("the candidate is the stable version (a spec-only change needs its release)")
        return self


def read_route(conn: Connection, service: str, environment: str) -> Route | None:
    """The current route, or None when the service has none in this environment."""
    row = conn.execute(select(routes).where(routes.c.service == service, routes.c.environment == environment)).first()
    return None if row is None else Route(**row._mapping)


def release_spec(conn: Connection, route: Route | None) -> tuple[dict, str] | None:
    """(spec, hash) of the release a route's candidate answers under, when the route names one."""
    if route is None or route.candidate_release_id is None:
        return None
    row = conn.execute(select(releases.c.spec, releases.c.spec_sha256)
                       .where(releases.c.id == route.candidate_release_id)).one()
    return row.spec, row.spec_sha256


def route_revisions(conn: Connection, environment: str) -> dict[str, int]:
    """service -> revision, for gateways polling for changes."""
    rows = conn.execute(select(routes.c.service, routes.c.revision).where(routes.c.environment == environment))
    return {r.service: r.revision for r in rows}


def _shown(conn: Connection, route: Route) -> dict[str, Any]:
    """A route as its audit event names it: versions by name."""
    def name(version_id: int | None) -> str | None:
        return version_name(conn, version_id) if version_id is not None else None

    return {"mode": route.mode, "weight": route.weight, "stable": name(route.stable_version_id),
            "candidate": name(route.candidate_version_id), "candidate_release_id": route.candidate_release_id,
            "fallback_forced": route.fallback_forced, "step": route.step}


def write_route(conn: Connection, ctx: Context, new: Route, old: Route | None, action: str) -> Route:
    """Store new as the route (revision + 1) inside the caller's transaction; audited."""
    now = ctx.clock.now()
    if new.candidate_version_id is None:
        new = replace(new, candidate_release_id=None)
    values = {k: getattr(new, k) for k in ("stable_version_id", "candidate_version_id", "candidate_release_id",
                                           "mode", "weight", "fallback_forced", "step")}
    revision = (old.revision if old else 0) + 1
    values |= {"revision": revision, "updated_at": now, "updated_by": ctx.actor}
    if old is None:
        conn.execute(routes.insert().values(service=new.service, environment=new.environment, **values))
    else:
        conn.execute(routes.update().where(routes.c.service == new.service, routes.c.environment == new.environment)
                     .values(**values))
    announce(conn, f"{new.service}/{new.environment}")
    # The route as it now is (flat), and as it was.
    record_change(conn, ctx, at=now, action=action, subject=f"{new.service}/{new.environment}",
                 details={"revision": revision, **_shown(conn, new),
                          "before": None if old is None else {"revision": old.revision, **_shown(conn, old)}})
    return replace(new, revision=revision, updated_at=now, updated_by=ctx.actor)


def _locked_route(conn: Connection, service: str, environment: str) -> tuple[Route | None, Route]:
    """(current route or None, the route to change from), the row locked for this transaction."""
    get_spec(conn, service)
    row = conn.execute(select(routes).where(routes.c.service == service, routes.c.environment == environment)
                       .with_for_update()).first()
    old = None if row is None else Route(**row._mapping)
    return old, old or Route(service, environment, None, None, "stable", 0.0, False, None, 0)


def set_route(
    ctx: Context,
    service: str,
    environment: str,
    *,
    stable: str | None = None,
    candidate: str | None = None,
    clear_candidate: bool = False,
    mode: str | None = None,
    weight: float | None = None,
    step: str | None = None,
    gate: Callable[[Connection, Route | None, Route], None] | None = None,
) -> Route:
    """Change how a service is answered; options left None keep their current value. Audited.

    gate(conn, old, new), when given, sees the change inside its transaction before it is
    written, and refuses it by raising (the checks a person's change must pass).
    """
    with connect(ctx.engine) as conn:
        check_environment(conn, environment)
        old, base = _locked_route(conn, service, environment)
        new = replace(
            base,
            stable_version_id=resolve_version(conn, service, stable).id if stable else base.stable_version_id,
            candidate_version_id=None if clear_candidate else (
                resolve_version(conn, service, candidate).id if candidate else base.candidate_version_id),
            # A candidate named by hand answers under the service's own spec.
            candidate_release_id=None if (clear_candidate or candidate) else base.candidate_release_id,
            mode=mode or base.mode,
            weight=base.weight if weight is None else float(weight),
            step=step if step is not None else base.step,
        )
        if new.mode == "stable" and mode == "stable" and weight is None:
            new = replace(new, weight=0.0)
        new = new.check()
        if gate is not None:
            gate(conn, old, new)
        return write_route(conn, ctx, new, old, "route.changed")


def set_fallback(ctx: Context, service: str, environment: str, forced: bool,
                 gate: Callable[[Connection], None] | None = None) -> Route:
    """The kill switch: send every request of a service to its fallback at once (or stop). Audited."""
    with connect(ctx.engine) as conn:
        check_environment(conn, environment)
        if gate is not None:
            gate(conn)
        old, base = _locked_route(conn, service, environment)
        return write_route(conn, ctx, replace(base, fallback_forced=forced), old,
                      "fallback.forced" if forced else "fallback.released")


def get_route(ctx: Context, service: str, environment: str) -> Route:
    """The route of a service, or NotFound saying how to create one."""
    with connect(ctx.engine) as conn:
        check_environment(conn, environment)  # before suggesting a command that would refuse it
        get_spec(conn, service)
        route = read_route(conn, service, environment)
    if route is None:
        raise NotFound(f"{service} has no route in {environment}; set one with `relevo route {service} --stable VERSION`")
    return route


@dataclass(frozen=True)
class RouteShown:
    """A route as people read it: its versions by name."""

    service: str
    environment: str
    mode: str
    weight: float
    stable: str | None
    candidate: str | None
    candidate_release: int | None
    fallback_forced: bool
    step: str | None
    revision: int
    updated_at: datetime | None
    updated_by: str | None


def show_route(ctx: Context, route: Route) -> RouteShown:
    """route with its versions named (v3), for people and dashboards."""
    with connect(ctx.engine) as conn:
        names = version_names(conn, {route.stable_version_id, route.candidate_version_id})
    return RouteShown(route.service, route.environment, route.mode, route.weight, names.get(route.stable_version_id),
                      names.get(route.candidate_version_id), route.candidate_release_id, route.fallback_forced,
                      route.step, route.revision, route.updated_at, route.updated_by)


def describe_route(ctx: Context, service: str, environment: str) -> RouteShown:
    """The route of a service in an environment, its versions named."""
    return show_route(ctx, get_route(ctx, service, environment))
