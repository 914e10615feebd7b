"""What the Feishu copy of a task was last told (bot.tasks.mirror compares against it)."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import JSON, BigInteger, Column
from sqlmodel import Field, SQLModel

from bot.store.types import UTCDateTime


class TaskMirror(SQLModel, table=True):
    """One row per mirrored task: summary, due (ms), done and the members last pushed; ``version``
    numbers the pushes (each push's outbox keys carry it)."""

    __tablename__ = "task_mirrors"

    task_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    summary: str = Field(default="", max_length=3000)
    due_ms: Optional[int] = Field(default=None, sa_type=BigInteger)
    done: bool = False
    members: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    version: int = 0
    updated_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)


