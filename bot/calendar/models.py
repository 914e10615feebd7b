"""Tables of the stream calendar: per-team settings, the calendars the bot created, and the
event it keeps for each stream (what it last pushed, to notice hand edits)."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.store.types import UTCDateTime

PENDING, READY = "pending", "ready"
ACTIVE, DELETED = "active", "deleted"


def _ts(**kw: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kw)


class CalendarSettings(SQLModel, table=True):
    """Per team group: is the calendar on, one per room or one for the team, the reminder."""

    __tablename__ = "stream_calendar_settings"

    chat_id: str = Field(primary_key=True, max_length=128)
    enabled: bool = False
    per_room: bool = False
    reminder_minutes: int = 30
    sync_minutes: int = 10
    updated_by: str = Field(default="", max_length=128)
    updated_at: datetime = _ts()


class StreamCalendar(SQLModel, table=True):
    """A shared calendar the bot created (as the app) for a team, or for one room of it.
    ``scope_key``: the team chat id, or "<chat id>#room:<id>"."""

    __tablename__ = "stream_calendars"

    id: Optional[int] = Field(default=None, primary_key=True)
    scope_key: str = Field(max_length=200, unique=True)
    chat_id: str = Field(max_length=128, index=True)
    room_id: Optional[int] = None
    summary: str = Field(default="", max_length=255)
    calendar_id: Optional[str] = Field(default=None, max_length=200)
    status: str = Field(default=PENDING, max_length=16)
    create_key: str = Field(default="", max_length=250)  # outbox key of the (latest) creation
    created_at: datetime = _ts()


class StreamEvent(SQLModel, table=True):
    """The calendar event of one stream. ``create_key`` is the outbox key of its creation (later
    changes target "@create_key", so they wait for it); ``sent`` is what was pushed last."""

    __tablename__ = "stream_calendar_events"
    __table_args__ = (UniqueConstraint("stream_id"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    stream_id: int
    scope_key: str = Field(max_length=200, index=True)
    create_key: str = Field(max_length=200)
    event_id: Optional[str] = Field(default=None, max_length=200)
    version: int = 0
    sent: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    seen: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))  # last hand edit reported
    state: str = Field(default=ACTIVE, max_length=16)
    updated_at: datetime = _ts()
