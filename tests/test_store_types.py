"""UTCDateTime's one-step SQLite bind (bot.store.types.sqlite_text, issue 20) gives the text
SQLAlchemy's own two steps give (process_bind_param, then SQLite DATETIME's format), so rows
written before and after compare and sort alike; and both databases read back the same instant."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from bot.store.models import InboxEvent
from bot.store.types import UTCDateTime, sqlite_text

SAMPLES = [
    datetime(2026, 12, 7, 1, 2, 3, 456789, tzinfo=timezone.utc),
    datetime(2026, 12, 7, 1, 2, 3, tzinfo=timezone.utc),  # no microseconds: still six digits
    datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=8))),  # Beijing time
    datetime(2027, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=-3, minutes=-30))),
    datetime(1, 1, 1, 0, 0, tzinfo=timezone.utc),
    datetime(999, 5, 6, 7, 8, 9, 10, tzinfo=timezone.utc),  # a three-digit year, padded
]


def sqlalchemys_own():
    """The two steps: the decorator's own, then what SQLite's DATETIME makes of its result."""
    dialect = sqlite.dialect()
    to_text = sqlite.DATETIME().bind_processor(dialect)
    return lambda value: to_text(UTCDateTime().process_bind_param(value, dialect))


@pytest.mark.parametrize("value", SAMPLES + [None])
def test_the_one_step_bind_is_sqlalchemys_text(value):
    assert sqlite_text(value) == sqlalchemys_own()(value)
    assert UTCDateTime().bind_processor(sqlite.dialect()) is sqlite_text


def test_a_naive_datetime_is_refused_as_before():
    naive = datetime(2026, 12, 7, 1, 2, 3)
    for process in (sqlite_text, sqlalchemys_own()):
        with pytest.raises(ValueError, match="naive datetime"):
            process(naive)


def test_postgresql_keeps_sqlalchemys_processing():
    assert UTCDateTime().bind_processor(postgresql.asyncpg.dialect()) is not sqlite_text


async def test_stored_times_read_back_as_the_same_instant(database):
    beijing = datetime(2026, 12, 7, 20, 0, 0, 5, tzinfo=timezone(timedelta(hours=8)))
    async with database.session() as s:
        s.add(InboxEvent(event_id="e1", event_type="t", payload={}, received_at=beijing, lane="oc_1"))
    async with database.session() as s:
        got = (await s.execute(select(InboxEvent.received_at).where(InboxEvent.received_at == beijing))).scalar_one()
    assert got == beijing and got.tzinfo == timezone.utc
