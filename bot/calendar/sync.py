"""Every stream as an event in a shared "直播排期" calendar, kept in step with the schedule.

The calendar is created by the bot as the app (创建共享日历, tenant token: the app owns it and
"会自动订阅该日历"); one per team group, or one per room (``/排期 日历 开 每个直播间``). Nobody
sees it until they are attendees of an event (each stream's people are) or are subscribed with
``/排期 日历 订阅 @某人`` (an ACL with role reader, 访问控制资源介绍).

A stream added, changed or cancelled (bot.schedule.service.on_stream_change, the same moment
the change card goes out) queues its calendar change in the same transaction:

* create: outbox ``create_event`` with key ``cal-event:{stream}:{calendar}:{n}`` — the key gives
  创建日程's ``idempotency_key``, so a retry after a lost answer returns the same event instead
  of making a second one; then ``add_attendees`` targeting "@<that key>" (it waits for the event);
* change: only what differs from what was sent last (``StreamEvent.sent``): ``patch_event``,
  ``add_attendees`` / ``remove_attendees``;
* cancel: ``delete_event`` (删除日程 notifies the attendees).

Until the calendar exists nothing is queued for it; when its creation comes back
(``calendar.created``) every upcoming stream of it is queued. Event title: room · streamer ·
brand; description: the stream, its people, the field-control group (an AppLink), and a line
saying the schedule in the bot is what counts. Hand edits in the calendar: bot.calendar.watch.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import outbox
from bot.commands.registry import on_startup
from bot.calendar.models import ACTIVE, DELETED, PENDING, READY, CalendarSettings, StreamCalendar, StreamEvent
from bot.i18n import t
from bot.schedule import service
from bot.schedule.models import CANCELLED, PERSON_FIELDS, Room, Stream
from bot.sender import on_sent
from bot.store.models import Chat, OutboxMessage

MAX_REMINDER = 24 * 60


def chat_link(chat_id: str) -> str:
    """AppLink that opens a group chat in the Feishu client (AppLink 协议: 打开群聊 chat/open)."""
    return f"https://applink.feishu.cn/client/chat/open?openChatId={chat_id}"


async def settings_for(session: AsyncSession, chat_id: str) -> CalendarSettings:
    found = await session.get(CalendarSettings, chat_id) if chat_id else None
    return found or CalendarSettings(chat_id=chat_id)


async def save_settings(session: AsyncSession, chat_id: str, *, by: str, now: datetime, **values: Any) -> CalendarSettings:
    row = await session.get(CalendarSettings, chat_id)
    if row is None:
        row = CalendarSettings(chat_id=chat_id, updated_at=now)
        session.add(row)
    for name, value in values.items():
        setattr(row, name, value)
    row.updated_by, row.updated_at = by, now
    await session.flush()
    return row


async def locale_of(session: AsyncSession, chat_id: str, default: str) -> str:
    return (await session.execute(select(Chat.locale).where(Chat.chat_id == chat_id))).scalar() or default


def scope_key(settings: CalendarSettings, room_id: int | None) -> str:
    return f"{settings.chat_id}#room:{room_id}" if settings.per_room and room_id is not None else settings.chat_id


def create_key(scope: str, attempt: int = 0) -> str:
    return f"cal-create:{scope}" + (f"|{attempt}" if attempt else "")


def scope_of_key(key: str) -> str:
    return key.removeprefix("cal-create:").split("|", 1)[0]


async def _row_failed(session: AsyncSession, key: str) -> bool:
    status = (await session.execute(select(OutboxMessage.status).where(OutboxMessage.key == key))).scalar()
    return status == "failed"


async def _ask(session: AsyncSession, cal: StreamCalendar, locale: str, attempt: int) -> None:
    cal.create_key = create_key(cal.scope_key, attempt)
    await outbox.to(session).create_calendar(cal.create_key, lane=f"calendar:{cal.scope_key}", calendar={
        "summary": cal.summary, "description": t(locale, "cal.description")[:255], "permissions": "private"},
        callback="calendar.created")


async def calendar_for(session: AsyncSession, settings: CalendarSettings, room: Room | None, *, locale: str,
                       now: datetime) -> StreamCalendar:
    """The calendar of this team (or room), asked for once when it does not exist yet."""
    key = scope_key(settings, room.id if room else None)
    cal = (await session.execute(select(StreamCalendar).where(StreamCalendar.scope_key == key))).scalar_one_or_none()
    if cal is not None:
        return cal
    name = t(locale, "cal.name") + (f" · {room.name}" if settings.per_room and room else "")
    cal = StreamCalendar(scope_key=key, chat_id=settings.chat_id, room_id=room.id if settings.per_room and room
                         else None, summary=name[:255], status=PENDING, created_at=now)
    session.add(cal)
    await session.flush()
    await _ask(session, cal, locale, 0)
    return cal


async def repair(session: AsyncSession, chat_id: str, locale: str) -> int:
    """Ask again for what failed for good (e.g. before the calendar scope was granted): each
    calendar whose creation failed (a new key), each event whose creation failed (made again
    by the backfill). Returns how many were asked again."""
    again = 0
    for cal in (await session.execute(select(StreamCalendar).where(StreamCalendar.chat_id == chat_id))).scalars():
        if cal.status == PENDING and cal.create_key and await _row_failed(session, cal.create_key):
            attempt = int(cal.create_key.split("|", 1)[1]) + 1 if "|" in cal.create_key else 1
            await _ask(session, cal, locale, attempt)
            again += 1
        for ev in (await session.execute(select(StreamEvent).where(StreamEvent.scope_key == cal.scope_key,
                                                                   StreamEvent.state == ACTIVE,
                                                                   StreamEvent.event_id.is_(None)))).scalars():
            if await _row_failed(session, ev.create_key):
                ev.state = DELETED
                again += 1
    return again


async def subscribe(session: AsyncSession, cal: StreamCalendar, open_id: str) -> None:
    """Let a person see the calendar (ACL role reader); waits for the calendar if it is new."""
    target = cal.calendar_id or f"@{cal.create_key or create_key(cal.scope_key)}"
    await outbox.to(session).calendar_acl(f"cal-acl:{cal.create_key or cal.scope_key}:{open_id}", target, open_id,
                                          lane=f"calendar:{cal.scope_key}", role="reader")


async def content(session: AsyncSession, stream: Stream, settings: CalendarSettings, locale: str,
                  tz: str) -> dict[str, Any]:
    """What the event should say: title, description, times (seconds), reminder, attendees."""
    room = await service.room_by_id(session, stream.room_id)
    people = stream.people()
    names = await service.names_of(session, people.values())
    streamer = names.get(stream.streamer_id or "", "")
    title = " · ".join(x for x in (room.name if room else "", streamer, stream.brand) if x)
    lines = [t(locale, "cal.event_head", id=stream.id, when=service.span_text(stream.starts_at, stream.ends_at, tz))]
    for f in PERSON_FIELDS:
        if people.get(f):
            lines.append(f"{t(locale, 'schedule.field.' + f)}：{names.get(people[f], '')}")
    if stream.theme:
        lines.append(t(locale, "cal.event_theme", theme=stream.theme))
    if room is not None and room.field_chat_id:
        lines.append(t(locale, "cal.event_field_group", link=chat_link(room.field_chat_id)))
    lines.append(t(locale, "cal.event_source", id=stream.id))
    return {"summary": title[:1000], "description": "\n".join(lines)[:4000],
            "start": int(stream.starts_at.timestamp()), "end": int(stream.ends_at.timestamp()),
            "reminder": settings.reminder_minutes, "attendees": sorted(set(people.values())), "tz": tz}


def event_body(want: dict[str, Any], names: list[str] | None = None) -> dict[str, Any]:
    """The calendar/v4 event fields for ``want`` (all of them, or only ``names``)."""
    full = {"summary": want["summary"], "description": want["description"],
            "start_time": {"timestamp": str(want["start"]), "timezone": want["tz"]},
            "end_time": {"timestamp": str(want["end"]), "timezone": want["tz"]},
            "reminders": [{"minutes": want["reminder"]}] if want["reminder"] else []}
    picked = {"summary": "summary", "description": "description", "start": "start_time", "end": "end_time",
              "reminder": "reminders"}
    if names is None:
        return {**full, "attendee_ability": "none", "visibility": "default", "free_busy_status": "busy",
                "need_notification": False}
    return {picked[n]: full[picked[n]] for n in names if n in picked}


async def sync_stream(session: AsyncSession, stream: Stream, now: datetime, *, default_locale: str, tz: str,
                      settings: CalendarSettings | None = None) -> None:
    """Queue whatever the stream's calendar event needs to match the stream now."""
    settings = settings or await settings_for(session, stream.chat_id)
    if not settings.enabled:
        return
    locale = await locale_of(session, stream.chat_id, default_locale)
    room = await service.room_by_id(session, stream.room_id)
    ev = (await session.execute(select(StreamEvent).where(StreamEvent.stream_id == stream.id))).scalar_one_or_none()
    if stream.status == CANCELLED:
        if ev is not None and ev.state == ACTIVE:
            await _delete(session, ev, now)
        return
    cal = await calendar_for(session, settings, room, locale=locale, now=now)
    if cal.status != READY or not cal.calendar_id:
        return  # queued when the calendar comes back (calendar.created)
    want = await content(session, stream, settings, locale, tz)
    if ev is not None and ev.state == ACTIVE and ev.scope_key != cal.scope_key:
        await _delete(session, ev, now)  # moved to another room's calendar
    if ev is None or ev.state == DELETED:
        await _create(session, ev, stream, cal, want, now)
        return
    await _update(session, ev, cal, want, now)


def _lane(scope: str) -> str:
    return f"calendar:{scope}"


async def _create(session: AsyncSession, ev: StreamEvent | None, stream: Stream, cal: StreamCalendar,
                  want: dict[str, Any], now: datetime) -> None:
    attempt = (ev.version + 1) if ev is not None else 0
    key = f"cal-event:{stream.id}:{cal.id}:{attempt}"
    if ev is None:
        ev = StreamEvent(stream_id=stream.id, scope_key=cal.scope_key, create_key=key, updated_at=now)
        session.add(ev)
    ev.scope_key, ev.create_key, ev.event_id, ev.state, ev.version = cal.scope_key, key, None, ACTIVE, attempt
    ev.sent, ev.seen, ev.updated_at = want, {}, now
    await session.flush()
    await outbox.to(session).create_event(key, cal.calendar_id or "", event_body(want), lane=_lane(cal.scope_key),
                                          callback="calendar.event_created")
    if want["attendees"]:
        await outbox.to(session).add_attendees(f"{key}:attendees", f"@{key}", want["attendees"],
                                               calendar=cal.calendar_id, lane=_lane(cal.scope_key))


async def _update(session: AsyncSession, ev: StreamEvent, cal: StreamCalendar, want: dict[str, Any],
                  now: datetime, *, force: bool = False) -> None:
    sent = ev.sent or {}
    changed = [n for n in ("summary", "description", "start", "end", "reminder") if force or sent.get(n) != want[n]]
    added = [o for o in want["attendees"] if o not in sent.get("attendees", [])]
    removed = [o for o in sent.get("attendees", []) if o not in want["attendees"]]
    if not (changed or added or removed):
        return
    ev.version += 1
    key = f"cal-event:{ev.stream_id}:v{ev.version}"
    target = ev.event_id or f"@{ev.create_key}"
    out, lane = outbox.to(session), _lane(cal.scope_key)
    if changed:
        await out.patch_event(f"{key}:patch", target, event_body(want, changed), calendar=cal.calendar_id, lane=lane)
    if added:
        await out.add_attendees(f"{key}:add", target, added, calendar=cal.calendar_id, lane=lane)
    if removed:
        await out.remove_attendees(f"{key}:remove", target, removed, calendar=cal.calendar_id, lane=lane)
    ev.sent, ev.updated_at = want, now


async def restore(session: AsyncSession, ev: StreamEvent, stream: Stream, now: datetime, *, default_locale: str,
                  tz: str) -> None:
    """Put the event back to what the schedule says (after a hand edit)."""
    settings = await settings_for(session, stream.chat_id)
    cal = (await session.execute(select(StreamCalendar).where(StreamCalendar.scope_key == ev.scope_key))).scalar_one()
    want = await content(session, stream, settings, await locale_of(session, stream.chat_id, default_locale), tz)
    await _update(session, ev, cal, want, now, force=True)


async def recreate(session: AsyncSession, ev: StreamEvent, stream: Stream, now: datetime, *, default_locale: str,
                   tz: str) -> None:
    """The event was deleted in the calendar: make it again (a new key, so a new event)."""
    ev.state = DELETED
    await sync_stream(session, stream, now, default_locale=default_locale, tz=tz)


async def _delete(session: AsyncSession, ev: StreamEvent, now: datetime) -> None:
    cal = (await session.execute(select(StreamCalendar).where(StreamCalendar.scope_key == ev.scope_key))).scalar_one()
    await outbox.to(session).delete_event(f"{ev.create_key}:delete", ev.event_id or f"@{ev.create_key}",
                                          calendar=cal.calendar_id, lane=_lane(ev.scope_key))
    ev.state, ev.updated_at = DELETED, now


# -- listeners and outbox callbacks ------------------------------------------------------------------
_ENV: dict[str, Any] = {}  # the Services of this process (locale, zone), set at start-up


@on_startup
async def remember(svc, session) -> None:
    _ENV["svc"] = svc


@service.on_stream_change
async def stream_changed(session: AsyncSession, stream: Stream, kind: str, now: datetime) -> None:
    svc = _ENV.get("svc")
    default, tz = (svc.settings.locale, svc.settings.timezone) if svc else ("zh_CN", "Asia/Shanghai")
    await sync_stream(session, stream, now, default_locale=default, tz=tz)


@on_sent("calendar.created")
async def calendar_created(svc, row, result: dict) -> None:
    """Keep the calendar's id and queue every upcoming stream of it."""
    session = result["session"]
    scope = scope_of_key(row.key)
    cal = (await session.execute(select(StreamCalendar).where(StreamCalendar.scope_key == scope))).scalar_one_or_none()
    if cal is None or cal.calendar_id:
        return
    cal.calendar_id, cal.status = result.get("calendar_id") or None, READY
    await backfill(session, cal, svc.clock.now(), default_locale=svc.settings.locale, tz=svc.settings.timezone)


async def backfill(session: AsyncSession, cal: StreamCalendar, now: datetime, *, default_locale: str, tz: str) -> None:
    settings = await settings_for(session, cal.chat_id)
    far = now + timedelta(days=400)
    for stream in await service.streams_between(session, now, far, room_id=cal.room_id):
        if stream.chat_id == cal.chat_id:
            await sync_stream(session, stream, now, default_locale=default_locale, tz=tz, settings=settings)


@on_sent("calendar.event_created")
async def event_created(svc, row, result: dict) -> None:
    session = result["session"]
    ev = (await session.execute(select(StreamEvent).where(StreamEvent.create_key == row.key))).scalar_one_or_none()
    if ev is not None and not ev.event_id:
        ev.event_id = result.get("event_id") or None
        ev.seen = {**(ev.seen or {}), "app_link": result.get("app_link", "")}
