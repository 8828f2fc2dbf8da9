"""The store: one schema (SQLAlchemy Core), two engines (SQLite by default, PostgreSQL)."""

from relevo.store.engine import after_commit, connect, safe_url
from relevo.store.migrate import open_store, upgrade
from relevo.store.text import storable_text, text_problem

__all__ = ["after_commit", "connect", "open_store", "safe_url", "storable_text", "text_problem", "upgrade"]
