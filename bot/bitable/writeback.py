"""Optional write-back into the team's Bitable: each stream's status and key figures, into the
columns the team names (``/排期 多维表格 写回 状态=直播状态 场观=场观人数``).

Status is written as 待确认 / 已确认 / 直播中 / 已结束 / 已取消; figures are the stream's KPIs
after a data import (bot.data: 场观, 涨粉, 转化率 …). Sales figures (GMV and what reveals it,
bot.data.visibility: one decision for every card and file) are written only when the team group
is marked internal (``/数据 内部群 开``): a Bitable is read by everyone it is shared with.
Only cells that differ from what the table says are written (更新记录, outbox ``update_record``,
one row per record and value set, so a retry writes the same thing once).
"""
from __future__ import annotations

import hashlib
import json
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import outbox
from bot.bitable import read
from bot.bitable.models import BitableBinding, BitableRow
from bot.bitable.read import Table
from bot.data import kpi, store, visibility
from bot.errors import UserError
from bot.i18n import t
from bot.schedule import service
from bot.schedule.models import CANCELLED, CONFIRMED, ENDED, LIVE, PENDING

STATUS = "status"
STATUS_WORDS = {"状态", "直播状态", "status"}
STATUS_TEXT = {PENDING: "待确认", CONFIRMED: "已确认", LIVE: "直播中", ENDED: "已结束", CANCELLED: "已取消"}


def metric_of(word: str) -> str | None:
    key = word.strip().lower()
    if key in STATUS_WORDS:
        return STATUS
    return kpi.ALIASES.get(key) or (key if key in kpi.METRICS else None)


async def parse_pairs(session: AsyncSession, chat_id: str, text: str) -> dict[str, str]:
    """"状态=直播状态 场观=场观人数" → {"status": "直播状态", "uv": "场观人数"}; UserError on a word
    that is no figure, or a sales figure while the team group is not internal."""
    out: dict[str, str] = {}
    for pair in text.split():
        if "=" not in pair and "＝" not in pair:
            raise UserError("bt.wb_bad_pair", pair=pair[:30])
        word, column = pair.replace("＝", "=").split("=", 1)
        metric = metric_of(word)
        if metric is None or not column.strip():
            raise UserError("bt.wb_bad_pair", pair=pair[:30])
        if metric in kpi.SALES and await visibility.sales_hidden(session, chat_id):
            raise UserError("bt.wb_sales_hidden", word=word[:20])
        out[metric] = column.strip()[:100]
    if not out:
        raise UserError("bt.wb_empty")
    return out


def _value(metric: str, kind: int, status: str, figures: dict[str, kpi.Figure]) -> Any:
    if metric == STATUS:
        return STATUS_TEXT.get(status, "")
    fig = figures.get(metric)
    if fig is None or fig.value is None:
        return None
    value = round(fig.value, 4) if fig.kind in (kpi.RATE, kpi.RATIO) else round(fig.value, 2)
    return value if kind == read.NUMBER else str(value)


async def plan(session: AsyncSession, binding: BitableBinding, table: Table, tz: str) -> int:
    """Queue the cells that differ; returns how many records get a write."""
    if not binding.writeback:
        return 0
    sales_ok = not await visibility.sales_hidden(session, binding.chat_id)
    zone = ZoneInfo(tz)
    links = (await session.execute(select(BitableRow).where(BitableRow.binding_id == binding.id,
                                                            BitableRow.stream_id.is_not(None)))).scalars().all()
    written = 0
    for link in links:
        current = table.raw.get(link.record_id)
        stream = await service.stream_by_id(session, link.stream_id or 0)
        if current is None or stream is None:
            continue
        values = await store.values_of(session, stream.id)
        figures = kpi.figures(values, {}) if values else {}
        fields: dict[str, Any] = {}
        for metric, column in binding.writeback.items():
            if column not in table.types or (metric in kpi.SALES and not sales_ok):
                continue
            kind = table.types[column]
            want = _value(metric, kind, stream.status, figures)
            if want is None or want == "":
                continue
            if read.text_of(current.get(column), kind, zone) != read.text_of(want, kind, zone):
                fields[column] = want
        if not fields:
            continue
        digest = hashlib.sha256(json.dumps(fields, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]
        await outbox.to(session).update_record(f"bt-wb:{binding.id}:{link.record_id}:{digest}", link.record_id,
                                               fields, app_token=binding.app_token, table_id=binding.table_id,
                                               lane=f"bitable:{binding.id}")
        written += 1
    return written


def describe(binding: BitableBinding, locale: str) -> str:
    if not binding.writeback:
        return t(locale, "bt.wb_none")
    return "、".join(f"{t(locale, 'bt.wb_status') if m == STATUS else m} → {c}" for m, c in binding.writeback.items())
