"""Tables of the schedule: live rooms, the team's people with their job titles, streams
(场次) and the log of changes to them.

Later features read these: checkpoints and in-stream cadence hang off ``Stream`` (its
``starts_at``/``ends_at``, people and ``status``); announcements go to ``Stream.chat_id`` (the
team group) and ``Room.field_chat_id`` (the room's field-control group); ``StreamChange`` is
the audit trail (who changed what, from → to) and feeds KPIs such as schedule accuracy.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import JSON, BigInteger, Column, Index, Text
from sqlmodel import Field, SQLModel

from bot.store.types import UTCDateTime

# Stream status codes (shown through texts "schedule.status.<code>").
PENDING, CONFIRMED, CANCELLED, LIVE, ENDED = "pending", "confirmed", "cancelled", "live", "ended"
STATUSES = (PENDING, CONFIRMED, CANCELLED, LIVE, ENDED)
# The people of a stream: field name → the job title that usually fills it.
PERSON_FIELDS = ("streamer_id", "assistant_id", "field_control_id", "console_id", "tech_id")
# Roles that are "in the room" for the whole stream: one person cannot be in two rooms at
# once in these. The technician on duty (tech_id) may cover several rooms at the same time.
EXCLUSIVE_FIELDS = ("streamer_id", "assistant_id", "field_control_id", "console_id")
TITLES = ("主播", "助播", "场控", "中控", "技术", "运营", "编导", "投手", "文案")


def _ts(**kw: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kw)


class Room(SQLModel, table=True):
    """A live room (直播间). ``aliases`` are other names people type ("1号间", "A1")."""

    __tablename__ = "rooms"

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True)
    aliases: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    platform: str = Field(default="", max_length=16)  # 抖音 | 快手 | ...
    field_chat_id: Optional[str] = Field(default=None, max_length=128)  # the field-control group
    notes: str = Field(default="", max_length=500)
    active: bool = True
    created_at: datetime = _ts()


class StaffMember(SQLModel, table=True):
    """A person of the team and their job titles (主播, 场控 ...). Not the bot's roles
    (permissions): a 场控 may or may not hold the ops role."""

    __tablename__ = "staff"

    id: Optional[int] = Field(default=None, primary_key=True)
    open_id: str = Field(max_length=128, unique=True)
    name: str = Field(max_length=100, index=True)
    titles: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    active: bool = True
    added_by: str = Field(default="", max_length=128)
    added_at: datetime = _ts()


class Stream(SQLModel, table=True):
    """One scheduled stream (场次), shown as #id. Times are UTC; displayed in the bot's zone.
    Natural key for imports: (room_id, starts_at) among streams that are not cancelled."""

    __tablename__ = "streams"
    __table_args__ = (Index("ix_streams_room_start", "room_id", "starts_at"),
                      Index("ix_streams_start_end", "starts_at", "ends_at"))

    id: Optional[int] = Field(default=None, primary_key=True)
    room_id: int = Field(foreign_key="rooms.id")
    starts_at: datetime = _ts()
    ends_at: datetime = _ts()
    streamer_id: Optional[str] = Field(default=None, max_length=128, index=True)
    assistant_id: Optional[str] = Field(default=None, max_length=128)
    field_control_id: Optional[str] = Field(default=None, max_length=128)
    console_id: Optional[str] = Field(default=None, max_length=128)
    tech_id: Optional[str] = Field(default=None, max_length=128)
    brand: str = Field(default="", max_length=100)
    theme: str = Field(default="", max_length=200)
    target_gmv: Optional[int] = Field(default=None, sa_type=BigInteger)  # yuan
    status: str = Field(default=PENDING, max_length=16)
    actual_start: Optional[datetime] = _ts(default=None)  # set by /开播
    actual_end: Optional[datetime] = _ts(default=None)  # set by /下播
    cancel_reason: str = Field(default="", max_length=300)
    chat_id: str = Field(default="", max_length=128)  # the team group it belongs to
    source: str = Field(default="chat", max_length=16)  # chat | import | demo
    created_by: str = Field(default="", max_length=128)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()

    def people(self) -> dict[str, str]:
        """field name → open_id, for the people set on this stream."""
        return {f: getattr(self, f) for f in PERSON_FIELDS if getattr(self, f)}


class StreamChange(SQLModel, table=True):
    """What happened to a stream: added, changed, confirmed, cancelled, imported, live, ended.
    ``changes`` maps a field to [before, after] as shown to people."""

    __tablename__ = "stream_changes"

    id: Optional[int] = Field(default=None, primary_key=True)
    stream_id: int = Field(foreign_key="streams.id", index=True)
    kind: str = Field(max_length=16)
    changes: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    note: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    by: str = Field(default="", max_length=128)
    at: datetime = _ts()
