"""Tables of the satisfaction survey: per-team settings (the partner departments' contacts),
one survey per team and month, one answer row per contact."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.store.types import UTCDateTime

DEFAULT_DEPT = "合作部门"
TARGET = 4.5  # the seed: cross-department satisfaction ≥ 4.5 of 5


def _ts(**kw: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kw)


class SurveySettings(SQLModel, table=True):
    """``contacts``: [{"open_id", "dept"}]; the survey goes out on ``day`` of each month at
    ``hour`` (local), a reminder ``remind_days`` later to whoever has not answered."""

    __tablename__ = "survey_settings"

    chat_id: str = Field(primary_key=True, max_length=128)
    contacts: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    day: int = 25
    hour: int = 10
    remind_days: int = 3
    updated_by: str = Field(default="", max_length=128)
    updated_at: datetime = _ts()


class Survey(SQLModel, table=True):
    __tablename__ = "surveys"
    __table_args__ = (UniqueConstraint("chat_id", "month"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    chat_id: str = Field(max_length=128)
    month: str = Field(max_length=7)  # "2026-11"
    sent_at: datetime = _ts()


class SurveyAnswer(SQLModel, table=True):
    __tablename__ = "survey_answers"
    __table_args__ = (UniqueConstraint("survey_id", "open_id"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    survey_id: int = Field(index=True)
    open_id: str = Field(max_length=128)
    dept: str = Field(default=DEFAULT_DEPT, max_length=64)
    rating: Optional[int] = None
    comment: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    answered_at: Optional[datetime] = _ts(default=None)
    reminded: int = 0
