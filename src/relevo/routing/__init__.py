"""Routing: which versions answer a service in an environment, and which case goes where."""

from relevo.routing.assign import goes_to_candidate
from relevo.routing.table import (
    ENVIRONMENTS,
    MODES,
    Route,
    RouteShown,
    check_environment,
    describe_route,
    get_route,
    read_route,
    route_revisions,
    show_route,
)

__all__ = [
    "ENVIRONMENTS", "MODES", "Route", "RouteShown", "check_environment", "describe_route", "get_route", "goes_to_candidate",
    "read_route", "route_revisions", "show_route",
]
