"""Tables of a Bitable binding: which table a team's schedule is read from, and for each record
the stream it made and what was last read (so unchanged rows are skipped and a row that cannot
be applied is reported once)."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.store.types import UTCDateTime

PENDING, ACTIVE, OFF = "pending", "active", "off"


def _ts(**kw: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kw)


class BitableBinding(SQLModel, table=True):
    """One team's schedule table. ``writeback``: what to write into which column, e.g.
    {"status": "直播状态", "uv": "场观"}; ``problem``: the read error last reported ("" none)."""

    __tablename__ = "bitable_bindings"

    id: Optional[int] = Field(default=None, primary_key=True)
    chat_id: str = Field(max_length=128, index=True)
    app_token: str = Field(max_length=128)
    table_id: str = Field(max_length=64)
    link: str = Field(default="", max_length=500)
    status: str = Field(default=PENDING, max_length=16)
    every_minutes: int = 10
    writeback: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    problem: str = Field(default="", max_length=64)
    created_by: str = Field(default="", max_length=128)
    created_at: datetime = _ts()
    confirmed_at: Optional[datetime] = _ts(default=None)
    synced_at: Optional[datetime] = _ts(default=None)


class BitableRow(SQLModel, table=True):
    """A record of the bound table: the stream it stands for, the fingerprint of what was read
    the last time it was applied, and the problem last reported for it ("" none)."""

    __tablename__ = "bitable_rows"
    __table_args__ = (UniqueConstraint("binding_id", "record_id"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    binding_id: int = Field(index=True)
    record_id: str = Field(max_length=64)
    stream_id: Optional[int] = None
    fingerprint: str = Field(default="", max_length=64)
    problem: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
