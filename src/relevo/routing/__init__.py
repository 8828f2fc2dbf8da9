"""Routing: which versions answer a service in an environment, and which case goes where."""

from relevo.routing.assign import goes_to_candidate
from relevo.routing.environments import (
    ENVIRONMENT_NAME,
    Environment,
    add_environment,
    check_environment,
    known_environment,
    list_environments,
)
from relevo.routing.table import (
    MODES,
    Route,
    RouteShown,
    describe_route,
    get_route,
    read_route,
    route_revisions,
    show_route,
)

__all__ = [
    "ENVIRONMENT_NAME", "Environment", "MODES", "Route", "RouteShown", "add_environment", "check_environment",
    "describe_route", "get_route", "goes_to_candidate", "known_environment",
    "list_environments",
    "read_route", "route_revisions", "show_route",
]
