"""Building the briefing cards. What every group shares on one day (streams, yesterday's
results, open faults) is read once a minute at most and kept in memory, so a fan-out to many
groups costs two small queries per group (is it internal, its tasks), not a report each."""
from __future__ import annotations

import time
from weakref import WeakKeyDictionary
from datetime import date, datetime, timedelta
from typing import Callable
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import periods
from bot.briefing import promotions
from bot.cards import Card, escape_md
from bot.data import cards as data_cards, charts, fmt, report, visibility
from bot.data.report import StreamReport
from bot.faults.models import ACTIVE_STATES, Fault
from bot.norms.models import (CANCELLED as CP_CANCELLED, DONE as CP_DONE, OPEN as CP_OPEN, SKIPPED as CP_SKIPPED,
                              Checkpoint)
from bot.timeparse.workdays import holiday_name
from bot.schedule import service as schedule
from bot.schedule.models import CANCELLED, Room, Stream
from bot.tasks.models import OPEN as TASK_OPEN, Task

T = Callable[..., str]
WEEKDAYS = {"zh_CN": "一二三四五六日", "en_US": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]}
CP_ICONS = {CP_DONE: "✅", CP_OPEN: "⏳", CP_SKIPPED: "➖", CP_CANCELLED: "➖"}  # legend: briefing.cp_legend
SEVERITY_ORDER = {"P0": 0, "P1": 1, "P2": 2, "P3": 3}


class Shared:
    """One day's team-wide facts, read once."""

    def __init__(self) -> None:
        self.today: list[Stream] = []
        self.yesterday: list[StreamReport] = []
        self.rooms: dict[int, Room] = {}
        self.names: dict[str, str] = {}
        self.checkpoints: dict[int, list[Checkpoint]] = {}
        self.faults: list[Fault] = []


CACHE_SECONDS = 60.0
# One fan-out's shared part, per database: the groups subscribed to the same minute get one
# snapshot of the team's day, read once instead of once a group. Only a timer fan-out shares
# it; a briefing asked for in a chat always reads afresh (it may come seconds after a
# /数据 entry), and one database's day never answers for another's.
_fanouts: WeakKeyDictionary = WeakKeyDictionary()


async def shared(session: AsyncSession, day: date, tz: ZoneInfo, *, fanout: tuple | None = None) -> Shared:
    """The team's day as every group's briefing reads it. ``fanout`` is (database, due) of a
    timer fan-out whose groups share one read."""
    key = (day, str(tz), fanout[1]) if fanout else None
    if fanout is not None:
        hit = _fanouts.get(fanout[0])
        if hit is not None and hit[0] == key and time.monotonic() - hit[1] < CACHE_SECONDS:
            return hit[2]
    out = await _read(session, day, tz)
    if fanout is not None:
        _fanouts[fanout[0]] = (key, time.monotonic(), out)
    return out


async def _read(session: AsyncSession, day: date, tz: ZoneInfo) -> Shared:
    out = Shared()
    start, end = report.day_of(day, tz)
    out.today = [s for s in await schedule.streams_between(session, start, end) if s.starts_at >= start]
    ystart, yend = report.day_of(day - timedelta(days=1), tz)
    ystreams = list((await session.execute(select(Stream).where(
        Stream.starts_at >= ystart, Stream.starts_at < yend, Stream.status != CANCELLED)
        .order_by(Stream.starts_at))).scalars())
    out.yesterday = [await report.stream_report(session, s, max_points=120) for s in ystreams]
    out.rooms = {r.id: r for r in await schedule.list_rooms(session, include_inactive=True)}
    people = {s.streamer_id for s in out.today + ystreams if s.streamer_id}
    out.names = await schedule.names_of(session, people)
    if out.today:
        cps = (await session.execute(select(Checkpoint).where(Checkpoint.stream_id.in_([s.id for s in out.today]))))
        for cp in cps.scalars():
            out.checkpoints.setdefault(cp.stream_id, []).append(cp)
    out.faults = list((await session.execute(select(Fault).where(Fault.status.in_(ACTIVE_STATES)))).scalars())
    out.faults.sort(key=lambda f: (SEVERITY_ORDER.get(f.severity, 9), f.created_at))
    return out


def _mine(streams, chat_id: str, rooms: dict[int, Room], get=lambda s: s):
    """A group's streams: those it owns or whose room it controls; a group that owns none
    (a management group, say) sees the whole team's."""
    own = [x for x in streams if get(x).chat_id == chat_id
           or (rooms.get(get(x).room_id) and rooms[get(x).room_id].field_chat_id == chat_id)]
    return own or list(streams)


def _stream_line(t: T, s: Stream, sh: Shared, tz: ZoneInfo) -> str:
    room = sh.rooms.get(s.room_id)
    cps = sorted(sh.checkpoints.get(s.id, []), key=lambda c: c.due_at)
    marks = " ".join(f"{CP_ICONS.get(c.status, '·')}{t(f'briefing.cp.{c.kind}')}" for c in cps)
    who = sh.names.get(s.streamer_id or "", "-")
    return (f"- {schedule.span_text(s.starts_at, s.ends_at, tz)[6:]} **{escape_md(room.name if room else '?')}** "
            f"{escape_md(who)} `#{s.id}`" + (f"  {marks}" if marks else ""))


def _result_line(t: T, locale: str, rep: StreamReport, sh: Shared, masked: bool) -> str:
    room = sh.rooms.get(rep.stream.room_id)
    figs = rep.figures
    parts = [fmt.show(figs[m], locale, masked=masked) for m in ("gmv", "view_conv", "avg_dwell")]
    labels = [fmt.label(m, locale) for m in ("gmv", "view_conv", "avg_dwell")]
    body = t("briefing.sep").join(f"{a} {b}" for a, b in zip(labels, parts))
    missed = data_cards.misses(figs, locale, masked)
    head = f"**#{rep.stream.id} {escape_md(room.name if room else '?')}** {escape_md(sh.names.get(rep.stream.streamer_id or '', ''))}"
    line = t("briefing.result_line", head=head, body=body)
    return f"- <font color='red'>{line}</font>" if missed else f"- {line}"  # the list marker outside the font tag


async def _tasks(session: AsyncSession, chat_id: str, day_end: datetime, now: datetime) -> tuple[list[Task], list[Task]]:
    rows = list((await session.execute(select(Task).where(
        Task.chat_id == chat_id, Task.status.in_(TASK_OPEN), Task.due_at < day_end).order_by(Task.due_at))).scalars())
    return [r for r in rows if r.due_at >= now], [r for r in rows if r.due_at < now]


async def is_masked(session: AsyncSession, chat_id: str) -> bool:
    """Sales figures hidden in this group's briefing (the one decision: bot.data.visibility)."""
    return await visibility.sales_hidden(session, chat_id)


async def daily_card(session: AsyncSession, t: T, locale: str, chat_id: str, now: datetime, tz: ZoneInfo, *,
                     fanout: tuple | None = None) -> Card:
    day = now.astimezone(tz).date()
    sh = await shared(session, day, tz, fanout=fanout)
    masked = await is_masked(session, chat_id)
    weekday = WEEKDAYS.get(locale, WEEKDAYS["zh_CN"])[day.weekday()]
    holiday = holiday_name(day, locale)
    card = Card(t("briefing.title", date=f"{day.month}/{day.day}", weekday=weekday), template="wathet",
                subtitle=(holiday + " · " if holiday else "") + promo_text(t, locale, day))
    today = _mine(sh.today, chat_id, sh.rooms)
    head = t("briefing.today_head", n=len(today)) + (" " + t("briefing.cp_legend") if today else "")
    card.markdown(head + "\n" + (
        "\n".join(_stream_line(t, s, sh, tz) for s in today) if today else t("briefing.today_none")))
    yesterday = [r for r in _mine(sh.yesterday, chat_id, sh.rooms, get=lambda r: r.stream) if r.has_data]
    card.hr().markdown(t("briefing.yesterday_head") + "\n" + (
        "\n".join(_result_line(t, locale, r, sh, masked) for r in yesterday) if yesterday else t("briefing.yesterday_none")))
    if yesterday:
        top = max(yesterday, key=lambda r: (r.values.get("gmv") or 0, r.values.get("uv") or 0))
        room = sh.rooms.get(top.stream.room_id)
        line = charts.online_line(top.trend, tz, t("briefing.chart_online", id=top.stream.id, room=room.name if room else ""),
                                  t("data.metric.online"))
        if line:
            card.chart(line, aspect_ratio="16:9")
        bar = charts.product_conversion_bar(top.products, t("data.chart_product_conv", n=min(8, len(top.products))),
                                            limit=8)
        if bar:
            card.chart(bar, aspect_ratio="4:3")
    faults = sh.faults
    card.hr().markdown(t("briefing.faults_head", n=len(faults)) + ("\n" + "\n".join(
        f"- {f.severity} `#{f.id}` {escape_md(f.room_name or '')} {escape_md(f.text[:40])}" for f in faults[:5])
        if faults else " " + t("briefing.faults_none")))
    _, day_end = report.day_of(day, tz)
    due, overdue = await _tasks(session, chat_id, day_end, now)
    lines = [t("briefing.tasks_head", due=len(due), overdue=len(overdue))]
    lines += [f"- <font color='red'>{t('briefing.overdue')}</font> {t('briefing.task_ref', id=x.id)} {escape_md(x.title[:40])}" for x in overdue[:5]]
    lines += [f"- {x.due_at.astimezone(tz):%H:%M} {t('briefing.task_ref', id=x.id)} {escape_md(x.title[:40])}" for x in due[:5]]
    card.markdown("\n".join(lines))
    if masked and yesterday:
        card.note(t("data.masked_note"))
    return card


def promo_text(t: T, locale: str, day: date) -> str:
    name, when, days = promotions.upcoming(day, locale)
    return t("briefing.promo_today", name=name) if days == 0 else t("briefing.promo", name=name, days=days)


async def period_card(session: AsyncSession, t: T, locale: str, chat_id: str, now: datetime, tz: ZoneInfo,
                      kind: str) -> Card:
    """The weekly (last week, Monday) or monthly (last month, on the 1st) report with trends."""
    word = "上周" if kind == "weekly" else "上月"  # the period words every command reads (bot.periods)
    last = periods.parse(word, now.astimezone(tz).date())
    before_last = periods.parse(word, last.first) if last else None
    assert last is not None and before_last is not None
    start, end = last.bounds(tz)
    prev = before_last.bounds(tz)
    masked = await is_masked(session, chat_id)
    rep = await report.period_report(session, start, end, tz)
    before = await report.period_report(session, *prev, tz)
    fans = await report.month_fans(session, start, end) if kind == "monthly" else None
    operator = await report.operator_kpis(session, start, end, now)
    title = t(f"briefing.{kind}_title", start=f"{start.month}/{start.day}",
              end=f"{(end - timedelta(days=1)).month}/{(end - timedelta(days=1)).day}")
    card = data_cards.period_card(t, locale, rep, tz, title=title, masked=masked, fans=fans, operator=operator)
    trend = _trend_lines(t, locale, rep, before, masked)
    if trend:
        card.elements.insert(0, {"tag": "markdown", "content": trend})
    return card


def _trend_lines(t: T, locale: str, now_rep, before_rep, masked: bool) -> str:
    out = []
    for metric in ("gmv", "view_conv", "avg_dwell", "new_fans"):
        if masked and metric == "gmv":
            continue
        a, b = now_rep.figures[metric].value, before_rep.figures[metric].value
        if a is None or not b:
            continue
        change = a / b - 1
        arrow = "↑" if change > 0 else "↓" if change < 0 else "→"
        out.append(f"{fmt.label(metric, locale)} {arrow}{abs(change) * 100:.0f}%")
    return t("briefing.trend", items="；".join(out)) if out else ""
