"""The holiday arrangements an admin keeps in the database (/节假日), and keeping
bot.timeparse.workdays' in-memory copy of them fresh.

Tables (migration 0009_times_calendar):

* ``calendar_days``: one row per day an admin added, removed or imported — kind ``holiday``
  (a day off), ``workday`` (a make-up working day) or ``normal`` (an ordinary day that a
  shipped or package calendar would call a holiday: what "remove" stores). ``year`` is the
  arrangement's year (a notice can name a day of the year before);
* ``calendar_years``: the years imported whole, with their source (the notice's address);
  such a year is authoritative (its unlisted days are ordinary days);
* ``calendar_changes``: who changed what and when; its highest id is the data's version;
* ``calendar_imports``: a pasted year waiting for its confirmation button.

The calendar is read on every working-day question (recurrence searches ask day by day), so
it is never read from the database per call: :func:`refresh` loads it into workdays (at
start-up and right after a change here), and :func:`refresh_if_stale` — called by the timer
engine's planning and by the commands that depend on it — compares the version at most once a
minute, so another replica's change is picked up within a minute.
"""
from __future__ import annotations

import time as monotonic_time
from datetime import date, datetime
from typing import Any, Optional

from sqlalchemy import JSON, Column, delete, event, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel

from bot.timeparse import workdays
from bot.store.types import UTCDateTime

CHECK_EVERY = 60.0  # seconds between version checks
PENDING, APPLIED, CANCELLED = "pending", "applied", "cancelled"


def _ts(**kw: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kw)


class CalendarDay(SQLModel, table=True):
    __tablename__ = "calendar_days"

    id: Optional[int] = Field(default=None, primary_key=True)
    day: date = Field(unique=True)
    year: int = Field(index=True)  # the arrangement's year
    kind: str = Field(max_length=8)  # holiday | workday | normal
    name: str = Field(default="", max_length=40)
    updated_by: str = Field(default="", max_length=128)
    updated_at: datetime = _ts()


class CalendarYear(SQLModel, table=True):
    __tablename__ = "calendar_years"

    year: int = Field(primary_key=True)
    source: str = Field(default="", max_length=300)
    updated_by: str = Field(default="", max_length=128)
    updated_at: datetime = _ts()


class CalendarChange(SQLModel, table=True):
    __tablename__ = "calendar_changes"

    id: Optional[int] = Field(default=None, primary_key=True)
    at: datetime = _ts()
    user_id: str = Field(default="", max_length=128)
    action: str = Field(max_length=16)  # add | remove | import
    what: str = Field(default="", max_length=300)


class CalendarImport(SQLModel, table=True):
    __tablename__ = "calendar_imports"

    id: Optional[int] = Field(default=None, primary_key=True)
    year: int
    days: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # [[iso, kind, name]]
    source: str = Field(default="", max_length=300)
    chat_id: str = Field(default="", max_length=128)
    created_by: str = Field(default="", max_length=128)
    created_at: datetime = _ts()
    state: str = Field(default=PENDING, max_length=12)


_version: int | None = None
_checked_at = float("-inf")


async def _current_version(session: AsyncSession) -> int:
    return int((await session.execute(select(func.max(CalendarChange.id)))).scalar() or 0)


async def refresh(session: AsyncSession) -> None:
    """Load the database's days and years into workdays (a few hundred rows at most)."""
    global _version, _checked_at
    version = await _current_version(session)
    days = (await session.execute(select(CalendarDay.day, CalendarDay.kind, CalendarDay.name))).all()
    years = (await session.execute(select(CalendarYear.year, CalendarYear.source))).all()
    workdays.load([(d, k, n) for d, k, n in days], {y: s for y, s in years})
    _version, _checked_at = version, monotonic_time.monotonic()
    session.sync_session.info["calendar_loaded"] = True


def check_due(every: float | None = None) -> bool:
    """Is it time to compare the version again? (No session needed to ask.)"""
    return monotonic_time.monotonic() - _checked_at >= (CHECK_EVERY if every is None else every)


async def refresh_if_stale(session: AsyncSession, *, every: float | None = None) -> bool:
    """Reload when another process changed the data (checked at most every ``every``
    seconds); True when it reloaded."""
    global _checked_at
    if not check_due(every):
        return False
    _checked_at = monotonic_time.monotonic()
    if await _current_version(session) == _version:
        return False
    await refresh(session)
    return True


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    """A change loaded into workdays was rolled back: compare the version at the next chance."""
    global _version, _checked_at
    if session.info.pop("calendar_loaded", None) and not session.in_nested_transaction():
        _version, _checked_at = None, float("-inf")


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop("calendar_loaded", None)


async def _log(session: AsyncSession, user_id: str, action: str, what: str, now: datetime) -> None:
    session.add(CalendarChange(at=now, user_id=user_id, action=action, what=what[:300]))
    await session.flush()


async def set_day(session: AsyncSession, day: date, kind: str, name: str, *, by: str, now: datetime) -> None:
    """Add or change one day (holiday / workday / normal), then reload."""
    row = (await session.execute(select(CalendarDay).where(CalendarDay.day == day))).scalar_one_or_none()
    if row is None:
        row = CalendarDay(day=day, year=day.year, kind=kind, name=name[:40], updated_by=by, updated_at=now)
        session.add(row)
    else:
        row.kind, row.name, row.updated_by, row.updated_at = kind, name[:40], by, now
    await _log(session, by, "add" if kind != "normal" else "remove", f"{day.isoformat()} {kind} {name}", now)
    await refresh(session)


async def remove_day(session: AsyncSession, day: date, *, by: str, now: datetime) -> bool:
    """Make ``day`` an ordinary day again; False when it already was one."""
    if workdays.is_holiday(day) is False and not workdays.is_makeup_working_day(day):
        return False
    await session.execute(delete(CalendarDay).where(CalendarDay.day == day))
    await session.flush()
    await refresh(session)
    if workdays.is_holiday(day) or workdays.is_makeup_working_day(day):  # a shipped / package day
        await set_day(session, day, "normal", "", by=by, now=now)
    else:
        await _log(session, by, "remove", day.isoformat(), now)
        await refresh(session)
    return True


async def stage_import(session: AsyncSession, year: int, days: list[tuple[date, str, str]], source: str, *,
                       chat_id: str, by: str, now: datetime) -> CalendarImport:
    row = CalendarImport(year=year, days=[[d.isoformat(), k, n] for d, k, n in days], source=source[:300],
                         chat_id=chat_id, created_by=by, created_at=now)
    session.add(row)
    await session.flush()
    return row


async def apply_import(session: AsyncSession, staged: CalendarImport, *, by: str, now: datetime) -> int:
    """Replace the year's days with the staged ones and mark the year imported whole."""
    await session.execute(delete(CalendarDay).where(CalendarDay.year == staged.year))
    days = [(date.fromisoformat(d), k, n) for d, k, n in staged.days]
    await session.execute(delete(CalendarDay).where(CalendarDay.day.in_([d for d, _k, _n in days])))
    for d, kind, name in days:
        session.add(CalendarDay(day=d, year=staged.year, kind=kind, name=name[:40], updated_by=by, updated_at=now))
    year = await session.get(CalendarYear, staged.year)
    if year is None:
        session.add(CalendarYear(year=staged.year, source=staged.source, updated_by=by, updated_at=now))
    else:
        year.source, year.updated_by, year.updated_at = staged.source, by, now
    staged.state = APPLIED
    await _log(session, by, "import", f"{staged.year}: {len(days)} days {staged.source}", now)
    await refresh(session)
    return len(days)
