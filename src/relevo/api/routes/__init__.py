"""The API's routers, one per area; `relevo.api.app.create_app` mounts them all."""

from relevo.api.routes import decisions, operations, reviews, services

# In the order the OpenAPI document lists them.
ROUTERS = [decisions.router, reviews.router, services.router, operations.router]

__all__ = ["ROUTERS"]
