"""The API's routers, one per area; `relevo.api.app.create_app` mounts them all."""

from relevo.api.routes import commands, decisions, operations, reviews, services, uploads

# In the order the OpenAPI document lists them.
ROUTERS = [decisions.router, reviews.router, services.router, uploads.router, commands.router, operations.router]

__all__ = ["ROUTERS"]
