"""Tables of fault response: tickets (#id), their timeline, on-call rotations and overrides.

Rooms and streams are referred to by id only (no foreign keys: the schedule tables live in
another migration branch). Times are aware UTC.
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Optional

from sqlalchemy import JSON, Column, Index, Text
from sqlmodel import Field, SQLModel

from bot.store.types import UTCDateTime

class FaultStatus(StrEnum):
    OPEN = "open"
    ACKED = "acked"
    RESOLVED = "resolved"


class Mode(StrEnum):
    """Where the response happens: a dedicated group (P0/P1), a thread in the tech group
    (P2/P3), or the reporting group when a group could not be created."""

    GROUP = "group"
    THREAD = "thread"
    FALLBACK = "fallback"


class Step(StrEnum):
    """The escalation ladder's rungs (bot.faults.ladder), stored as a "fault.sla" timer's step."""

    ACK2 = "ack2"        # office hours, T + ack/2: buzz again, pull in the backup
    LEAD = "lead"        # off hours, T + ack/2 instead of ack2: the ops leads at once
    BREACH = "breach"    # T + ack target, unacked: the SLA is breached
    NUDGE = "nudge"      # acked, not resolved: a nudge every few minutes
    RESOLVE = "resolve"  # T + resolve target, not resolved: the resolve breach
    ESCALATE = "escalate"  # someone's /故障 升级: one level up, the leads pulled in now (no timer)


OPEN, ACKED, RESOLVED = FaultStatus.OPEN, FaultStatus.ACKED, FaultStatus.RESOLVED
ACTIVE_STATES = (OPEN, ACKED)
GROUP, THREAD, FALLBACK = Mode.GROUP, Mode.THREAD, Mode.FALLBACK


def _ts(**kw: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kw)


class Fault(SQLModel, table=True):
    """One fault ticket, shown as #id."""

    __tablename__ = "faults"
    __table_args__ = (Index("ix_faults_status_created", "status", "created_at"),
                      Index("ix_faults_room_cat", "room_id", "category", "created_at"))

    id: Optional[int] = Field(default=None, primary_key=True)
    status: str = Field(default=OPEN, max_length=16)
    category: str = Field(max_length=32)
    severity: str = Field(max_length=4)
    base_severity: str = Field(default="", max_length=4)  # before the live-room raise
    room_id: Optional[int] = None
    room_name: str = Field(default="", max_length=64)
    stream_id: Optional[int] = None
    live: str = Field(default="", max_length=16)  # live | soon | "" (not live)
    text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    reasons: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    confidence: float = 0.0
    locale: str = Field(default="zh_CN", max_length=8)
    chat_id: str = Field(max_length=128)  # the reporting group
    report_message_id: str = Field(default="", max_length=128)
    reporter_id: str = Field(max_length=128)
    card_key: str = Field(default="", max_length=200)  # outbox key of the card in the reporting group
    mode: str = Field(default="", max_length=16)  # group | thread | fallback
    group_chat_id: str = Field(default="", max_length=128)  # fault group, or the tech group (thread)
    group_card_key: str = Field(default="", max_length=200)  # the card there (thread root)
    group_name: str = Field(default="", max_length=200)
    oncall_ids: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    backup_ids: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    field_control_id: str = Field(default="", max_length=128)
    lead_ids: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # ops leads
    tech_lead_ids: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    acked_by: str = Field(default="", max_length=128)
    acked_at: Optional[datetime] = _ts(default=None)
    resolved_by: str = Field(default="", max_length=128)
    resolved_at: Optional[datetime] = _ts(default=None)
    cause: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    fix: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    ack_breached: bool = False
    resolve_breached: bool = False
    escalated: bool = False
    buzz_fallback: bool = False  # a buzz was refused: @mention and direct message instead (card says so)
    reports: int = 1  # merged duplicate reports count here
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class FaultEvent(SQLModel, table=True):
    """The timeline: reported, merged, evidence, buzz, escalated, breach, ack, changed, resolved."""

    __tablename__ = "fault_events"

    id: Optional[int] = Field(default=None, primary_key=True)
    fault_id: int = Field(index=True)
    kind: str = Field(max_length=16)
    by: str = Field(default="", max_length=128)
    at: datetime = _ts()
    text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    data: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class OncallRotation(SQLModel, table=True):
    """A weekly rotation: ``members`` take turns, one week each, counted from ``starts_on``
    (a Monday, local date "YYYY-MM-DD"). ``category`` "" covers every fault category."""

    __tablename__ = "oncall_rotations"

    id: Optional[int] = Field(default=None, primary_key=True)
    category: str = Field(default="", max_length=32, unique=True)
    members: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    starts_on: str = Field(max_length=10)
    period_days: int = 7
    created_by: str = Field(default="", max_length=128)
    created_at: datetime = _ts()


class OncallOverride(SQLModel, table=True):
    """One day covered by someone else: "下周二 小王 替 小李" (``replaces`` may be empty:
    then the on-call of that day is replaced, whoever it is)."""

    __tablename__ = "oncall_overrides"

    id: Optional[int] = Field(default=None, primary_key=True)
    day: str = Field(max_length=10, index=True)  # local date "YYYY-MM-DD"
    category: str = Field(default="", max_length=32)
    open_id: str = Field(max_length=128)
    replaces: str = Field(default="", max_length=128)
    created_by: str = Field(default="", max_length=128)
    created_at: datetime = _ts()
