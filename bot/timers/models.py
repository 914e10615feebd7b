"""The table of the timer engine.

``timers`` is the one place every time-bound thing lives (reminders, SLA deadlines,
briefings, stream checkpoints); see bot.timers for how features use it.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from bot.store.types import UTCDateTime

ACTIVE, PAUSED, DONE, CANCELLED = "active", "paused", "done", "cancelled"
STATES = (ACTIVE, PAUSED, DONE, CANCELLED)


def _ts(**kw: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kw)


class Timer(SQLModel, table=True):
    """Something to do at a time: ``kind`` picks the handler, ``payload`` is its input."""

    __tablename__ = "timers"
    __table_args__ = (Index("ix_timers_state_due", "state", "next_due"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)  # idempotent scheduling: "stream:12:t-2h"
    kind: str = Field(max_length=64)
    payload: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    next_due: datetime = _ts()  # aware UTC
    rule: Optional[dict] = Field(default=None, sa_column=Column(JSON))  # Recurrence.to_dict(); None = once
    tz: str = Field(default="Asia/Shanghai", max_length=64)
    state: str = Field(default=ACTIVE, max_length=16)  # active | paused | done | cancelled
    chat_id: str = Field(default="", max_length=128)
    ref: str = Field(default="", max_length=128, index=True)  # "stream:12", "task:3", "reminder:5"
    created_by: str = Field(default="", max_length=128)
    fire_count: int = 0
    last_fired_at: Optional[datetime] = _ts(default=None)
    stale_after_seconds: Optional[int] = None  # later than this: skipped, not sent
    last_error: Optional[str] = Field(default=None, max_length=64)  # reference id of a failed run
    created_at: datetime = _ts()
    updated_at: datetime = _ts()
