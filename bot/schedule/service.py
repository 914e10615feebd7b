"""Schedule service: plain functions over an AsyncSession.

Rooms: ``list_rooms``, ``room_by_name``, ``find_room``, ``add_room``, ``room_by_id``.
People: ``list_staff``, ``add_person``, ``remove_person``, ``find_person``, ``names_of``.
Streams: ``stream_by_id``, ``streams_between``, ``live_stream_in_room``, ``current_streams``,
``conflicts``, ``add_stream``, ``edit_stream``, ``cancel_stream``, ``confirm_stream``,
``mark_live``, ``mark_ended``, ``stream_by_key``.

Refusals raise ``UserError`` with a "schedule.*" text key, so a handler's writes roll back.
Times are aware UTC; ``tz`` only shapes what a refusal shows.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import UserError
from bot.schedule.rooms import RoomRef, find_rooms
from bot.schedule.fields import norm
from bot.schedule.models import (CANCELLED, CONFIRMED, ENDED, EXCLUSIVE_FIELDS, LIVE, PENDING, PERSON_FIELDS,
                                 Room, StaffMember, Stream, StreamChange)
from bot.store.models import Person

DEFAULT_MAX_HOURS = 12
EDITABLE = ("room_id", "starts_at", "ends_at", *PERSON_FIELDS, "brand", "theme", "target_gmv", "status")


def span_text(start: datetime, end: datetime, tz: str | ZoneInfo) -> str:
    """"11-27 19:00–23:00", "11-27 22:00–02:00(+1)": the same in both languages."""
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    s, e = start.astimezone(zone), end.astimezone(zone)
    days = (e.date() - s.date()).days
    tail = f"{e:%H:%M}" if days == 0 else f"{e:%H:%M}(+1)" if days == 1 else f"{e:%m-%d %H:%M}"
    return f"{s:%m-%d %H:%M}–{tail}"


# -- rooms ----------------------------------------------------------------------------------------
async def list_rooms(session: AsyncSession, *, include_inactive: bool = False) -> list[Room]:
    query = select(Room).order_by(Room.name)
    if not include_inactive:
        query = query.where(Room.active.is_(True))
    return sorted((await session.execute(query)).scalars(), key=lambda r: (r.name, r.id))


async def room_by_id(session: AsyncSession, room_id: int) -> Room | None:
    return await session.get(Room, room_id)


def _refs(rooms: Iterable[Room]) -> list[RoomRef]:
    return [RoomRef(str(r.id), r.name, tuple(r.aliases or ())) for r in rooms]


def match_rooms(text: str, rooms: list[Room]) -> list[Room]:
    """Rooms ``text`` names: an exact name or alias first, else by number ("1号", "A1")."""
    key = norm(text)
    exact = [r for r in rooms if key in {norm(n) for n in (r.name, *(r.aliases or ())) if n}]
    if exact:
        return exact
    by_id = {str(r.id): r for r in rooms}
    return [by_id[ref.id] for ref in find_rooms(text, _refs(rooms))]


async def room_by_name(session: AsyncSession, text: str) -> Room | None:
    """The one active room ``text`` names, or None (unknown or ambiguous)."""
    found = match_rooms(text, await list_rooms(session))
    return found[0] if len(found) == 1 else None


async def field_room(session: AsyncSession, chat_id: str) -> Room | None:
    """The active room whose field-control group this chat is, if any."""
    return (await session.execute(select(Room).where(Room.field_chat_id == chat_id, Room.active.is_(True))
                                  .order_by(Room.id))).scalars().first()


async def find_room(session: AsyncSession, text: str) -> Room:
    rooms = await list_rooms(session)
    found = match_rooms(text, rooms) if text.strip() else []
    if len(found) == 1:
        return found[0]
    if found:
        raise UserError("schedule.room_ambiguous", text=text[:40], matches="、".join(r.name for r in found))
    known = "、".join(r.name for r in rooms)
    if not rooms:
        raise UserError("schedule.no_rooms")
    raise UserError("schedule.room_unknown", text=text[:40], rooms=known)


async def add_room(session: AsyncSession, *, name: str, aliases: list[str], platform: str = "",
                   field_chat_id: str | None = None, notes: str = "", now: datetime) -> Room:
    name = name.strip()
    if not name or len(name) > 64:
        raise UserError("schedule.room_name_bad")
    existing = (await session.execute(select(Room).where(Room.name == name))).scalar_one_or_none()
    if existing is not None and existing.active:
        raise UserError("schedule.room_exists", name=name)
    await check_aliases(session, name, aliases, ignore_id=existing.id if existing else None)
    if existing is not None:  # a removed room comes back
        existing.active, existing.aliases, existing.platform = True, aliases, platform
        existing.field_chat_id, existing.notes = field_chat_id, notes
        return existing
    room = Room(name=name, aliases=aliases, platform=platform, field_chat_id=field_chat_id, notes=notes,
                created_at=now)
    session.add(room)
    await session.flush()
    return room


async def check_aliases(session: AsyncSession, name: str, aliases: list[str], ignore_id: int | None) -> None:
    """An alias or name may not already name another active room."""
    for other in await list_rooms(session):
        if other.id == ignore_id:
            continue
        taken = {norm(n) for n in (other.name, *(other.aliases or ())) if n}
        for word in (name, *aliases):
            if norm(word) in taken:
                raise UserError("schedule.alias_taken", alias=word, room=other.name)


# -- people ---------------------------------------------------------------------------------------
async def list_staff(session: AsyncSession, *, title: str | None = None, active_only: bool = True) -> list[StaffMember]:
    query = select(StaffMember).order_by(StaffMember.name)
    if active_only:
        query = query.where(StaffMember.active.is_(True))
    rows = sorted((await session.execute(query)).scalars(), key=lambda s: (s.name, s.id))  # the same on every db
    return [s for s in rows if title is None or title in (s.titles or [])]


async def staff_by_open_id(session: AsyncSession, open_id: str) -> StaffMember | None:
    return (await session.execute(select(StaffMember).where(StaffMember.open_id == open_id))).scalar_one_or_none()


async def add_person(session: AsyncSession, *, open_id: str, name: str, titles: list[str], by: str,
                     now: datetime) -> tuple[StaffMember, list[str]]:
    """Add someone (or give them more titles). Returns the member and the titles that are new."""
    member = await staff_by_open_id(session, open_id)
    if member is None:
        member = StaffMember(open_id=open_id, name=name[:100], titles=list(titles), added_by=by, added_at=now)
        session.add(member)
        await session.flush()
        return member, list(titles)
    before = [] if not member.active else list(member.titles or [])
    member.active = True
    member.name = name[:100] or member.name
    new = [t for t in titles if t not in before]
    member.titles = before + new
    return member, new


async def remove_person(session: AsyncSession, open_id: str, titles: list[str] | None = None) -> StaffMember | None:
    """Take titles away, or (no titles given, or none left) mark the person inactive."""
    member = await staff_by_open_id(session, open_id)
    if member is None or not member.active:
        return None
    if titles:
        member.titles = [t for t in (member.titles or []) if t not in titles]
        if member.titles:
            return member
    member.active = False
    return member


async def find_person(session: AsyncSession, text: str, *, mentions: dict[str, str] | None = None,
                      title: str | None = None) -> tuple[str, str]:
    """(open_id, name) for "@名字" (a real mention) or a name. Among the team's people an exact
    name wins, then a unique partial match; several matches are narrowed by the job title the
    field needs. Falls back to people the bot has seen by exact name. UserError when unknown
    or ambiguous."""
    name = text.strip().lstrip("@＠").strip()
    if not name:
        raise UserError("schedule.person_missing")
    for mention_name, open_id in (mentions or {}).items():
        if norm(mention_name) == norm(name):
            return open_id, mention_name
    staff = await list_staff(session)
    key = norm(name)
    for matches in ([s for s in staff if norm(s.name) == key], [s for s in staff if key in norm(s.name)]):
        if len(matches) > 1 and title:
            fitting = [s for s in matches if title in (s.titles or [])]
            matches = fitting or matches
        if len(matches) == 1:
            return matches[0].open_id, matches[0].name
        if matches:
            raise UserError("schedule.person_ambiguous", name=name[:40],
                            matches="、".join(f"{s.name}（{'/'.join(s.titles or []) or '-'}）" for s in matches))
    seen = list((await session.execute(select(Person).where(Person.name == name))).scalars())
    if len(seen) == 1:
        return seen[0].open_id, seen[0].name
    if len(seen) > 1:
        raise UserError("schedule.person_ambiguous", name=name[:40], matches="、".join(p.name for p in seen))
    raise UserError("schedule.person_unknown", name=name[:40])


async def names_of(session: AsyncSession, open_ids: Iterable[str]) -> dict[str, str]:
    """Display names from the team list, then from people the bot has seen."""
    ids = sorted({i for i in open_ids if i})
    if not ids:
        return {}
    out = {p.open_id: p.name for p in (await session.execute(
        select(Person).where(Person.open_id.in_(ids)))).scalars() if p.name}
    for s in (await session.execute(select(StaffMember).where(StaffMember.open_id.in_(ids)))).scalars():
        out[s.open_id] = s.name
    return {i: out.get(i) or i[-6:] for i in ids}


# -- streams: reads -------------------------------------------------------------------------------
async def stream_by_id(session: AsyncSession, stream_id: int) -> Stream | None:
    return await session.get(Stream, stream_id)


async def get_stream(session: AsyncSession, ref: str) -> Stream:
    """"#12" / "12" → the stream, or UserError."""
    digits = ref.strip().lstrip("#＃")
    if not digits.isdigit() or len(digits) > 12:
        raise UserError("schedule.need_id")
    stream = await stream_by_id(session, int(digits))
    if stream is None:
        raise UserError("schedule.not_found", id=digits)
    return stream


async def streams_between(session: AsyncSession, start: datetime, end: datetime, *, room_id: int | None = None,
                          person: str | None = None, include_cancelled: bool = False,
                          statuses: tuple[str, ...] | None = None) -> list[Stream]:
    """Streams overlapping [start, end), by start time. ``person`` matches any of its people."""
    query = select(Stream).where(Stream.starts_at < end, Stream.ends_at > start)
    if room_id is not None:
        query = query.where(Stream.room_id == room_id)
    if person:
        query = query.where(or_(*(getattr(Stream, f) == person for f in PERSON_FIELDS)))
    if statuses:
        query = query.where(Stream.status.in_(statuses))
    elif not include_cancelled:
        query = query.where(Stream.status != CANCELLED)
    return list((await session.execute(query.order_by(Stream.starts_at, Stream.room_id, Stream.id))).scalars())


async def live_stream_in_room(session: AsyncSession, room_id: int, at: datetime) -> Stream | None:
    """The stream on air in a room at ``at``: one marked live, else one scheduled over ``at``."""
    live = (await session.execute(select(Stream).where(Stream.room_id == room_id, Stream.status == LIVE)
                                  .order_by(Stream.starts_at.desc()))).scalars().first()
    if live is not None:
        return live
    found = await streams_between(session, at, at + timedelta(microseconds=1), room_id=room_id,
                                  statuses=(PENDING, CONFIRMED))
    return found[0] if found else None


async def current_streams(session: AsyncSession, at: datetime, within: timedelta = timedelta(0)) -> list[Stream]:
    """Streams live now or scheduled to overlap [at, at + within] (e.g. "live within 2 hours")."""
    scheduled = await streams_between(session, at, at + within + timedelta(microseconds=1),
                                      statuses=(PENDING, CONFIRMED, LIVE))
    live = (await session.execute(select(Stream).where(Stream.status == LIVE))).scalars()
    by_id = {s.id: s for s in [*scheduled, *live]}
    return sorted(by_id.values(), key=lambda s: (s.starts_at, s.room_id))


async def stream_by_key(session: AsyncSession, room_id: int, starts_at: datetime) -> Stream | None:
    """The stream that is not cancelled at this room and start (the import's natural key)."""
    return (await session.execute(select(Stream).where(
        Stream.room_id == room_id, Stream.starts_at == starts_at, Stream.status != CANCELLED))).scalars().first()


# -- streams: checks ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Conflict:
    kind: str  # "room" | "person"
    other: Stream
    open_id: str = ""


async def conflicts(session: AsyncSession, *, room_id: int, starts_at: datetime, ends_at: datetime,
                    people: dict[str, str], ignore_id: int | None = None) -> list[Conflict]:
    """Double bookings: the room, or a person in an in-room role (主播, 助播, 场控, 中控), busy
    with another stream (not cancelled) over an overlapping time. Touching ends don't overlap."""
    found: list[Conflict] = []
    for other in await streams_between(session, starts_at, ends_at):
        if other.id == ignore_id:
            continue
        if other.room_id == room_id:
            found.append(Conflict("room", other))
            continue
        theirs = {getattr(other, f) for f in EXCLUSIVE_FIELDS if getattr(other, f)}
        for f in EXCLUSIVE_FIELDS:
            if people.get(f) and people[f] in theirs:
                found.append(Conflict("person", other, people[f]))
                break
    return found


def check_window(starts_at: datetime, ends_at: datetime, max_hours: float = DEFAULT_MAX_HOURS) -> None:
    if ends_at <= starts_at:
        raise UserError("schedule.end_before_start")
    hours = (ends_at - starts_at).total_seconds() / 3600
    if hours > max_hours:
        raise UserError("schedule.too_long", hours=f"{hours:g}", max=f"{max_hours:g}")


async def refuse_conflicts(session: AsyncSession, *, room_id: int, starts_at: datetime, ends_at: datetime,
                           people: dict[str, str], tz: str, ignore_id: int | None = None) -> None:
    found = await conflicts(session, room_id=room_id, starts_at=starts_at, ends_at=ends_at, people=people,
                            ignore_id=ignore_id)
    if not found:
        return
    first = found[0]
    room = await room_by_id(session, first.other.room_id)
    when = span_text(first.other.starts_at, first.other.ends_at, tz)
    if first.kind == "room":
        raise UserError("schedule.conflict_room", room=room.name if room else "?", id=first.other.id, when=when)
    who = (await names_of(session, [first.open_id])).get(first.open_id, "")
    raise UserError("schedule.conflict_person", name=who, id=first.other.id, when=when,
                    room=room.name if room else "?")


# -- streams: writes ------------------------------------------------------------------------------
# Told after a stream is added, imported, changed, confirmed or cancelled, in the same
# transaction: ``async fn(session, stream, kind, now)`` (bot.norms plans checkpoints here).
_LISTENERS: list[Any] = []


def on_stream_change(fn: Any) -> Any:
    if fn not in _LISTENERS:
        _LISTENERS.append(fn)
    return fn


async def _notify(session: AsyncSession, stream: Stream, kind: str, now: datetime) -> None:
    for fn in list(_LISTENERS):
        await fn(session, stream, kind, now)


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


async def log(session: AsyncSession, stream: Stream, kind: str, *, by: str, at: datetime,
              changes: dict[str, tuple[Any, Any]] | None = None, note: str = "") -> None:
    session.add(StreamChange(stream_id=stream.id, kind=kind, by=by, at=at, note=note[:1000],
                             changes={k: [_jsonable(a), _jsonable(b)] for k, (a, b) in (changes or {}).items()}))


async def add_stream(session: AsyncSession, *, room: Room, starts_at: datetime, ends_at: datetime,
                     people: dict[str, str] | None = None, brand: str = "", theme: str = "",
                     target_gmv: int | None = None, status: str = PENDING, chat_id: str = "", by: str = "",
                     now: datetime, source: str = "chat", tz: str = "Asia/Shanghai",
                     max_hours: float = DEFAULT_MAX_HOURS) -> Stream:
    people = {f: v for f, v in (people or {}).items() if f in PERSON_FIELDS and v}
    check_window(starts_at, ends_at, max_hours)
    if status != CANCELLED:
        await refuse_conflicts(session, room_id=room.id, starts_at=starts_at, ends_at=ends_at, people=people, tz=tz)
    stream = Stream(room_id=room.id, starts_at=starts_at, ends_at=ends_at, brand=brand[:100], theme=theme[:200],
                    target_gmv=target_gmv, status=status, chat_id=chat_id, created_by=by, created_at=now,
                    updated_at=now, source=source, **people)
    session.add(stream)
    await session.flush()
    await log(session, stream, "imported" if source == "import" else "added", by=by, at=now)
    await _notify(session, stream, "imported" if source == "import" else "added", now)
    return stream


def _closed(stream: Stream) -> None:
    if stream.status in (CANCELLED, ENDED):
        raise UserError(f"schedule.closed_{stream.status}", id=stream.id)


async def edit_stream(session: AsyncSession, stream: Stream, changes: dict[str, Any], *, by: str, now: datetime,
                      tz: str = "Asia/Shanghai", max_hours: float = DEFAULT_MAX_HOURS,
                      kind: str = "changed") -> dict[str, tuple[Any, Any]]:
    """Apply ``changes`` (field → new value; None clears a person). Returns field → (before,
    after) for what really changed; nothing is written when nothing changed."""
    _closed(stream)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    diff = {f: (getattr(stream, f), v) for f, v in changes.items() if getattr(stream, f) != v}
    if not diff:
        return {}
    after = {f: changes.get(f, getattr(stream, f)) for f in EDITABLE}
    check_window(after["starts_at"], after["ends_at"], max_hours)
    if after["status"] != CANCELLED:
        await refuse_conflicts(session, room_id=after["room_id"], starts_at=after["starts_at"],
                               ends_at=after["ends_at"], people={f: after[f] for f in PERSON_FIELDS if after[f]},
                               tz=tz, ignore_id=stream.id)
    for f, (_old, new) in diff.items():
        setattr(stream, f, new)
    stream.updated_at = now
    await log(session, stream, kind, by=by, at=now, changes=diff)
    await _notify(session, stream, "cancelled" if stream.status == CANCELLED else "changed", now)
    return diff


async def cancel_stream(session: AsyncSession, stream: Stream, *, reason: str, by: str, now: datetime) -> None:
    _closed(stream)
    if stream.status == LIVE:
        raise UserError("schedule.cancel_live", id=stream.id)
    before = stream.status
    stream.status, stream.cancel_reason, stream.updated_at = CANCELLED, reason[:300], now
    await log(session, stream, "cancelled", by=by, at=now, changes={"status": (before, CANCELLED)}, note=reason)
    await _notify(session, stream, "cancelled", now)


async def confirm_stream(session: AsyncSession, stream: Stream, *, by: str, now: datetime) -> bool:
    """Pending → confirmed; False when it already was confirmed (or live)."""
    _closed(stream)
    if stream.status != PENDING:
        return False
    stream.status, stream.updated_at = CONFIRMED, now
    await log(session, stream, "confirmed", by=by, at=now, changes={"status": (PENDING, CONFIRMED)})
    return True


async def mark_live(session: AsyncSession, stream: Stream, *, at: datetime, by: str) -> None:
    """/开播: the stream went on air (actual start recorded, status live)."""
    _closed(stream)
    before = stream.status
    stream.status, stream.actual_start, stream.updated_at = LIVE, at, at
    await log(session, stream, "live", by=by, at=at, changes={"status": (before, LIVE)})


async def mark_ended(session: AsyncSession, stream: Stream, *, at: datetime, by: str) -> None:
    """/下播: the stream went off air (actual end recorded, status ended)."""
    if stream.status != LIVE:
        raise UserError("schedule.not_live", id=stream.id)
    stream.status, stream.actual_end, stream.updated_at = ENDED, at, at
    await log(session, stream, "ended", by=by, at=at, changes={"status": (LIVE, ENDED)})
