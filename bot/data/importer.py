"""Importing a Compass-style export (summary, product table, per-minute trend) into a stream.

    outcome = await import_file(session, data, "1号间 11-20.xlsx", stream_id=None, chat_id=..., by=..., now=..., tz=...)

The stream is, in order: the one named ("#12" in the file name or the message), the one a
summary row names (room + start time), the one a trend's minutes fall in, the only stream of
this chat that ended in the last 12 hours; otherwise ``outcome.choices`` lists candidates to
ask about. The same file for the same stream is taken once (content hash in the ledger).
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.data import parse, store
from bot.i18n import t
from bot.schedule import service as schedule
from bot.schedule.models import CANCELLED, Room, Stream

STREAM_TAG = re.compile(r"[#＃]\s*(\d{1,9})(?!\d)")
NOT_VALUES = {"date", "start", "end", "room", "title"}
RECENT = timedelta(hours=12)
JUST = timedelta(minutes=30)  # the other files of one export usually follow within minutes
MATCH_SLACK = timedelta(hours=3)


@dataclass
class Outcome:
    stream: Stream | None = None
    parts: list[str] = field(default_factory=list)  # "汇总表 1 行", "商品表 12 行" ...
    ignored: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    unchanged: bool = False
    choices: list[Stream] = field(default_factory=list)  # ask which stream
    replaced: list[str] = field(default_factory=list)  # figures that had other values before
    streams: set[int] = field(default_factory=set)


DATA_EXTENSIONS = (".csv", ".xlsx", ".xlsm", ".tsv")


def is_data_file(file_name: str) -> bool:
    return file_name.lower().endswith(DATA_EXTENSIONS)


def looks_like_export(data: bytes, file_name: str) -> bool:
    """A cheap sniff: any date will do for a trend with bare times."""
    try:
        return bool(useful(parse.read_tables(data, file_name, default_date=date(2000, 1, 1))))
    except parse.ParseError:
        return False


METRIC_FIELDS = frozenset({"gmv", "uv", "pv", "buyers", "orders", "items", "new_fans", "online", "entering",
                           "exposure_uv", "click_uv", "click_deal_rate", "peak_online", "avg_dwell"})


def useful(tables: list[parse.Table]) -> list[parse.Table]:
    """Tables with at least one figure column: a plain product list (商品, 价格) is not data."""
    return [tb for tb in tables if METRIC_FIELDS & set(tb.columns)]


def tagged_stream(text: str) -> int | None:
    found = STREAM_TAG.search(text or "")
    return int(found.group(1)) if found else None


def _local(value: datetime, tz: ZoneInfo) -> datetime:
    return value.replace(tzinfo=tz) if value.tzinfo is None else value


async def candidates(session: AsyncSession, chat_id: str, now: datetime) -> list[Stream]:
    """Streams that started in the last two days, this chat's first, latest first."""
    rows = list((await session.execute(
        select(Stream).outerjoin(Room, Room.id == Stream.room_id)
        .where(Stream.starts_at >= now - timedelta(days=2), Stream.starts_at <= now, Stream.status != CANCELLED)
        .where(or_(Stream.chat_id == chat_id, Room.field_chat_id == chat_id))
        .order_by(Stream.starts_at.desc()))).scalars())
    if rows:
        return rows
    return list((await session.execute(
        select(Stream).where(Stream.starts_at >= now - timedelta(days=2), Stream.starts_at <= now,
                             Stream.status != CANCELLED).order_by(Stream.starts_at.desc()))).scalars())


async def just_imported(session: AsyncSession, chat_id: str, now: datetime) -> Stream | None:
    """The stream that received an import in this chat in the last 30 minutes, if any."""
    from bot.data.models import DataImport

    sid = (await session.execute(select(DataImport.stream_id).where(
        DataImport.chat_id == chat_id, DataImport.at >= now - JUST).order_by(DataImport.id.desc()).limit(1))).scalar()
    return await schedule.stream_by_id(session, sid) if sid is not None else None


async def _by_time(session: AsyncSession, at: datetime, room: str | None) -> Stream | None:
    query = select(Stream).where(Stream.starts_at >= at - MATCH_SLACK, Stream.starts_at <= at + MATCH_SLACK,
                                 Stream.status != CANCELLED)
    if room:
        found = await schedule.room_by_name(session, room)
        if found is None:
            return None
        query = query.where(Stream.room_id == found.id)
    rows = list((await session.execute(query)).scalars())
    rows.sort(key=lambda s: abs((s.starts_at - at).total_seconds()))
    if len(rows) == 1 or (rows and room):
        return rows[0]
    return None


async def match(session: AsyncSession, table: parse.Table, tz: ZoneInfo) -> Stream | None:
    if table.kind == parse.SUMMARY and len(table.rows) == 1:
        row = table.rows[0]
        start = row.get("start")
        if isinstance(start, datetime):
            return await _by_time(session, _local(start, tz), row.get("room"))
    if table.kind == parse.TREND:
        minutes = [r["minute"] for r in table.rows if isinstance(r.get("minute"), datetime)]
        if minutes:
            first, last = _local(min(minutes), tz), _local(max(minutes), tz)
            rows = list((await session.execute(select(Stream).where(
                Stream.starts_at <= last, Stream.ends_at >= first, Stream.status != CANCELLED))).scalars())
            if len(rows) == 1:
                return rows[0]
    return None


def _label(kind: str, locale: str) -> str:
    return t(locale, f"data.kind.{kind}")


def _rejected(table: parse.Table, locale: str) -> list[str]:
    where = f"{table.sheet}!" if table.sheet else ""
    return [t(locale, "data.reject_line", where=where, row=r.row, why=r.en if locale == "en_US" else r.zh,
              label=t(locale, "data.reject_label", label=r.label) if r.label else "")
            for r in table.rejected]


async def apply(session: AsyncSession, table: parse.Table, stream: Stream, *, digest: str, file_name: str,
                chat_id: str, by: str, now: datetime, tz: ZoneInfo) -> tuple[bool, list[str]]:
    """Store one table for one stream: (False, []) when this file was already taken for it,
    else (True, the summary figures whose earlier values it replaced)."""
    if await store.imported(session, digest, stream.id, table.kind):
        return False, []
    replaced: list[str] = []
    source = f"import:{file_name[:60]}"
    rows = table.rows
    if table.kind == parse.SUMMARY:
        values: dict[str, Any] = {}
        for row in rows[:1]:
            values = {k: v for k, v in row.items() if k not in NOT_VALUES and isinstance(v, (int, float))}
        changed = await store.save_values(session, stream.id, values, source=source, by=by, now=now)
        replaced = [k for k, (before, _) in changed.items() if before is not None]
    elif table.kind == parse.PRODUCTS:
        await store.save_products(session, stream.id, rows)
    else:
        points = [{**r, "minute": _local(r["minute"], tz).astimezone(ZoneInfo("UTC"))}
                  for r in rows if isinstance(r.get("minute"), datetime)]
        await store.save_trend(session, stream.id, points)
        online = [p["online"] for p in points if p.get("online") is not None]
        current = await store.values_of(session, stream.id)
        derived = {}
        if online and current.get("peak_online") is None:
            derived["peak_online"] = max(online)
        if derived:
            await store.save_values(session, stream.id, derived, source=source, by=by, now=now)
    await store.record_import(session, digest=digest, stream_id=stream.id, kind=table.kind, file_name=file_name[:300],
                              rows=len(rows), rejected=len(table.rejected), chat_id=chat_id, by=by, at=now)
    return True, replaced


async def import_file(session: AsyncSession, data: bytes, file_name: str, *, stream_id: int | None, chat_id: str,
                      by: str, now: datetime, tz: ZoneInfo, locale: str) -> Outcome:
    """Read and store; raises parse.ParseError (bilingual) or UserError for a stream that
    does not exist. Nothing is stored when the stream has to be asked about."""
    from bot.errors import UserError
    from bot.norms import checkpoints

    stream_id = stream_id or tagged_stream(file_name)
    explicit = None
    if stream_id is not None:
        explicit = await schedule.stream_by_id(session, stream_id)
        if explicit is None or explicit.status == CANCELLED:
            raise UserError("data.stream_unknown", id=stream_id)
    day = explicit.starts_at.astimezone(tz).date() if explicit else now.astimezone(tz).date()
    tables = useful(parse.read_tables(data, file_name, default_date=day))
    if not tables:
        raise parse.ParseError("文件里没有可识别的直播数据列（如 成交金额、观看人数、在线人数）",
                               "No stream figures found in the file (e.g. GMV, viewers, online)")
    out = Outcome(stream=explicit)
    assigned: list[tuple[parse.Table, Stream]] = []
    unplaced: list[parse.Table] = []
    for table in tables:
        stream = explicit or await match(session, table, tz)
        if stream is None:
            unplaced.append(table)
        else:
            assigned.append((table, stream))
    if unplaced:
        others = {s.id for _, s in assigned}
        if len(others) == 1:
            only = assigned[0][1]
            assigned += [(tb, only) for tb in unplaced]
        else:
            just = await just_imported(session, chat_id, now)
            found = await candidates(session, chat_id, now)
            recent = [s for s in found if s.ends_at >= now - RECENT]
            if just is not None or len(found) == 1 or len(recent) == 1:
                pick = just or (found[0] if len(found) == 1 else recent[0])
                if pick.starts_at.astimezone(tz).date() != day:  # time-only trend rows need the stream's date
                    return await import_file(session, data, file_name, stream_id=pick.id, chat_id=chat_id, by=by,
                                             now=now, tz=tz, locale=locale)
                assigned += [(tb, pick) for tb in unplaced]
            else:
                out.choices = found[:5]
                return out
    digest = hashlib.sha256(data).hexdigest()
    taken = 0
    for table, stream in assigned:
        out.stream = out.stream or stream
        out.streams.add(stream.id)
        out.ignored += [c for c in table.ignored if c not in out.ignored]
        out.rejected += _rejected(table, locale)
        fresh, replaced = await apply(session, table, stream, digest=digest, file_name=file_name, chat_id=chat_id,
                                      by=by, now=now, tz=tz)
        out.replaced += replaced
        taken += fresh
        out.parts.append(t(locale, "data.import_part", kind=_label(table.kind, locale), n=len(table.rows),
                           sheet=f"（{table.sheet}）" if table.sheet and len(tables) > 1 else ""))
        if fresh and table.kind == parse.SUMMARY:
            await checkpoints.mark_done(session, stream.id, "export", by=by, at=now)  # the T+1h export norm
    out.unchanged = taken == 0
    if taken:
        await store.audit(session, action="import", now=now, user_id=by, chat_id=chat_id, what=file_name,
                          detail={"streams": sorted(out.streams), "tables": [tb.kind for tb, _ in assigned]},
                          rows=sum(len(tb.rows) for tb, _ in assigned))
    return out
