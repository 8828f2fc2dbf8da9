"""The store: one schema (SQLAlchemy Core), two engines (SQLite by default, PostgreSQL)."""

from relevo.store.engine import connect, open_store
from relevo.store.migrate import upgrade

__all__ = ["connect", "open_store", "upgrade"]
