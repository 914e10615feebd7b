"""Column types shared by the tables."""
from __future__ import annotations

from datetime import datetime, timezone

import json

from sqlalchemy.types import DateTime, Text, TypeDecorator


class UTCDateTime(TypeDecorator):
    """Stores naive UTC, returns aware UTC: the same on SQLite and PostgreSQL."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)

    def bind_processor(self, dialect):
        """On SQLite, one step to the text SQLAlchemy's DATETIME stores ("2026-12-07
        01:02:03.456789"), not ``process_bind_param`` and then DATETIME's dict formatting: every
        event the webhook stores has a time, and the two steps were a sixth of the intake's
        write (docs/benchmarks.md). tests/test_store_types.py holds both to the same text."""
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)
        return sqlite_text


def sqlite_text(value: datetime | None) -> str | None:
    """An aware datetime as SQLite's DATETIME text of its UTC time (UTCDateTime on SQLite)."""
    if value is None:
        return None
    zone = value.tzinfo
    if zone is None:
        raise ValueError("naive datetime given to a UTC column")
    if zone is not timezone.utc:
        value = value.astimezone(timezone.utc)
    return value.isoformat(" ", "microseconds")[:26]  # (without its "+00:00")


class JSONText(TypeDecorator):
    """JSON kept as text. A str is stored as it is (the webhook already holds the event's
    JSON text, so it is not serialised twice); anything else is dumped. Reads give objects."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None or isinstance(value, str):
            return value
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    def process_result_value(self, value, dialect):
        return None if value is None else json.loads(value)
