"""The store: one schema (SQLAlchemy Core), two engines (SQLite by default, PostgreSQL)."""

from relevo.store.engine import connect
from relevo.store.migrate import open_store, upgrade

__all__ = ["connect", "open_store", "upgrade"]
