"""Applying a read Bitable to the schedule, record by record, with the booking import's rules.

Each record is read by ``importer.read_row`` (the same columns, synonyms and checks as a CSV/XLSX
booking sheet) and applied through the schedule service (the same conflict rules as a typed
edit). A record stands for the stream it made (``BitableRow.stream_id``); a new record is matched
to an existing stream by room and start (the import's natural key). Records whose cells did not
change since they were last applied are skipped, so an edit made in the bot is not undone by
the table. A record marked 已取消, or deleted from the table, cancels its stream.

Unlike a file import, one bad record does not stop the others: each is applied in its own
savepoint, and a record that cannot be read or applied is a ``Problem``; ``new_problems`` are
those not reported before for the same reason (``BitableRow.problem``), so each is reported once.
With ``dry=True`` everything is done inside a savepoint that is rolled back: the preview shows
exactly what confirming would do.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.bitable.models import BitableBinding, BitableRow
from bot.bitable.read import Table
from bot.errors import UserError
from bot.i18n import t
from bot.schedule import importer, service
from bot.schedule.models import CANCELLED, ENDED, LIVE, PENDING, PERSON_FIELDS, Stream


@dataclass
class Change:
    kind: str  # added | changed | cancelled
    stream_id: int
    label: str  # "#12 1号直播间 11-27 19:00–23:00"
    diff: dict = field(default_factory=dict)
    before_people: list[str] = field(default_factory=list)
    reason: str = ""  # why it was cancelled


@dataclass
class Problem:
    record_id: str
    row: int  # position in the table, 1 = the first record
    what: str  # the row's date and room as written
    reason: str


@dataclass
class Outcome:
    changes: list[Change] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    new_problems: list[Problem] = field(default_factory=list)
    unchanged: int = 0

    def count(self, kind: str) -> int:
        return sum(1 for c in self.changes if c.kind == kind)


def mapping_for(table: Table, binding: BitableBinding) -> importer.Mapping:
    """The booking columns, leaving out the columns the bot writes back into."""
    skip = set((binding.writeback or {}).values())
    return importer.map_columns([h if h not in skip else "" for h in table.header])


def fingerprint(cells: list[Any], mapping: importer.Mapping) -> str:
    used = sorted(i for i, _scale in mapping.columns.values())
    data = [str(cells[i]) if i < len(cells) else "" for i in used]
    if any(isinstance(cells[i], importer.PersonCell) for i in used if i < len(cells)):
        data += [cells[i].open_id for i in used if i < len(cells) and isinstance(cells[i], importer.PersonCell)]
    return hashlib.sha256(json.dumps(data, ensure_ascii=False).encode()).hexdigest()[:32]


def _what(cells: list[Any], mapping: importer.Mapping) -> str:
    parts = []
    for name in ("date", "room"):
        i = mapping.columns.get(name, (None, 1))[0]
        if i is not None and i < len(cells) and str(cells[i]).strip():
            value = cells[i]
            parts.append(f"{value:%m-%d}" if isinstance(value, datetime) else str(value)[:20])
    return " ".join(parts)


async def label(session: AsyncSession, stream: Stream, tz: str, *, new: bool = False) -> str:
    """"#12 1号直播间 11-27 19:00–23:00"; a new stream without its number (a preview's number
    would not be the one it gets)."""
    room = await service.room_by_id(session, stream.room_id)
    text = f"{room.name if room else ''} {service.span_text(stream.starts_at, stream.ends_at, tz)}"
    return text if new else f"#{stream.id} {text}"


async def apply(session: AsyncSession, binding: BitableBinding, table: Table, *, locale: str, tz: str, today: date,
                now: datetime, max_hours: float, dry: bool = False) -> Outcome:
    mapping = mapping_for(table, binding)
    if not mapping.is_booking_sheet:
        raise UserError("schedule.import_not_sheet", columns="、".join(h for h in table.header if h)[:200] or "-")
    outer = await session.begin_nested() if dry else None
    try:
        out = await _apply(session, binding, table, mapping, locale=locale, tz=tz, today=today, now=now,
                           max_hours=max_hours)
    finally:
        if outer is not None:
            await outer.rollback()
    return out


async def _apply(session: AsyncSession, binding: BitableBinding, table: Table, mapping: importer.Mapping, *,
                 locale: str, tz: str, today: date, now: datetime, max_hours: float) -> Outcome:
    out = Outcome()
    rooms = await service.list_rooms(session)
    links = {r.record_id: r for r in (await session.execute(
        select(BitableRow).where(BitableRow.binding_id == binding.id))).scalars()}
    touched: dict[int, int] = {}  # stream id -> row that changed it in this pass
    for number, (record_id, cells) in enumerate(table.records, start=1):
        fp = fingerprint(cells, mapping)
        link = links.get(record_id)
        if link is None:
            link = BitableRow(binding_id=binding.id, record_id=record_id[:64])
            session.add(link)
            links[record_id] = link
        if link.fingerprint == fp and not link.problem:
            out.unchanged += 1
            if link.stream_id:
                touched.setdefault(link.stream_id, number)
            continue
        stream_id = link.stream_id
        savepoint = await session.begin_nested()
        try:
            change = await _record(session, binding, cells, mapping, rooms, stream_id, touched, number, locale=locale,
                                   tz=tz, today=today, now=now, max_hours=max_hours)
        except (importer.BadRow, UserError) as exc:
            await savepoint.rollback()
            reason = exc.reason if isinstance(exc, importer.BadRow) else t(locale, exc.key, **exc.values)
            problem = Problem(record_id, number, _what(cells, mapping), reason)
            out.problems.append(problem)
            if link.problem != reason:
                out.new_problems.append(problem)
                link.problem = reason
            continue
        await savepoint.commit()
        link.fingerprint, link.problem = fp, ""
        if change is not None:
            link.stream_id = change.stream_id
            touched[change.stream_id] = number
            out.changes.append(change)
        else:
            out.unchanged += 1
    present = {rid for rid, _cells in table.records}
    for record_id, link in list(links.items()):
        if record_id in present:
            continue
        stream = await service.stream_by_id(session, link.stream_id) if link.stream_id else None
        if stream is not None and stream.status not in (CANCELLED, LIVE, ENDED):
            await service.cancel_stream(session, stream, reason=t(locale, "bt.reason_deleted"),
                                        by=binding.created_by, now=now)
            out.changes.append(Change("cancelled", stream.id, await label(session, stream, tz),
                                      reason=t(locale, "bt.reason_deleted")))
        await session.delete(link)
    await session.flush()
    return out


async def _record(session: AsyncSession, binding: BitableBinding, cells: list[Any], mapping: importer.Mapping,
                  rooms: list, stream_id: int | None, touched: dict[int, int], number: int, *, locale: str, tz: str,
                  today: date, now: datetime, max_hours: float) -> Change | None:
    row = await importer.read_row(session, cells, mapping, rooms, locale=locale, tz=tz, today=today)
    target = await service.stream_by_id(session, stream_id) if stream_id else None
    if target is not None and target.status == CANCELLED:
        target = None
    if target is None:
        target = await service.stream_by_key(session, row.room.id, row.starts_at)
    if target is not None and target.id in touched:
        raise importer.BadRow(t(locale, "bt.row_same_stream", row=touched[target.id], id=target.id))
    by = binding.created_by
    if row.status == CANCELLED:
        if target is None or target.status in (LIVE, ENDED):
            return None
        await service.cancel_stream(session, target, reason=t(locale, "bt.reason_cancelled"), by=by, now=now)
        return Change("cancelled", target.id, await label(session, target, tz), reason=t(locale, "bt.reason_cancelled"))
    if target is None:
        people = {f: v for f, v in row.values.items() if f in PERSON_FIELDS and v}
        stream = await service.add_stream(
            session, room=row.room, starts_at=row.starts_at, ends_at=row.ends_at, people=people,
            brand=row.values.get("brand", ""), theme=row.values.get("theme", ""),
            target_gmv=row.values.get("target_gmv"), status=row.status or PENDING, chat_id=binding.chat_id, by=by,
            now=now, source="bitable", tz=tz, max_hours=max_hours)
        return Change("added", stream.id, await label(session, stream, tz, new=True))
    if target.status in (LIVE, ENDED):  # the table does not rewrite what happened
        return None
    changes: dict[str, Any] = dict(row.values, room_id=row.room.id, starts_at=row.starts_at, ends_at=row.ends_at)
    if row.status:
        changes["status"] = row.status
    before = list(target.people().values())
    diff = await service.edit_stream(session, target, changes, by=by, now=now, tz=tz, max_hours=max_hours)
    if not diff:
        return None
    return Change("changed", target.id, await label(session, target, tz), diff=diff, before_people=before)
