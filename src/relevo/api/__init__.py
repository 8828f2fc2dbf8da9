"""The HTTP API: a thin adapter that parses a request, calls the Gateway or one use case, renders."""

from relevo.api.app import create_app

__all__ = ["create_app"]
