"""Schedule cards: a day-grouped list (week, month, today), one stream's details, a change
notice, an import summary, the rooms and the people.

``week_card`` and ``month_card`` read the database themselves so a timer can post them
(weekly on Sunday 20:00) without a command: ``await week_card(session, monday, "zh_CN", tz)``.
All times are shown in the bot's zone (``tz``), whatever zone the reader is in.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any, Iterable
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.access import Scope
from bot.cards import Button, Card, CardTooLarge, escape_md
from bot.commands.registry import card_action
from bot.data.visibility import MONEY_FIELDS
from bot.i18n import t
from bot import roles
from bot.timeparse import workdays
from bot.schedule import service
from bot.schedule.fields import format_amount
from bot.schedule.models import (CANCELLED, CONFIRMED, ENDED, LIVE, PENDING, PERSON_FIELDS, TITLES, Room,
                                 StaffMember, Stream)

# The buttons schedule cards carry (handler: bot/commands/schedule.py).
CONFIRM = card_action("schedule.confirm", label=("确认排期", "confirm the stream"), role=roles.OPS, scope=Scope.TEAM)

ICONS = {PENDING: "⏳", CONFIRMED: "✅", CANCELLED: "❌", LIVE: "🔴", ENDED: "⏹"}
ZH_WD = "一二三四五六日"
EN_WD = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def at(open_id: str) -> str:
    """A mention inside card markdown."""
    return f"<at id={open_id}></at>"


def day_label(d: date, locale: str) -> str:
    wd = EN_WD[d.weekday()] if locale == "en_US" else "周" + ZH_WD[d.weekday()]
    label = f"{d:%m-%d} {wd}" if locale != "en_US" else f"{wd} {d:%m-%d}"
    holiday = workdays.holiday_name(d, "en_US" if locale == "en_US" else "zh_CN")
    return f"{label} 🎉{holiday}" if holiday else label


def status_text(status: str, locale: str) -> str:
    return f"{ICONS.get(status, '')}{t(locale, 'schedule.status.' + status)}"


def clock_span(s: Stream, zone: ZoneInfo) -> str:
    start, end = s.starts_at.astimezone(zone), s.ends_at.astimezone(zone)
    days = (end.date() - start.date()).days
    tail = f"{end:%H:%M}" + ("" if days == 0 else f"(+{days})")
    return f"{start:%H:%M}–{tail}"


def stream_line(s: Stream, rooms: dict[int, Room], names: dict[str, str], locale: str, zone: ZoneInfo) -> str:
    room = rooms.get(s.room_id)
    parts = [f"`{clock_span(s, zone)}`", escape_md(room.name if room else "?")]
    if s.streamer_id:
        parts.append(escape_md(names.get(s.streamer_id, "")))
    if s.brand:
        parts.append(escape_md(s.brand))
    parts.append(status_text(s.status, locale))
    line = " · ".join(parts[1:])
    text = f"{parts[0]} #{s.id} {line}"
    return f"~~{text}~~" if s.status == CANCELLED else text


async def context(session: AsyncSession, streams: Iterable[Stream]) -> tuple[dict[int, Room], dict[str, str]]:
    """Rooms by id and people's names for rendering ``streams``."""
    streams = list(streams)
    rooms = {r.id: r for r in await service.list_rooms(session, include_inactive=True) if r.id is not None}
    names = await service.names_of(session, [v for s in streams for v in s.people().values()])
    return rooms, names


def list_card(title: str, streams: list[Stream], rooms: dict[int, Room], names: dict[str, str], locale: str,
              tz: str | ZoneInfo, *, first: date, days: int, show_empty_days: bool = True,
              subtitle: str = "", template: str = "blue") -> Card:
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    card = Card(title, template=template, subtitle=subtitle)
    by_day: dict[date, list[Stream]] = {}
    for s in streams:
        by_day.setdefault(s.starts_at.astimezone(zone).date(), []).append(s)
    blocks = []
    for i in range(days):
        d = first + timedelta(days=i)
        lines = [stream_line(s, rooms, names, locale, zone) for s in by_day.get(d, [])]
        if lines or show_empty_days:
            blocks.append(f"**{day_label(d, locale)}**\n" + ("\n".join(lines) if lines else
                                                            t(locale, "schedule.no_streams_day")))
    if not streams:
        card.markdown(t(locale, "schedule.empty"))
    for block in blocks if streams else []:
        card.markdown(block)
    card.note(t(locale, "schedule.tz_note", tz=str(zone)) + " " + t(locale, "schedule.count", n=len(streams)))
    try:
        card.to_dict(strict=True)
    except CardTooLarge:  # a very busy month: fall back to counts per day
        card = Card(title, template=template, subtitle=subtitle)
        card.markdown("\n".join(f"**{day_label(d, locale)}** {len(v)}" for d, v in sorted(by_day.items())))
        card.note(t(locale, "schedule.too_many", n=len(streams)))
    return card


def _window(first: date, days: int, zone: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(first, time(0), tzinfo=zone)
    return start, datetime.combine(first + timedelta(days=days), time(0), tzinfo=zone)


async def period_card(session: AsyncSession, first: date, days: int, locale: str, tz: str = "Asia/Shanghai", *,
                      title: str, room_id: int | None = None, person: str | None = None,
                      include_cancelled: bool = False, show_empty_days: bool = True, subtitle: str = "") -> Card:
    zone = ZoneInfo(tz)
    start, end = _window(first, days, zone)
    streams = await service.streams_between(session, start, end, room_id=room_id, person=person,
                                            include_cancelled=include_cancelled)
    streams = [s for s in streams if first <= s.starts_at.astimezone(zone).date() < first + timedelta(days=days)]
    rooms, names = await context(session, streams)
    return list_card(title, streams, rooms, names, locale, zone, first=first, days=days,
                     show_empty_days=show_empty_days, subtitle=subtitle)


async def week_card(session: AsyncSession, start_date: date, locale: str, tz: str = "Asia/Shanghai", *,
                    room_id: int | None = None, person: str | None = None, include_cancelled: bool = False,
                    subtitle: str = "") -> Card:
    """Seven days from ``start_date`` (usually a Monday), grouped by day."""
    end = start_date + timedelta(days=6)
    title = t(locale, "schedule.week_title", start=f"{start_date:%m-%d}", end=f"{end:%m-%d}")
    card = await period_card(session, start_date, 7, locale, tz, title=title, room_id=room_id, person=person,
                             include_cancelled=include_cancelled, subtitle=subtitle)
    unknown = workdays.unknown_year_ahead(start_date)  # the coming year's 调休 not stored yet
    if unknown is not None:
        card.note(t(locale, "holidays.year_unknown", year=unknown))
    return card


async def month_card(session: AsyncSession, month_start: date, locale: str, tz: str = "Asia/Shanghai", *,
                     room_id: int | None = None, person: str | None = None, include_cancelled: bool = False,
                     subtitle: str = "") -> Card:
    """The calendar month of ``month_start``; days without streams are left out."""
    first = month_start.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    title = t(locale, "schedule.month_title", year=first.year, month=first.month)
    return await period_card(session, first, (following - first).days, locale, tz, title=title, room_id=room_id,
                             person=person, include_cancelled=include_cancelled, show_empty_days=False,
                             subtitle=subtitle)


def field_value(field: str, value: Any, rooms: dict[int, Room], names: dict[str, str], locale: str,
                zone: ZoneInfo, *, hide_sales: bool = False) -> str:
    if value in (None, ""):
        return "-"
    if hide_sales and field in MONEY_FIELDS:
        return t(locale, "data.masked")  # bot.data.visibility decides where sales figures may go
    if field in PERSON_FIELDS:
        return escape_md(names.get(value, value))
    if field == "room_id":
        room = rooms.get(value)
        return escape_md(room.name if room else str(value))
    if field in ("starts_at", "ends_at"):
        return f"{value.astimezone(zone):%m-%d %H:%M}"
    if field == "target_gmv":
        return format_amount(value, locale)
    if field == "status":
        return status_text(value, locale)
    return escape_md(str(value))


def detail_card(s: Stream, room: Room | None, names: dict[str, str], locale: str, tz: str | ZoneInfo,
                *, buttons: bool = True, hide_sales: bool = False) -> Card:
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    start = s.starts_at.astimezone(zone)
    title = t(locale, "schedule.detail_title", id=s.id, room=room.name if room else "?")
    card = Card(title, template="red" if s.status == LIVE else "grey" if s.status == CANCELLED else "blue",
                subtitle=f"{day_label(start.date(), locale)} {clock_span(s, zone)}")
    rooms = {room.id: room} if room else {}
    pairs = [(t(locale, "schedule.field." + f), field_value(f, getattr(s, f), rooms, names, locale, zone))
             for f in PERSON_FIELDS]
    pairs += [(t(locale, "schedule.field.brand"), escape_md(s.brand) or "-"),
              (t(locale, "schedule.field.theme"), escape_md(s.theme) or "-"),
              (t(locale, "schedule.field.target_gmv"),
               field_value("target_gmv", s.target_gmv, rooms, names, locale, zone, hide_sales=hide_sales)),
              (t(locale, "schedule.field.status"), status_text(s.status, locale))]
    if s.actual_start:
        pairs.append((t(locale, "schedule.actual"), f"{s.actual_start.astimezone(zone):%H:%M}–"
                      + (f"{s.actual_end.astimezone(zone):%H:%M}" if s.actual_end else "")))
    card.fields(pairs)
    if s.status == CANCELLED and s.cancel_reason:
        card.markdown(t(locale, "schedule.cancel_reason", reason=escape_md(s.cancel_reason)))
    if buttons and s.status == PENDING:
        card.buttons(Button(t(locale, "schedule.button_confirm"), CONFIRM(id=s.id),
                            kind="primary"))
    card.note(t(locale, "schedule.tz_note", tz=str(zone)))
    return card


def change_card(kind: str, s: Stream, rooms: dict[int, Room], names: dict[str, str], locale: str,
                tz: str | ZoneInfo, *, by: str, diff: dict[str, tuple[Any, Any]] | None = None,
                mentions: Iterable[str] = (), reason: str = "", hide_sales: bool = False) -> Card:
    """A short notice for the team group: added / changed / cancelled / confirmed, who did it,
    what changed (from → to), and @ the people concerned."""
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    room = rooms.get(s.room_id)
    template = {"added": "green", "cancelled": "red", "confirmed": "turquoise"}.get(kind, "orange")
    card = Card(t(locale, f"schedule.notice.{kind}", id=s.id, room=room.name if room else "?"), template=template)
    start = s.starts_at.astimezone(zone)
    lines = [f"**{day_label(start.date(), locale)} {clock_span(s, zone)}** · "
             + escape_md(room.name if room else "?")]
    if kind == "added":
        for f in (*PERSON_FIELDS, "brand", "theme", "target_gmv"):
            if getattr(s, f):
                value = field_value(f, getattr(s, f), rooms, names, locale, zone, hide_sales=hide_sales)
                lines.append(f"{t(locale, 'schedule.field.' + f)}：{value}")
    for f, (before, after) in (diff or {}).items():
        if f == "status" and kind in ("cancelled", "confirmed"):
            continue
        before_text = field_value(f, before, rooms, names, locale, zone, hide_sales=hide_sales)
        after_text = field_value(f, after, rooms, names, locale, zone, hide_sales=hide_sales)
        lines.append(f"{t(locale, 'schedule.field.' + f)}：{before_text} → **{after_text}**")
    if reason:
        lines.append(t(locale, "schedule.cancel_reason", reason=escape_md(reason)))
    card.markdown("\n".join(lines))
    people = list(dict.fromkeys(m for m in mentions if m))
    if people:
        card.markdown(" ".join(at(p) for p in people))
    card.note(t(locale, "schedule.by", who=escape_md(by)) + " · " + t(locale, "schedule.tz_note", tz=str(zone)))
    return card


def rooms_card(rooms: list[Room], locale: str, counts: dict[int, int] | None = None) -> Card:
    card = Card(t(locale, "schedule.rooms_title"), template="wathet")
    if not rooms:
        card.markdown(t(locale, "schedule.no_rooms"))
    for r in rooms:
        bits = [f"**{escape_md(r.name)}**"]
        if r.aliases:
            bits.append(t(locale, "schedule.room_aliases", aliases="、".join(escape_md(a) for a in r.aliases)))
        if r.platform:
            bits.append(escape_md(r.platform))
        bits.append(t(locale, "schedule.room_field_chat" if r.field_chat_id else "schedule.room_no_field_chat"))
        if counts is not None:
            bits.append(t(locale, "schedule.room_upcoming", n=counts.get(r.id, 0)))
        line = " · ".join(bits)
        if r.notes:
            line += f"\n<font color='grey'>{escape_md(r.notes)}</font>"
        card.markdown(line)
    return card


def staff_card(staff: list[StaffMember], locale: str, title_filter: str = "") -> Card:
    card = Card(t(locale, "schedule.people_title") + (f" · {title_filter}" if title_filter else ""), template="wathet")
    if not staff:
        card.markdown(t(locale, "schedule.people_empty"))
        return card
    by_title: dict[str, list[str]] = {}
    for s in staff:
        for title in s.titles or ["-"]:
            by_title.setdefault(title, []).append(escape_md(s.name))
    order = {title: i for i, title in enumerate(TITLES)}
    groups = sorted(by_title.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0]))
    card.markdown("\n".join(f"**{title}**：{'、'.join(names)}" for title, names in groups))
    card.note(t(locale, "schedule.people_count", n=len(staff)))
    return card


def import_card(result: Any, locale: str, *, source: str = "") -> Card:
    """The import summary: what was imported, which columns were ignored, which rows were
    rejected and why (then nothing was imported)."""
    ok = result.ok
    card = Card(t(locale, "schedule.import_title_ok" if ok else "schedule.import_title_failed"),
                template="green" if ok else "red", subtitle=source)
    if ok:
        card.markdown(t(locale, "schedule.import_summary", added=len(result.added), updated=len(result.updated),
                        unchanged=result.unchanged, rows=result.rows))
        if result.skipped:
            card.markdown(t(locale, "schedule.import_skipped", n=result.skipped))
        if result.added:
            shown = "、".join(f"#{i}" for i in result.added[:30]) + ("…" if len(result.added) > 30 else "")
            card.markdown(t(locale, "schedule.import_ids", ids=shown))
    else:
        card.markdown(t(locale, "schedule.import_nothing", bad=len(result.rejected), rows=result.rows))
        lines = [t(locale, "schedule.import_row", row=r.row, reason=escape_md(r.reason)) for r in result.rejected[:40]]
        if len(result.rejected) > 40:
            lines.append(t(locale, "schedule.import_more", n=len(result.rejected) - 40))
        card.markdown("\n".join(lines))
    if result.ignored:
        card.markdown(t(locale, "schedule.import_ignored", columns="、".join(escape_md(c) for c in result.ignored)))
    card.note(t(locale, "schedule.import_hint"))
    return card
