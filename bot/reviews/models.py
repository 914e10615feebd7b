"""Tables of post-stream reviews (复盘) and their items (亮点 / 不足 / 改进)."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Optional

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from bot.store.types import UTCDateTime

class ReviewStatus(StrEnum):
    OPEN = "open"
    DONE = "done"


OPEN, DONE = ReviewStatus.OPEN, ReviewStatus.DONE
HIGHLIGHT, SHORTCOMING, IMPROVEMENT = "highlight", "shortcoming", "improvement"
KINDS = (HIGHLIGHT, SHORTCOMING, IMPROVEMENT)


def _ts(**kw: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kw)


class Review(SQLModel, table=True):
    """One review, of a stream (``stream_id``, a plain int) or of anything else. Shown as
    "#<stream>" when it belongs to a stream, else "R<id>"."""

    __tablename__ = "reviews"
    __table_args__ = (Index("ix_reviews_chat_created", "chat_id", "created_at"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    chat_id: str = Field(max_length=128)
    stream_id: Optional[int] = Field(default=None, index=True)
    title: str = Field(default="", max_length=300)
    status: str = Field(default=OPEN, max_length=16)
    created_by: str = Field(default="", max_length=128)
    created_at: datetime = _ts()
    finished_at: Optional[datetime] = _ts(default=None)
    finished_by: Optional[str] = Field(default=None, max_length=128)
    stream_ended_at: Optional[datetime] = _ts(default=None)
    card_key: Optional[str] = Field(default=None, max_length=200)  # outbox key of the editing card


class ReviewItem(SQLModel, table=True):
    __tablename__ = "review_items"

    id: Optional[int] = Field(default=None, primary_key=True)
    review_id: int = Field(index=True)
    kind: str = Field(max_length=16)
    text: str = Field(sa_column=Column(Text, nullable=False))
    by: str = Field(default="", max_length=128)
    at: datetime = _ts()
    source: str = Field(default="manual", max_length=16)  # manual | fault | checkpoint
    owner_id: Optional[str] = Field(default=None, max_length=128)  # an improvement's owner, when named
    due_at: Optional[datetime] = _ts(default=None)  # an improvement's deadline, when named
    task_id: Optional[int] = None
