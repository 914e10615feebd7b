"""Tables of the remaining work norms (issue 19).

* ``comment_alerts``: a negative comment or brewing controversy during a stream (/舆情),
  to be answered positively within 3 minutes; timers ``sentiment:{id}`` (kind ``norms.sentiment``).
* ``task_plans``: the plan an ad-hoc task's owner gives within 30 minutes (plan text and an
  expected finish); timers ``adhoc:{task_id}`` (kind ``norms.adhoc``).
* ``emergencies``: an off-hours emergency (a streamer no-show, a platform violation warning)
  handled within 1 hour, with its outcome; timers ``emergency:{id}`` (kind ``norms.emergency``).
* ``departures``: someone leaving (/人员 离职) and the hand-over checklist due 3 working days
  later; timers ``departure:{id}`` (kind ``norms.departure``).
* ``newbie_plans``: a newbie streamer's growth plan (/人员 新人): its dated tasks are ordinary
  tasks (source ``newbie``), listed in ``task_ids``.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import JSON, Column, Text
from sqlmodel import Field, SQLModel

from bot.store.types import UTCDateTime

OPEN, HANDLED, RESOLVED, DONE, CANCELLED = "open", "handled", "resolved", "done", "cancelled"


def _ts(**kw: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kw)


class CommentAlert(SQLModel, table=True):
    __tablename__ = "comment_alerts"

    id: Optional[int] = Field(default=None, primary_key=True)
    chat_id: str = Field(default="", max_length=128, index=True)
    stream_id: Optional[int] = None
    room_name: str = Field(default="", max_length=64)
    text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    reported_by: str = Field(default="", max_length=128)
    owner_id: str = Field(default="", max_length=128)  # who answers: the stream's 场控, else the reporter
    created_at: datetime = _ts()
    due_at: datetime = _ts()
    status: str = Field(default=OPEN, max_length=16)  # open | handled
    handled_by: Optional[str] = Field(default=None, max_length=128)
    handled_at: Optional[datetime] = _ts(default=None)
    escalated_at: Optional[datetime] = _ts(default=None)
    lead_ids: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    card_key: str = Field(default="", max_length=200)
    idem_key: Optional[str] = Field(default=None, max_length=200, unique=True)


class TaskPlan(SQLModel, table=True):
    __tablename__ = "task_plans"

    id: Optional[int] = Field(default=None, primary_key=True)
    task_id: int = Field(unique=True)
    chat_id: str = Field(default="", max_length=128)
    asked_at: datetime = _ts()
    due_at: datetime = _ts()  # the plan is due (asked_at + adhoc.plan minutes)
    plan: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    finish_at: Optional[datetime] = _ts(default=None)  # the owner's expected finish
    submitted_by: Optional[str] = Field(default=None, max_length=128)
    submitted_at: Optional[datetime] = _ts(default=None)
    reminded_at: Optional[datetime] = _ts(default=None)
    escalated_at: Optional[datetime] = _ts(default=None)


class Emergency(SQLModel, table=True):
    __tablename__ = "emergencies"

    id: Optional[int] = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # noshow | violation
    chat_id: str = Field(default="", max_length=128, index=True)
    stream_id: Optional[int] = None
    fault_id: Optional[int] = None
    room_name: str = Field(default="", max_length=64)
    text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    reported_by: str = Field(default="", max_length=128)
    oncall_ids: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    people: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # the stream's people
    started_at: datetime = _ts()
    due_at: datetime = _ts()
    status: str = Field(default=OPEN, max_length=16)  # open | resolved
    outcome: str = Field(default="", max_length=16)  # rescue | replace | arrived | fixed
    note: str = Field(default="", max_length=500)
    resolved_by: Optional[str] = Field(default=None, max_length=128)
    resolved_at: Optional[datetime] = _ts(default=None)
    escalated_at: Optional[datetime] = _ts(default=None)
    lead_ids: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    card_key: str = Field(default="", max_length=200)
    idem_key: Optional[str] = Field(default=None, max_length=200, unique=True)


class Departure(SQLModel, table=True):
    __tablename__ = "departures"

    id: Optional[int] = Field(default=None, primary_key=True)
    open_id: str = Field(max_length=128, index=True)
    name: str = Field(default="", max_length=100)
    chat_id: str = Field(default="", max_length=128)
    leave_on: str = Field(max_length=10)  # YYYY-MM-DD, local
    due_at: datetime = _ts()  # hand-over due: 3 working days after leave_on, 18:00
    checklist: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # [{item, done, by, at}]
    status: str = Field(default=OPEN, max_length=16)  # open | done | cancelled
    created_by: str = Field(default="", max_length=128)
    created_at: datetime = _ts()
    done_at: Optional[datetime] = _ts(default=None)
    escalated_at: Optional[datetime] = _ts(default=None)
    card_key: str = Field(default="", max_length=200)


class NewbiePlan(SQLModel, table=True):
    __tablename__ = "newbie_plans"

    id: Optional[int] = Field(default=None, primary_key=True)
    open_id: str = Field(max_length=128, index=True)
    chat_id: str = Field(default="", max_length=128)
    starts_on: str = Field(max_length=10)
    ends_on: str = Field(max_length=10)
    task_ids: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_by: str = Field(default="", max_length=128)
    created_at: datetime = _ts()
