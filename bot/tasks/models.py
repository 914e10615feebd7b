"""Tables of tasks: the task, its owners, its history, and per-chat task settings.

A task's reminders are timers with ref ``task:{id}`` (see bot.tasks.reminders), so
``timers.cancel_ref(session, f"task:{id}")`` stops all of them at once.
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Optional

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.store.types import UTCDateTime

class TaskStatus(StrEnum):
    TODO = "todo"
    DOING = "doing"
    DONE = "done"
    CANCELLED = "cancelled"


TODO, DOING, DONE, CANCELLED = TaskStatus.TODO, TaskStatus.DOING, TaskStatus.DONE, TaskStatus.CANCELLED
STATUSES = (TODO, DOING, DONE, CANCELLED)
OPEN = (TODO, DOING)
HIGH, NORMAL, LOW = "high", "normal", "low"
PRIORITIES = (HIGH, NORMAL, LOW)
MANUAL, REVIEW, FAULT, MESSAGE = "manual", "review", "fault", "message"
SOURCES = (MANUAL, REVIEW, FAULT, MESSAGE)


def _ts(**kw: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kw)


class Task(SQLModel, table=True):
    """One task, shown as 任务#id. ``idem_key`` makes creation idempotent (a double click,
    a redelivered event); ``due_at`` is aware UTC."""

    __tablename__ = "tasks"
    __table_args__ = (Index("ix_tasks_chat_status", "chat_id", "status"),
                      Index("ix_tasks_status_due", "status", "due_at"))

    id: Optional[int] = Field(default=None, primary_key=True)
    chat_id: str = Field(default="", max_length=128)
    title: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default=TODO, max_length=16)
    priority: str = Field(default=NORMAL, max_length=8)
    source: str = Field(default=MANUAL, max_length=16)
    source_ref: str = Field(default="", max_length=128)  # a message id, "fault:3" ...
    review_id: Optional[int] = Field(default=None, index=True)
    review_item_id: Optional[int] = None
    stream_id: Optional[int] = None  # plain int: no foreign key into the schedule's tables
    due_at: datetime = _ts()
    created_by: str = Field(default="", max_length=128)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()
    completed_at: Optional[datetime] = _ts(default=None)
    completed_by: Optional[str] = Field(default=None, max_length=128)
    escalated_at: Optional[datetime] = _ts(default=None)
    idem_key: Optional[str] = Field(default=None, max_length=200, unique=True)
    card_key: Optional[str] = Field(default=None, max_length=200)  # outbox key of the group card
    feishu_guid: Optional[str] = Field(default=None, max_length=64)
    feishu_url: Optional[str] = Field(default=None, max_length=300)


class TaskOwner(SQLModel, table=True):
    __tablename__ = "task_owners"
    __table_args__ = (UniqueConstraint("task_id", "open_id"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    task_id: int = Field(index=True)
    open_id: str = Field(max_length=128, index=True)


class TaskLog(SQLModel, table=True):
    """What happened to a task: created, started, done, reopened, reassigned, extended,
    handover, comment, cancelled, reminded, escalated. ``data`` holds before/after values."""

    __tablename__ = "task_log"

    id: Optional[int] = Field(default=None, primary_key=True)
    task_id: int = Field(index=True)
    kind: str = Field(max_length=16)
    by: str = Field(default="", max_length=128)
    at: datetime = _ts()
    text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    data: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class TaskSettings(SQLModel, table=True):
    """Per team group: who the ops lead is, after how many overdue days to escalate, and
    whether tasks are mirrored into Feishu Tasks."""

    __tablename__ = "task_settings"

    chat_id: str = Field(primary_key=True, max_length=128)
    ops_lead: Optional[str] = Field(default=None, max_length=128)
    escalate_after_days: int = 2
    mirror: bool = False
    updated_by: str = Field(default="", max_length=128)
    updated_at: datetime = _ts()
