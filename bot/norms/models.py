"""Tables of the stream norms.

* ``norm_settings``: one overridden setting per scope ("team" or "room:<id>") and key; the
  defaults live in bot.norms.config.
* ``stream_checkpoints``: one row per stream and kind — the checkpoints before it
  (script, venue, equipment, onsite) and the deadlines after it (export, review). Its timers
  are keyed ``stream:{id}:cp:{kind}:{stage}`` (ref ``stream:{id}:cp:{kind}``).
* ``product_explanations``: the /讲解 timer's records; overtime ones feed the review.
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Optional

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.store.types import UTCDateTime

class CheckpointStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"


OPEN, DONE, CANCELLED, SKIPPED = (CheckpointStatus.OPEN, CheckpointStatus.DONE, CheckpointStatus.CANCELLED,
                                  CheckpointStatus.SKIPPED)


def _ts(**kw: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kw)


class NormSetting(SQLModel, table=True):
    __tablename__ = "norm_settings"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    scope: str = Field(default="team", max_length=32)  # team | room:<id>
    key: str = Field(max_length=64)
    value: Any = Field(default=None, sa_column=Column(JSON))
    updated_by: str = Field(default="", max_length=128)
    updated_at: datetime = _ts()


class Checkpoint(SQLModel, table=True):
    __tablename__ = "stream_checkpoints"
    __table_args__ = (UniqueConstraint("stream_id", "kind"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    stream_id: int = Field(index=True)
    kind: str = Field(max_length=16)  # script | venue | equipment | onsite | export | review
    due_at: datetime = _ts()  # when the card is posted (the norm's deadline)
    owner_id: Optional[str] = Field(default=None, max_length=128)
    chat_id: str = Field(default="", max_length=128)
    status: str = Field(default=OPEN, max_length=16)  # open | done | cancelled | skipped
    done_by: Optional[str] = Field(default=None, max_length=128)
    done_at: Optional[datetime] = _ts(default=None)
    latency_ms: Optional[int] = None  # the equipment test's measured network latency
    failed_at: Optional[datetime] = _ts(default=None)  # last time a measured value failed the norm
    override_reason: Optional[str] = Field(default=None, max_length=500)  # ops lead let it through
    reminders: int = 0
    escalated_at: Optional[datetime] = _ts(default=None)
    card_message_id: Optional[str] = Field(default=None, max_length=128)
    gate_record_id: Optional[int] = None  # the script check (compliance record) that let it be confirmed


class Explanation(SQLModel, table=True):
    __tablename__ = "product_explanations"

    id: Optional[int] = Field(default=None, primary_key=True)
    stream_id: Optional[int] = Field(default=None, index=True)
    chat_id: str = Field(max_length=128, index=True)
    kind: str = Field(max_length=16)  # hero | traffic
    product: str = Field(max_length=200)
    started_by: str = Field(default="", max_length=128)
    started_at: datetime = _ts()
    ended_at: Optional[datetime] = _ts(default=None)
    seconds: Optional[int] = None
    lower_min: int = 0
    upper_min: int = 0
    overtime: bool = False
