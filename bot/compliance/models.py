"""Tables of the compliance feature: check records, a team's own terms and exemptions, and
an audit log of what was done with the records.

A "team" is one bot installation for now (``DEFAULT_TEAM``); every row carries the column so
teams can be split later without a data migration.

Records are kept for ``retention_until`` (the 2026-02-01 live e-commerce rules require at
least 3 years); ``service.purge_expired`` deletes what is past it.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.store.types import UTCDateTime

DEFAULT_TEAM = "default"


def _ts(**kw: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kw)


class ComplianceRecord(SQLModel, table=True):
    """One check of one script: what was checked, by whom, where, and what was found."""

    __tablename__ = "compliance_records"
    __table_args__ = (Index("ix_compliance_records_team_chat_id", "team", "chat_id", "id"),
                      Index("ix_compliance_records_team_created", "team", "created_at"))

    id: Optional[int] = Field(default=None, primary_key=True)
    team: str = Field(default=DEFAULT_TEAM, max_length=64)
    chat_id: str = Field(max_length=128)
    user_id: str = Field(max_length=128)
    created_at: datetime = _ts()
    source: str = Field(max_length=16)  # text | reply | file
    file_name: Optional[str] = Field(default=None, max_length=255)
    source_message_id: Optional[str] = Field(default=None, max_length=128)  # the message checked
    text: str = Field(sa_column=Column(Text, nullable=False))
    verdict: str = Field(max_length=16)  # pass | warn | block
    block_count: int = 0
    warn_count: int = 0
    total_count: int = 0
    hits: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    exempted: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    line_labels: Optional[list] = Field(default=None, sa_column=Column(JSON))  # files only
    previous_id: Optional[int] = Field(default=None, index=True)  # the record this re-checks
    card_key: Optional[str] = Field(default=None, max_length=200)  # outbox key of the answer card
    stream_id: Optional[int] = Field(default=None, index=True)  # linked by the schedule work
    status: str = Field(default="checked", max_length=16)  # checked | overridden
    overridden_by: Optional[str] = Field(default=None, max_length=128)
    overridden_at: Optional[datetime] = _ts(default=None)
    override_reason: Optional[str] = Field(default=None, max_length=500)
    retention_until: datetime = _ts(index=True)


class ComplianceTerm(SQLModel, table=True):
    """A team's own risky term, added to the project's list for every later check."""

    __tablename__ = "compliance_team_terms"
    __table_args__ = (UniqueConstraint("team", "term"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    team: str = Field(default=DEFAULT_TEAM, max_length=64)
    term: str = Field(max_length=100)
    category: str = Field(max_length=32)
    severity: str = Field(max_length=8)  # block | warn
    reason: str = Field(default="", max_length=500)
    created_by: str = Field(max_length=128)
    created_at: datetime = _ts()


class ComplianceExemption(SQLModel, table=True):
    """A team-declared phrase (product name, trademark ...) whose wording is not reported."""

    __tablename__ = "compliance_exemptions"
    __table_args__ = (UniqueConstraint("team", "phrase"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    team: str = Field(default=DEFAULT_TEAM, max_length=64)
    phrase: str = Field(max_length=100)
    kind: str = Field(max_length=16)  # 商品名 | 商标 | 品牌内比较 | 用法提示 | 其他
    created_by: str = Field(max_length=128)
    created_at: datetime = _ts()


class ComplianceAudit(SQLModel, table=True):
    """Who did what with the records (exports, overrides, term/exemption changes, purges)."""

    __tablename__ = "compliance_audit"

    id: Optional[int] = Field(default=None, primary_key=True)
    team: str = Field(default=DEFAULT_TEAM, max_length=64)
    at: datetime = _ts(index=True)
    user_id: str = Field(default="", max_length=128)  # "" for the bot itself (purges)
    chat_id: str = Field(default="", max_length=128)
    action: str = Field(max_length=32)  # export | override | term.add | term.delete | exempt.add ...
    record_id: Optional[int] = None
    detail: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    retention_until: datetime = _ts(index=True)
