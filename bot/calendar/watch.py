"""Hand edits in the stream calendar: noticed at the next sync, reported to ops, undone.

Every ``sync_minutes`` (10 by default, ``/排期 日历 同步 10``) the bot lists the events of each of
the team's calendars (获取日程列表, a window from yesterday to 60 days ahead) and compares each
stream's event with what it sent last. The schedule in the bot is the source of truth: an
event moved, retitled or deleted by hand is put back (patched, or made again) and ops are told
in the team group, once per hand edit, with what the calendar said — and, for a moved event, a
button that makes the calendar's time the stream's time (a normal edit: conflict checks and
change notices as if typed). Events with a change of ours still on its way are skipped.
"""
from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import roles
from bot.access import Scope
from bot.calendar import sync
from bot.calendar.models import ACTIVE, READY, CalendarSettings, StreamCalendar, StreamEvent
from bot.cards import Button, Card, escape_md
from bot.commands.registry import card_action
from bot.context import Ctx
from bot.errors import UserError
from bot.feishu.events import CardAction
from bot import timers
from bot.timers.recurrence import Recurrence
from bot.schedule import service
from bot.schedule.models import CANCELLED, ENDED, Stream
from bot.store.models import OutboxMessage

log = logging.getLogger("bot.calendar")
KIND = "calendar.watch"
MAX_PAGES = 20
MAX_BUTTONS = 5
ADOPT = card_action("calendar.adopt", label=("按日历改排期", "use the calendar's time"), role=roles.OPS,
                    scope=Scope.TEAM)


def timer_key(chat_id: str) -> str:
    return f"{KIND}:{chat_id}"


async def plan(session: AsyncSession, settings: CalendarSettings, now: datetime) -> None:
    minutes = max(1, settings.sync_minutes)
    await timers.schedule(session, key=timer_key(settings.chat_id), kind=KIND, due=now + timedelta(minutes=minutes),
                          rule=Recurrence.interval(minutes, tz="UTC"), chat_id=settings.chat_id,
                          ref=timer_key(settings.chat_id), stale_after=timedelta(minutes=minutes))


async def list_events(ctx: Ctx, calendar_id: str, start: datetime, end: datetime) -> dict[str, dict] | None:
    """The calendar's events overlapping [start, end], by event id; None when it cannot be read."""
    out: dict[str, dict] = {}
    token = ""
    for _ in range(MAX_PAGES):
        query = {"start_time": str(int(start.timestamp())), "end_time": str(int(end.timestamp())),
                 "page_size": "100"}
        if token:
            query["page_token"] = token
        result = await ctx.svc.platform.call("GET", "/open-apis/calendar/v4/calendars/:calendar_id/events",
                                             paths={"calendar_id": calendar_id}, query=query)
        if not result.ok:
            log.info("calendar not readable", extra={"calendar_id": calendar_id, "code": result.code})
            return None
        for item in result.data.get("items") or []:
            if isinstance(item, dict) and item.get("event_id"):
                out[item["event_id"]] = item
        token = result.data.get("page_token") or ""
        if not result.data.get("has_more") or not token:
            break
    return out


def observed(remote: dict) -> dict[str, Any]:
    def seconds(t: Any) -> int | None:
        try:
            return int((t or {}).get("timestamp"))
        except (TypeError, ValueError):
            return None

    return {"summary": remote.get("summary", ""), "description": remote.get("description", ""),
            "start": seconds(remote.get("start_time")), "end": seconds(remote.get("end_time")),
            "cancelled": remote.get("status") == "cancelled"}


def fingerprint(seen: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(seen, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:32]


async def in_flight(session: AsyncSession, stream_id: int) -> bool:
    found = await session.execute(select(OutboxMessage.id).where(
        OutboxMessage.key.startswith(f"cal-event:{stream_id}:", autoescape=True),
        OutboxMessage.status.in_(("pending", "sending"))).limit(1))
    return found.first() is not None


@timers.handler(KIND)
async def watch(ctx: Ctx, timer: timers.Timer, *, due: datetime, late: bool) -> None:
    settings = await sync.settings_for(ctx.session, timer.chat_id)
    if not settings.enabled:
        return
    now = ctx.now()
    edits: list[tuple[Stream, dict, dict]] = []
    cals = (await ctx.session.execute(select(StreamCalendar).where(
        StreamCalendar.chat_id == settings.chat_id, StreamCalendar.status == READY))).scalars().all()
    for cal in cals:
        remote = await list_events(ctx, cal.calendar_id or "", now - timedelta(days=1), now + timedelta(days=60))
        if remote is None:
            continue
        events = (await ctx.session.execute(select(StreamEvent).where(
            StreamEvent.scope_key == cal.scope_key, StreamEvent.state == ACTIVE,
            StreamEvent.event_id.is_not(None)))).scalars().all()
        for ev in events:
            stream = await service.stream_by_id(ctx.session, ev.stream_id)
            if (stream is None or stream.status in (CANCELLED, ENDED) or stream.ends_at < now
                    or ev.event_id not in remote or await in_flight(ctx.session, ev.stream_id)):
                continue
            seen = observed(remote[ev.event_id])
            sent = ev.sent or {}
            if not seen["cancelled"] and all(seen[k] == sent.get(k) for k in ("summary", "description", "start", "end")):
                continue
            fp = fingerprint(seen)
            if (ev.seen or {}).get("fp") == fp:
                continue  # reported already (and the fix is on its way or was refused)
            ev.seen = {**(ev.seen or {}), "fp": fp}
            edits.append((stream, sent, seen))
            if seen["cancelled"]:
                await sync.recreate(ctx.session, ev, stream, now, default_locale=ctx.svc.settings.locale,
                                    tz=ctx.svc.settings.timezone)
            else:
                await sync.restore(ctx.session, ev, stream, now, default_locale=ctx.svc.settings.locale,
                                   tz=ctx.svc.settings.timezone)
    if edits:
        await ctx.send(settings.chat_id, card=await report_card(ctx, edits))


def _span(ctx: Ctx, start: int | None, end: int | None) -> str:
    if start is None or end is None:
        return "?"
    zone = ctx.svc.tz
    return service.span_text(datetime.fromtimestamp(start, zone), datetime.fromtimestamp(end, zone), zone)


async def report_card(ctx: Ctx, edits: list[tuple[Stream, dict, dict]]) -> Card:
    card = Card(ctx.t("cal.edits_title"), template="orange")
    lines: list[str] = []
    buttons: list[dict] = []
    for stream, sent, seen in edits:
        head = ctx.t("cal.edit_head", id=stream.id, title=escape_md(sent.get("summary", "")))
        if seen["cancelled"]:
            what = [ctx.t("cal.edit_deleted")]
        else:
            what = []
            if (seen["start"], seen["end"]) != (sent.get("start"), sent.get("end")):
                what.append(ctx.t("cal.edit_moved", calendar=_span(ctx, seen["start"], seen["end"]),
                                  schedule=_span(ctx, sent.get("start"), sent.get("end"))))
                if len(buttons) < MAX_BUTTONS and seen["start"] and seen["end"]:
                    buttons.append(Button(ctx.t("cal.adopt_button", id=stream.id),
                                          ADOPT(id=stream.id, s=seen["start"], e=seen["end"])))
            if seen["summary"] != sent.get("summary"):
                what.append(ctx.t("cal.edit_title", title=escape_md(seen["summary"][:60])))
            if seen["description"] != sent.get("description"):
                what.append(ctx.t("cal.edit_description"))
        lines.append(f"- {head}：{'；'.join(what)}")
    card.markdown("\n".join(lines))
    card.markdown(ctx.t("cal.edits_truth"))
    card.buttons(*buttons)
    return card


@ADOPT.handle
async def adopt(ctx: Ctx, act: CardAction) -> None:
    """Make the calendar's time the stream's time: a normal edit (conflicts refused, notices sent)."""
    from bot.commands.schedule import announce

    try:
        stream = await service.stream_by_id(ctx.session, int(act.value.get("id", 0)))
        start, end = int(act.value.get("s", 0)), int(act.value.get("e", 0))
    except (TypeError, ValueError):
        stream, start, end = None, 0, 0
    if stream is None or not start or not end:
        raise UserError("access.stale_button")
    zone = ctx.svc.tz
    changes = {"starts_at": datetime.fromtimestamp(start, zone), "ends_at": datetime.fromtimestamp(end, zone)}
    before = stream.people()
    diff = await service.edit_stream(ctx.session, stream, changes, by=ctx.user_id, now=ctx.now(),
                                     tz=ctx.svc.settings.timezone)
    if not diff:
        ctx.toast(ctx.t("schedule.no_change", id=stream.id))
        return
    ctx.toast(ctx.t("cal.adopted", id=stream.id), "success")
    await announce(ctx, "changed", stream, diff=diff, also=before.values())
