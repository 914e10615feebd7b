"""Tables of stream data: figures per stream, per product and per minute, the import ledger,
KPI targets, daily-briefing subscriptions and their sends, and the data audit log.

Figures are kept as a JSON dict per stream (``values``: canonical field → number, see
bot.data.parse) with where each came from (``sources``: field → "import:<file>" | "manual"),
so a newer export with extra columns needs no migration. The per-minute trend is a real table
(100,000 rows must stay cheap).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import JSON, BigInteger, Column, Float, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.store.types import UTCDateTime


def _ts(**kw: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kw)


class StreamFigures(SQLModel, table=True):
    __tablename__ = "stream_figures"

    id: Optional[int] = Field(default=None, primary_key=True)
    stream_id: int = Field(unique=True)
    values: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    sources: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_by: str = Field(default="", max_length=128)
    updated_at: datetime = _ts()


class ProductFigures(SQLModel, table=True):
    __tablename__ = "stream_products"
    __table_args__ = (UniqueConstraint("stream_id", "product_key"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    stream_id: int = Field(index=True)
    product_key: str = Field(max_length=128)  # 商品编号, else the name
    name: str = Field(default="", max_length=300)
    values: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class TrendPoint(SQLModel, table=True):
    """One minute of a stream (Compass per-minute trend)."""

    __tablename__ = "stream_trend"
    __table_args__ = (UniqueConstraint("stream_id", "minute"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    stream_id: int
    minute: datetime = _ts()
    online: Optional[int] = None
    entering: Optional[int] = None
    leaving: Optional[int] = None
    gmv: Optional[float] = Field(default=None, sa_column=Column(Float))
    orders: Optional[int] = None
    new_fans: Optional[int] = None


class DataImport(SQLModel, table=True):
    """One imported table (or summary row) of one file for one stream. The same file for the
    same stream is taken once while its import is in effect; ``before`` is what the import
    overwrote, so it can be undone (``state`` "undone") or replaced by a later file of the same
    kind for the same stream (``state`` "replaced"), see bot.data.ledger."""

    __tablename__ = "data_imports"
    __table_args__ = (UniqueConstraint("digest", "stream_id", "kind"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    digest: str = Field(max_length=64)
    stream_id: int = Field(index=True)
    kind: str = Field(max_length=16)  # summary | products | trend | manual
    file_name: str = Field(default="", max_length=300)
    rows: int = 0
    rejected: int = 0
    chat_id: str = Field(default="", max_length=128)
    by: str = Field(default="", max_length=128)
    at: datetime = _ts()
    state: str = Field(default="active", max_length=12)  # active | undone | replaced
    before: Optional[dict] = Field(default=None, sa_column=Column(JSON, nullable=True))
    undone_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime, nullable=True)
    undone_by: str = Field(default="", max_length=128)


class KpiTarget(SQLModel, table=True):
    """A target: scope "team", "room:<id>" or "streamer:<open_id>"; the most specific wins."""

    __tablename__ = "kpi_targets"
    __table_args__ = (UniqueConstraint("scope", "metric"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    scope: str = Field(max_length=160)
    metric: str = Field(max_length=32)
    value: float = Field(sa_column=Column(Float, nullable=False))
    updated_by: str = Field(default="", max_length=128)
    updated_at: datetime = _ts()


class BriefingSubscription(SQLModel, table=True):
    """A group that gets the daily briefing at ``at`` (local HH:MM); ``slot`` spreads the
    groups of one time over the seconds after it (see bot.briefing.fanout)."""

    __tablename__ = "briefing_subscriptions"

    id: Optional[int] = Field(default=None, primary_key=True)
    chat_id: str = Field(max_length=128, unique=True)
    at: str = Field(default="09:30", max_length=5)
    holidays: str = Field(default="keep", max_length=8)  # keep | skip
    weekly: bool = True
    monthly: bool = True
    slot: int = 0
    active: bool = True
    created_by: str = Field(default="", max_length=128)
    created_at: datetime = _ts()


class BriefingSend(SQLModel, table=True):
    """One briefing sent to one group for one day: never two copies."""

    __tablename__ = "briefing_sends"
    __table_args__ = (UniqueConstraint("chat_id", "day", "kind"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    chat_id: str = Field(max_length=128)
    day: str = Field(max_length=10)  # local date, 2026-11-27
    kind: str = Field(max_length=8)  # daily | weekly | monthly
    at: datetime = _ts()


class DataAudit(SQLModel, table=True):
    """Who saw or exported which data, when and where."""

    __tablename__ = "data_audit"
    __table_args__ = (Index("ix_data_audit_at", "at"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    at: datetime = _ts()
    user_id: str = Field(default="", max_length=128)
    chat_id: str = Field(default="", max_length=128)
    action: str = Field(max_length=32)  # export | import | manual | target | internal
    what: str = Field(default="", max_length=300)
    detail: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    rows: Optional[int] = Field(default=None, sa_type=BigInteger)
