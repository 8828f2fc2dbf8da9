"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import JSON, BigInteger, DateTime
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """An aware UTC datetime in, an aware UTC datetime out (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use the clock")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


# JSON documents: JSONB on PostgreSQL (indexable), JSON text elsewhere.
JSONDoc = JSON().with_variant(JSONB(), "postgresql")


class epoch_microseconds(FunctionElement):
    """A UTCDateTime column as whole microseconds since 1970 (BIGINT), exact on both engines.

    Reading a step's thousands of moments this way costs an integer each, where a datetime costs
    parsing (SQLite keeps text) and two conversions before the judge's arrays take it."""

    type = BigInteger()
    inherit_cache = True


@compiles(epoch_microseconds, "sqlite")
def _epoch_microseconds_sqlite(element, compiler, **kw):
    # Stored as 'YYYY-MM-DD HH:MM:SS.ffffff' (naive UTC, always with its six digits)
    column = compiler.process(element.clauses, **kw)
    # (the whole seconds from the text before the fraction: strftime would round .9999995 up)
    return (f"(CAST(strftime('%s', substr({column}, 1, 19)) AS INTEGER) * 1000000"
            f" + CAST(substr({column}, 21, 6) AS INTEGER))")


@compiles(epoch_microseconds, "postgresql")
def _epoch_microseconds_postgresql(element, compiler, **kw):
    # Whole seconds and the microseconds within the second apart: exact whatever EXTRACT returns
    column = compiler.process(element.clauses, **kw)
    return (f"(CAST(EXTRACT(EPOCH FROM date_trunc('second', {column})) AS BIGINT) * 1000000"
            f" + mod(CAST(EXTRACT(MICROSECONDS FROM {column}) AS BIGINT), 1000000))")
