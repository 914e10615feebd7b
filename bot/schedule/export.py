"""Schedule exports: CSV in the booking-sheet layout (re-importable, UTF-8 with BOM so Excel
reads the Chinese, written by bot.csvsafe so no cell runs as a formula) and iCalendar (.ics,
RFC 5545) for phone and desktop calendars. Where sales figures are hidden (bot.data.visibility)
neither carries the 目标GMV.

The .ics is written here rather than with the ``icalendar`` package: one VEVENT per stream
with UTC times, escaping and 75-octet line folding is all it takes.
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterable
from zoneinfo import ZoneInfo

from bot import csvsafe
from bot.i18n import t
from bot.schedule.models import CANCELLED, PENDING, PERSON_FIELDS, Room, Stream

CSV_HEADER = ("编号", "日期", "开始时间", "结束时间", "直播间", "主播", "助播", "场控", "中控", "值班技术",
              "品牌", "主题", "目标GMV", "状态")
STATUS_ZH = {"pending": "待确认", "confirmed": "已确认", "cancelled": "已取消", "live": "直播中", "ended": "已结束"}


def to_csv(streams: Iterable[Stream], rooms: dict[int, Room], names: dict[str, str], tz: str | ZoneInfo, *,
           hide_sales: bool = False) -> bytes:
    """The booking sheet (bot.csvsafe: formulas neutralised). ``hide_sales`` leaves the 目标GMV
    column out (not empty: a re-import must not clear the targets)."""
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    keep = [i for i, h in enumerate(CSV_HEADER) if not (hide_sales and h == "目标GMV")]
    rows = []
    for s in streams:
        start, end = s.starts_at.astimezone(zone), s.ends_at.astimezone(zone)
        room = rooms.get(s.room_id)
        people = [names.get(getattr(s, f), "") if getattr(s, f) else "" for f in PERSON_FIELDS]
        row = [f"#{s.id}", f"{start:%Y-%m-%d}", f"{start:%H:%M}", f"{end:%H:%M}", room.name if room else "", *people,
               s.brand, s.theme, s.target_gmv, STATUS_ZH.get(s.status, s.status)]
        rows.append([row[i] for i in keep])
    return csvsafe.to_bytes([CSV_HEADER[i] for i in keep], rows)


def _escape(text: str) -> str:
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n"))


def _fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space (RFC 5545 3.1),
    never splitting a UTF-8 character."""
    out, current, size = [], "", 0
    for ch in line:
        width = len(ch.encode("utf-8"))
        if size + width > 75:
            out.append(current)
            current, size = " ", 1
        current += ch
        size += width
    out.append(current)
    return "\r\n".join(out)


def _utc(dt: datetime) -> str:
    return dt.astimezone(ZoneInfo("UTC")).strftime("%Y%m%dT%H%M%SZ")


def to_ics(streams: Iterable[Stream], rooms: dict[int, Room], names: dict[str, str], *, now: datetime,
           locale: str = "zh_CN", calendar_name: str = "", host: str = "liveops", hide_sales: bool = False) -> bytes:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//LiveOps//Schedule//ZH", "CALSCALE:GREGORIAN",
             "METHOD:PUBLISH"]
    if calendar_name:
        lines.append(f"X-WR-CALNAME:{_escape(calendar_name)}")
    for s in streams:
        room = rooms.get(s.room_id)
        room_name = room.name if room else "?"
        summary = " · ".join(x for x in (room_name, names.get(s.streamer_id or "", ""), s.brand, s.theme) if x)
        details = [f"{t(locale, 'schedule.field.' + f)}: {names.get(getattr(s, f), '')}"
                   for f in PERSON_FIELDS if getattr(s, f)]
        if s.target_gmv is not None and not hide_sales:
            details.append(f"{t(locale, 'schedule.field.target_gmv')}: {s.target_gmv}")
        details.append(f"{t(locale, 'schedule.field.status')}: {t(locale, 'schedule.status.' + s.status)}")
        status = {CANCELLED: "CANCELLED", PENDING: "TENTATIVE"}.get(s.status, "CONFIRMED")
        lines += ["BEGIN:VEVENT", f"UID:stream-{s.id}@{host}", f"DTSTAMP:{_utc(now)}",
                  f"DTSTART:{_utc(s.starts_at)}", f"DTEND:{_utc(s.ends_at)}",
                  f"SUMMARY:#{s.id} {_escape(summary)}", f"LOCATION:{_escape(room_name)}",
                  f"DESCRIPTION:{_escape(chr(10).join(details))}", f"STATUS:{status}",
                  f"LAST-MODIFIED:{_utc(s.updated_at)}", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(_fold(line) for line in lines) + "\r\n").encode("utf-8")
