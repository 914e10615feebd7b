"""Tables of /提醒 reminders.

``reminders`` holds what a /提醒 says and to whom; its schedule is its timer
(``timer_id``, key ``reminder:{id}``, table ``timers``: bot.timers.models).
``reminder_log`` records what people did with it.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import JSON, Column, Text
from sqlmodel import Field, SQLModel

from bot.store.types import UTCDateTime


def _ts(**kw: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kw)


class Reminder(SQLModel, table=True):
    """A /提醒: the text, who set it, who it is for. The schedule is the timer's."""

    __tablename__ = "reminders"

    id: Optional[int] = Field(default=None, primary_key=True)
    chat_id: str = Field(max_length=128, index=True)
    created_by: str = Field(max_length=128)
    creator_name: str = Field(default="", max_length=100)
    text: str = Field(sa_column=Column(Text, nullable=False))
    targets: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # [{"id", "name"}]
    everyone: bool = False
    timer_id: Optional[int] = Field(default=None, index=True)
    source_message_id: str = Field(default="", max_length=128)
    created_at: datetime = _ts()


class ReminderLog(SQLModel, table=True):
    """What someone did with a reminder: done, snooze, pause, resume, cancel."""

    __tablename__ = "reminder_log"

    id: Optional[int] = Field(default=None, primary_key=True)
    reminder_id: int = Field(index=True)
    action: str = Field(max_length=16)
    user_id: str = Field(max_length=128)
    at: datetime = _ts()
    due: Optional[datetime] = _ts(default=None)  # the fire it answers
    until: Optional[datetime] = _ts(default=None)  # snooze target
