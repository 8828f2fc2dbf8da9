"""Environments: where services are routed and answered. `staging` and `production` exist in every
store; a team adds its own (`preproduction`, `training`) as it needs them.

`production` is where citizens are answered: its stable route is gated (a version earns it through a
rollout or an approver's override) and staging validation is held against its runtime. Every other
environment is for trying versions out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from relevo.audit import record_change
from relevo.context import Context
from relevo.errors import Conflict, InvalidInput, NotFound, Refused
from relevo.identity import holds
from relevo.store import connect, storable_text
from relevo.store.tables import environments

ENVIRONMENT_NAME = re.compile(r"^[a-z][a-z0-9-]{0,18}[a-z0-9]$")
BUILT_IN = ("staging", "production")


@dataclass(frozen=True)
class Environment:
    """One environment, as recorded."""

    name: str
    description: str
    created_at: datetime
    created_by: str


def _names(conn: Connection) -> list[str]:
    return list(conn.execute(select(environments.c.name).order_by(environments.c.created_at, environments.c.name))
                .scalars())


def check_environment(conn: Connection, environment: str) -> str:
    """A recorded environment's name; InvalidInput for a malformed name, NotFound for an unknown one."""
    if not isinstance(environment, str) or not ENVIRONMENT_NAME.match(environment):
        raise InvalidInput(f"{environment!r} is not an environment name: 2-20 lowercase letters, digits and '-', "
                           "starting with a letter")
    known = _names(conn)
    if environment not in known:
        raise NotFound(f"unknown environment {environment!r}; environments are {', '.join(known)} "
                       f"(an operator adds one with `relevo env add {environment}`)")
    return environment


def known_environment(ctx: Context, environment: str) -> str:
    """check_environment on a connection of its own (before work that needs no other)."""
    with connect(ctx.engine) as conn:
        return check_environment(conn, environment)


def list_environments(ctx: Context) -> list[Environment]:
    """Every environment, oldest first."""
    with connect(ctx.engine) as conn:
        rows = conn.execute(select(environments).order_by(environments.c.created_at, environments.c.name)).all()
    return [Environment(r.name, r.description, r.created_at, r.created_by) for r in rows]


def add_environment(ctx: Context, environment: str, description: str = "") -> Environment:
    """Record a new environment (operators of every service, or admins); audited."""
    if ctx.grants is not None and not holds(ctx.grants, "operator", None):
        raise Refused(f"{ctx.actor} does not hold the operator role for every service: adding an environment")
    if not ENVIRONMENT_NAME.match(environment):
        raise InvalidInput(f"{environment!r} is not an environment name: 2-20 lowercase letters, digits and '-', "
                           "starting with a letter")
    storable_text("description", description)
    now = ctx.clock.now()
    try:
        with connect(ctx.engine) as conn:
            if environment in _names(conn):
                raise Conflict(f"environment {environment!r} already exists")
            conn.execute(environments.insert().values(name=environment, description=description, created_at=now,
                                                      created_by=ctx.actor))
            record_change(conn, ctx, at=now, action="environment.added", subject=environment,
                          details={"description": description})
    except IntegrityError:
        raise Conflict(f"environment {environment!r} already exists") from None
    return Environment(environment, description, now, ctx.actor)
