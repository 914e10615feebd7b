"""Fault tickets in the store: plain functions over an AsyncSession.

Locating a report (room, stream, live status), the people of a fault (on-call, backup,
field control, ops leads from bot.leads, tech leads), merging duplicates, the timeline, and the two
state changes that race (ack, resolve) done as conditional updates: the first one wins.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.faults.models import ACKED, ACTIVE_STATES, OPEN, RESOLVED, Fault, FaultEvent
from bot.faults.oncall import duty_at
from bot.schedule.rooms import RoomRef, find_rooms
from bot.schedule import service as schedule

TECH_LEAD_TITLES = ("技术主管", "技术负责人", "技术经理")
SOON = timedelta(hours=2)


@dataclass
class Place:
    room_id: int | None = None
    room_name: str = ""
    candidates: list[str] = field(default_factory=list)  # several rooms named: their names
    stream: Any = None  # bot.schedule.models.Stream: live now, else the next within 2 hours
    live: str = ""  # "live" | "soon" | ""
    guessed: bool = False  # from the reporter's own stream, not the text
    from_group: bool = False  # from the room's field-control group the report was posted in


async def locate(session: AsyncSession, text: str, reporter: str, now: datetime, chat_id: str = "") -> Place:
    """Which room the report is about and whether it is live now or within 2 hours: the room
    the text names; else the room whose field-control group the report was posted in; else
    the reporter's own live or upcoming stream, when there is exactly one."""
    rooms = await schedule.list_rooms(session)
    refs = [RoomRef(str(r.id), r.name, tuple(r.aliases or ())) for r in rooms]
    by_id = {str(r.id): r for r in rooms}
    found = [by_id[ref.id] for ref in find_rooms(text, refs)]
    place = Place(candidates=[r.name for r in found] if len(found) > 1 else [])
    room = found[0] if found else None
    if room is None and chat_id:
        room = await schedule.field_room(session, chat_id)
        place.from_group = room is not None
    current = await schedule.current_streams(session, now, SOON)
    if room is None:
        # The reporter's own stream, when they are in exactly one live or upcoming stream.
        mine = {s.room_id for s in current if reporter in s.people().values()}
        if len(mine) == 1:
            room, place.guessed = by_id.get(str(next(iter(mine)))), True
    if room is None:
        return place
    place.room_id, place.room_name = room.id, room.name
    live = await schedule.live_stream_in_room(session, room.id, now)
    if live is not None:
        place.stream, place.live = live, "live"
        return place
    upcoming = [s for s in current if s.room_id == room.id and s.starts_at > now]
    if upcoming:
        place.stream, place.live = upcoming[0], "soon"
    return place


async def staff_with_titles(session: AsyncSession, titles: tuple[str, ...]) -> list[str]:
    return [s.open_id for s in await schedule.list_staff(session)
            if any(t in titles for t in (s.titles or []))]


@dataclass
class Crew:
    oncall: list[str]
    backup: list[str]
    field_control: str
    leads: list[str]
    tech_leads: list[str]
    from_rotation: bool


async def crew_for(session: AsyncSession, *, category: str, place: Place, reporter: str, now: datetime,
                   tz, admins: tuple[str, ...], chat_id: str = "") -> Crew:
    """The people of a new fault. The ops leads are whoever bot.leads says gets escalations in
    the reporting group, never the on-call who would be late to ack it."""
    from bot.leads import escalation_targets

    duty = await duty_at(session, category, now, tz)
    oncall, backup = ([duty.primary] if duty.primary else []), ([duty.backup] if duty.backup else [])
    from_rotation = bool(oncall)
    stream = place.stream
    if not oncall and stream is not None and stream.tech_id:
        oncall = [stream.tech_id]  # no rotation: the stream's technician
    leads = await escalation_targets(session, chat_id=chat_id, late=oncall, admins=admins)
    tech_leads = [t for t in await staff_with_titles(session, TECH_LEAD_TITLES) or list(admins) if t not in oncall]
    return Crew(oncall=oncall, backup=[b for b in backup if b not in oncall],
                field_control=(stream.field_control_id or "") if stream is not None else "",
                leads=leads, tech_leads=tech_leads, from_rotation=from_rotation)


async def mergeable(session: AsyncSession, *, room_id: int | None, chat_id: str, category: str, now: datetime,
                    minutes: int) -> Fault | None:
    """The active ticket a new report of ``category`` joins: of the same room while it is open
    (however long ago it was reported); for a report without a room, of the same reporting
    group, reported (first or again) within the last ``minutes``."""
    q = select(Fault).where(Fault.category == category, Fault.status.in_(ACTIVE_STATES))
    if room_id is not None:
        q = q.where(Fault.room_id == room_id)
    else:
        recent = select(FaultEvent.id).where(FaultEvent.fault_id == Fault.id, FaultEvent.kind.in_(("reported", "merged")),
                                             FaultEvent.at >= now - timedelta(minutes=minutes))
        q = q.where(Fault.chat_id == chat_id, recent.exists())
    return (await session.execute(q.order_by(Fault.id.desc()))).scalars().first()


async def add_event(session: AsyncSession, fault_id: int, kind: str, *, by: str = "", at: datetime,
                    text: str = "", **data: Any) -> None:
    session.add(FaultEvent(fault_id=fault_id, kind=kind, by=by, at=at, text=text[:2000], data=data))


async def timeline(session: AsyncSession, fault_id: int) -> list[FaultEvent]:
    return list((await session.execute(select(FaultEvent).where(FaultEvent.fault_id == fault_id)
                                       .order_by(FaultEvent.at, FaultEvent.id))).scalars())


async def get(session: AsyncSession, fault_id: int) -> Fault | None:
    return (await session.execute(select(Fault).where(Fault.id == fault_id)
                                  .execution_options(populate_existing=True))).scalar_one_or_none()


async def by_group(session: AsyncSession, chat_id: str) -> Fault | None:
    """The fault whose response group (or thread root chat, when it is a fault group) this is."""
    if not chat_id:
        return None
    return (await session.execute(select(Fault).where(Fault.group_chat_id == chat_id, Fault.mode == "group")
                                  .order_by(Fault.id.desc()))).scalars().first()


async def active_in_group(session: AsyncSession, chat_id: str) -> Fault | None:
    """The active fault of a fault group, for chatter there: a primary-key read of the Chat
    row (kind "fault" is set when the bot creates the group) and, only then, the fault."""
    from bot.store.models import Chat

    chat = await session.get(Chat, chat_id) if chat_id else None
    if chat is None or chat.kind != "fault":
        return None
    f = await by_group(session, chat_id)
    return f if f is not None and f.status in ACTIVE_STATES else None


async def active(session: AsyncSession) -> list[Fault]:
    return list((await session.execute(select(Fault).where(Fault.status.in_(ACTIVE_STATES))
                                       .order_by(Fault.severity, Fault.id))).scalars())


async def between(session: AsyncSession, start: datetime, end: datetime) -> list[Fault]:
    return list((await session.execute(select(Fault).where(Fault.created_at >= start, Fault.created_at < end)
                                       .order_by(Fault.id))).scalars())


async def claim_ack(session: AsyncSession, fault_id: int, user: str, now: datetime) -> bool:
    """open → acked by ``user``; False when someone else got there first (or it is closed)."""
    result = await session.execute(update(Fault).where(Fault.id == fault_id, Fault.status == OPEN)
                                   .values(status=ACKED, acked_by=user, acked_at=now, updated_at=now)
                                   .execution_options(synchronize_session=False))
    return bool(result.rowcount)


async def claim_resolve(session: AsyncSession, fault: Fault, user: str, now: datetime, *, cause: str,
                        fix: str) -> bool:
    """open/acked → resolved. A fault resolved without an ack counts as acked at the same time."""
    values: dict[str, Any] = dict(status=RESOLVED, resolved_by=user, resolved_at=now, cause=cause[:1000],
                                  fix=fix[:1000], updated_at=now)
    if fault.acked_at is None:
        values.update(acked_by=user, acked_at=now)
    result = await session.execute(update(Fault).where(Fault.id == fault.id, Fault.status.in_(ACTIVE_STATES))
                                   .values(**values).execution_options(synchronize_session=False))
    return bool(result.rowcount)
