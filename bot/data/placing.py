"""Which stream each part of an imported file belongs to, and what the file says about it.

A file is cut into parts: every row of a room summary is a part (an export may list several
sessions), a product table or a per-minute trend is one part. Each part carries the evidence
the file gives about its stream (``Evidence``): the room or account alias (a summary's 直播间 /
账号 column, else a room named in the file name or title), the date (a date column, full
date-times, the title, the file name) and the time (a summary's 开播时间, a trend's minutes).

``consistent(stream, evidence)`` is the one rule: a part is never placed on a stream its room,
date or time contradicts. Times without a date are compared as times of day on the stream's
own date (and then moved onto that date when stored).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.data import parse
from bot.schedule import service as schedule
from bot.schedule.models import CANCELLED, Room, Stream

ASSUMED = date(2000, 1, 3)   # the date parse gives bare times when the file has none (a Monday)
EARLY = timedelta(hours=2)   # an export's start may be this much before the scheduled start
LATE_END = timedelta(hours=2)  # a trend may run this much past the scheduled end
RECENT = timedelta(hours=12)
JUST = timedelta(minutes=30)  # the other files of one export usually follow within minutes


@dataclass
class Evidence:
    room_text: str | None = None     # as written ("1号直播间", an account alias)
    room: Room | None = None         # the room it names, when exactly one
    day: date | None = None          # the local date the file gives
    start: datetime | None = None    # local, naive: a summary row's start
    first: datetime | None = None    # local, naive: a trend's first and last minute
    last: datetime | None = None
    time_only: bool = False          # start/first/last are times of day on ASSUMED (no date in the file)

    def describe(self) -> str:
        bits = [self.room.name if self.room else self.room_text or ""]
        when = self.start or self.first
        if when is not None and not self.time_only:
            bits.append(f"{when:%m-%d %H:%M}")
        elif self.day is not None:
            bits.append(f"{self.day:%m-%d}")
        elif when is not None:
            bits.append(f"{when:%H:%M}")
        return " ".join(b for b in bits if b)


@dataclass
class Part:
    index: str                    # "2" (table 2) or "0:5" (table 0, row 5): what a button names
    table: parse.Table
    rows: list[dict[str, Any]]
    evidence: Evidence
    row: int | None = None        # the row as a person sees it, for a summary row
    label: str = ""               # "汇总表 1 行", "汇总表 第 3 行（2号直播间 11-26 14:00）"
    candidates: list[Stream] = field(default_factory=list)


def _local(value: datetime, tz: ZoneInfo) -> datetime:
    return value.astimezone(tz).replace(tzinfo=None)


def window(stream: Stream, tz: ZoneInfo) -> tuple[datetime, datetime]:
    return _local(stream.starts_at, tz), _local(stream.ends_at, tz)


def moved(when: datetime, onto: date) -> datetime:
    """A time parsed on ASSUMED (plus any midnight roll-over) moved onto ``onto``."""
    return datetime.combine(onto, time(0)) + (when - datetime.combine(ASSUMED, time(0)))


def rebased(ev: Evidence, stream: Stream, tz: ZoneInfo) -> Evidence:
    if not ev.time_only:
        return ev
    day = window(stream, tz)[0].date()
    return Evidence(ev.room_text, ev.room, day, moved(ev.start, day) if ev.start else None,
                    moved(ev.first, day) if ev.first else None, moved(ev.last, day) if ev.last else None)


def why_not(stream: Stream, ev: Evidence, tz: ZoneInfo) -> str | None:
    """None when ``stream`` may hold a part with this evidence, else what contradicts it:
    "room", "date" or "time"."""
    if ev.room is not None and stream.room_id != ev.room.id:
        return "room"
    start, end = window(stream, tz)
    ev = rebased(ev, stream, tz)
    if ev.start is not None:
        if not (start - EARLY <= ev.start <= end):
            return "date" if ev.start.date() not in (start.date(), end.date()) else "time"
        return None
    if ev.first is not None and ev.last is not None:
        lo, hi = start - EARLY, end + LATE_END
        span = max((ev.last - ev.first).total_seconds(), 60.0)
        inside = (min(ev.last, hi) - max(ev.first, lo)).total_seconds()
        if inside < span / 2:  # most of the trend's minutes must fall in the stream's window
            return "date" if ev.first.date() not in (start.date(), end.date()) else "time"
        return None
    if ev.day is not None and ev.day not in (start.date(), end.date()):
        return "date"
    return None


def consistent(stream: Stream, ev: Evidence, tz: ZoneInfo) -> bool:
    return why_not(stream, ev, tz) is None


def closeness(stream: Stream, ev: Evidence, tz: ZoneInfo) -> float:
    """Smaller is closer: seconds between the part's time and the stream's window."""
    start, end = window(stream, tz)
    ev = rebased(ev, stream, tz)
    if ev.start is not None:
        return abs((ev.start - start).total_seconds())
    if ev.first is not None and ev.last is not None:
        overlap = (min(ev.last, end) - max(ev.first, start)).total_seconds()
        return -overlap
    return 0.0


# -- building parts ----------------------------------------------------------------------------
async def file_room(session: AsyncSession, text: str) -> Room | None:
    """The one room a file name or title names ("2号直播间_20261126.xlsx"), else None."""
    if not text:
        return None
    found = schedule.match_rooms(text, await schedule.list_rooms(session))
    return found[0] if len(found) == 1 else None


def _dated(table: parse.Table) -> bool:
    return table.date_from != "assumed"


async def parts_of(session: AsyncSession, tables: list[parse.Table], file_name: str, label) -> list[Part]:
    """The parts of a file with their evidence. ``label(table, row, many)`` names a part."""
    from bot.data.numbers import find_date

    rooms = await schedule.list_rooms(session)
    named_room = await file_room(session, file_name)
    out: list[Part] = []
    for i, table in enumerate(tables):
        if not table.rows:
            continue  # every row rejected (the card lists why), or only a header
        title_day = find_date(table.title or "") or find_date(file_name)
        title_room = await file_room(session, table.title or "") or named_room
        if table.kind == parse.SUMMARY:
            many = len(table.rows) > 1
            for n, row in enumerate(table.rows):
                ev = _summary_evidence(row, table, rooms, title_day, title_room)
                number = _row_number(table, n)
                out.append(Part(f"{i}:{number}", table, [row], ev, number, label(table, number, many)))
            continue
        ev = Evidence(room=title_room, room_text=title_room.name if title_room else None, day=title_day)
        if table.kind == parse.TREND:
            minutes = [r["minute"] for r in table.rows if isinstance(r.get("minute"), datetime)]
            if minutes:
                ev.first, ev.last = min(minutes), max(minutes)
                ev.time_only = not _dated(table)
                if not ev.time_only:
                    ev.day = ev.first.date()
        out.append(Part(str(i), table, table.rows, ev, None, label(table, None, False)))
    return out


def _row_number(table: parse.Table, n: int) -> int:
    return table.row_numbers[n] if n < len(table.row_numbers) else table.header_row + 1 + n


def _summary_evidence(row: dict, table: parse.Table, rooms: list[Room], title_day: date | None,
                      title_room: Room | None) -> Evidence:
    text = str(row.get("room") or "").strip() or None
    room = None
    if text:
        found = schedule.match_rooms(text, rooms)
        room = found[0] if len(found) == 1 else None
    else:
        room = title_room
    start = row.get("start") if isinstance(row.get("start"), datetime) else None
    time_only = start is not None and not _dated(table)
    day = row.get("date") if isinstance(row.get("date"), date) and not time_only else title_day
    return Evidence(room_text=text, room=room, day=day, start=start, time_only=time_only)


# -- finding streams ---------------------------------------------------------------------------
async def streams_near(session: AsyncSession, ev: Evidence, tz: ZoneInfo, *, chat_id: str,
                       now: datetime) -> list[Stream]:
    """Streams that could hold a part, closest first: by the part's own date when it has one,
    else this chat's streams (or a room's, from its field group) of the last two days that
    have started."""
    query = select(Stream).where(Stream.status != CANCELLED)
    anchor = ev.start or ev.first
    if anchor is not None and not ev.time_only:
        at = anchor.replace(tzinfo=tz)
        query = query.where(Stream.starts_at >= at - timedelta(days=1), Stream.starts_at <= at + timedelta(days=1))
    elif ev.day is not None:
        day_start = datetime.combine(ev.day, time(0), tz)
        query = query.where(Stream.starts_at >= day_start - timedelta(days=1),
                            Stream.starts_at < day_start + timedelta(days=1))
    else:
        query = query.where(Stream.starts_at >= now - timedelta(days=2), Stream.starts_at <= now)
        if ev.room is None:
            mine = list((await session.execute(
                query.outerjoin(Room, Room.id == Stream.room_id)
                .where(or_(Stream.chat_id == chat_id, Room.field_chat_id == chat_id))
                .order_by(Stream.starts_at.desc()))).scalars()) if chat_id else []
            if mine:
                return [s for s in mine if consistent(s, ev, tz)]
    if ev.room is not None:
        query = query.where(Stream.room_id == ev.room.id)
    rows = [s for s in (await session.execute(query.order_by(Stream.starts_at.desc()))).scalars()
            if consistent(s, ev, tz)]
    if anchor is not None:
        rows.sort(key=lambda s: closeness(s, ev, tz))
    return rows


async def just_imported(session: AsyncSession, chat_id: str, now: datetime) -> Stream | None:
    """The stream that received an import in this chat in the last 30 minutes, if any."""
    from bot.data.models import DataImport

    if not chat_id:
        return None
    sid = (await session.execute(select(DataImport.stream_id).where(
        DataImport.chat_id == chat_id, DataImport.at >= now - JUST, DataImport.state == "active")
        .order_by(DataImport.id.desc()).limit(1))).scalar()
    return await schedule.stream_by_id(session, sid) if sid is not None else None
