"""Tables of the core: the inbox, the outbox, chats, people and their roles.

Feature packages add their own tables in their own modules (imported by bot.store.tables).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import JSON, Boolean, Column, Index, SmallInteger, Text, UniqueConstraint, false
from sqlmodel import Field, SQLModel

from bot.store.types import JSONText, UTCDateTime


def _ts(**kw: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kw)


class InboxEvent(SQLModel, table=True):
    """Every accepted event, written before the 200 goes back."""

    __tablename__ = "inbox"
    __table_args__ = (Index("ix_inbox_status_id", "status", "id"),
                      Index("ix_inbox_lane_status_id", "lane", "status", "id"))

    id: Optional[int] = Field(default=None, primary_key=True)
    event_id: str = Field(max_length=128, unique=True)
    message_id: Optional[str] = Field(default=None, max_length=128, unique=True)
    event_type: str = Field(max_length=128)
    lane: str = Field(default="", max_length=128)  # the chat: one chat's events run in order
    source: str = Field(default="webhook", max_length=16)  # webhook | ws
    payload: dict = Field(sa_column=Column(JSONText, nullable=False))
    status: str = Field(default="pending", max_length=16)  # pending | claimed | done | failed
    attempts: int = 0
    received_at: datetime = _ts()
    claimed_by: Optional[str] = Field(default=None, max_length=64)
    claimed_until: Optional[datetime] = _ts(default=None)
    done_at: Optional[datetime] = _ts(default=None)
    error_ref: Optional[str] = Field(default=None, max_length=16)


class InboxLane(SQLModel, table=True):
    """A lane (a chat) with live inbox rows: ``head`` is the id of its first live row, and
    ``held_by``/``held_until`` the worker handling it. Workers pick lanes, not rows, so a busy
    chat's backlog is never walked by workers that cannot take it (bot.store.inbox). A row
    exists only while its lane has live rows."""

    __tablename__ = "inbox_lanes"
    __table_args__ = (Index("ix_inbox_lanes_head", "head"),)

    lane: str = Field(primary_key=True, max_length=128)
    head: Optional[int] = None
    held_by: Optional[str] = Field(default=None, max_length=64)
    held_until: Optional[datetime] = _ts(default=None)


class OutboxMessage(SQLModel, table=True):
    """One outgoing Open API call, sent at most once thanks to its idempotency key.

    ``lane`` orders rows: only the oldest unfinished row of a lane is sent, so messages to
    one chat arrive in the order they were written. ``priority`` (bot.outbox: 0 page … 3 bulk)
    says which lane's head goes first. ``reported``: a failed row is in an admins' digest.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_lane_id", "status", "lane", "id"),
                      Index("ix_outbox_status_next", "status", "next_attempt_at"),
                      Index("ix_outbox_status_priority_id", "status", "priority", "id"))

    id: Optional[int] = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)
    op: str = Field(max_length=32)
    lane: str = Field(max_length=128)
    target: str = Field(default="", max_length=250)  # chat/message id, or "@key" of another row
    payload: dict = Field(sa_column=Column(JSON, nullable=False))
    callback: Optional[str] = Field(default=None, max_length=64)
    status: str = Field(default="pending", max_length=16)  # pending | sending | sent | failed
    attempts: int = 0
    created_at: datetime = _ts()
    next_attempt_at: datetime = _ts()
    claimed_by: Optional[str] = Field(default=None, max_length=64)
    claimed_until: Optional[datetime] = _ts(default=None)
    sent_at: Optional[datetime] = _ts(default=None)
    result: Optional[dict] = Field(default=None, sa_column=Column(JSON))
    error_code: Optional[int] = None
    last_error: Optional[str] = Field(default=None, sa_column=Column(Text))
    priority: int = Field(default=2, sa_column=Column(SmallInteger, nullable=False, server_default="2"))
    reported: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=false()))


class Chat(SQLModel, table=True):
    """A chat the bot has seen, with its settings."""

    __tablename__ = "chats"

    chat_id: str = Field(primary_key=True, max_length=128)
    name: str = Field(default="", max_length=200)
    chat_type: str = Field(default="group", max_length=16)
    locale: Optional[str] = Field(default=None, max_length=8)
    kind: str = Field(default="", max_length=32)  # team | tech | fault | field ... (set by features)
    internal: bool = False
    first_seen: datetime = _ts()


class Person(SQLModel, table=True):
    """Someone the bot has seen; the name is refreshed from events and the contact API."""

    __tablename__ = "people"

    open_id: str = Field(primary_key=True, max_length=128)
    name: str = Field(default="", max_length=100)
    locale: Optional[str] = Field(default=None, max_length=8)
    first_seen: datetime = _ts()


class RoleGrant(SQLModel, table=True):
    __tablename__ = "role_grants"
    __table_args__ = (UniqueConstraint("open_id", "role"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    open_id: str = Field(max_length=128, index=True)
    role: str = Field(max_length=16)
    granted_by: str = Field(max_length=128)
    granted_at: datetime = _ts()
