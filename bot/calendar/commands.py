"""/排期 日历: the stream calendar — see it, turn it on, subscribe people, set the reminder.

    /排期 日历                       where it is, how many streams are in it, who may change it
    /排期 日历 开 [每个直播间]         (ops) create it as the app and put every upcoming stream in
    /排期 日历 关                     (ops) stop keeping it in step (nothing is deleted)
    /排期 日历 订阅 @某人 …            (ops) let people see it (an ACL with role reader)
    /排期 日历 提醒 30                (ops) the events' reminder, minutes before the start
    /排期 日历 同步 10                (ops) how often hand edits are looked for, in minutes
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot import roles
from bot.access import Scope
from bot.calendar import sync, watch
from bot.calendar.models import ACTIVE, READY, StreamCalendar, StreamEvent
from bot.cards import Card, escape_md
from bot.commands.schedule import SCHEDULE, team_chat
from bot.context import Ctx
from bot.errors import UsageError, UserError
from bot.people import names as names_of
from bot.schedule import service

ON = {"开", "开启", "打开", "on", "enable"}
OFF = {"关", "关闭", "off", "disable"}
PER_ROOM = {"每个直播间", "按直播间", "分直播间", "per-room", "rooms"}
SUBSCRIBE = {"订阅", "subscribe", "共享", "share"}
REMIND = {"提醒", "reminder", "remind"}
SYNC = {"同步", "sync"}
CALENDAR_APP = "https://applink.feishu.cn/client/calendar/open"  # AppLink: 打开飞书日历


@SCHEDULE.verb("日历", "calendar", when=lambda rest: not rest.strip(), scope=Scope.TEAM,
               summary=("排期日历：链接、状态", "The stream calendar: link and state"),
               examples=["/排期 日历"], examples_en=["/schedule calendar"])
async def show_verb(ctx: Ctx, rest: str) -> None:
    await show(ctx)


@SCHEDULE.verb("日历", "calendar", role=roles.OPS, scope=Scope.TEAM,
               args=("开 [每个直播间] ｜ 关 ｜ 订阅 @某人 ｜ 提醒 30 ｜ 同步 10",
                     "on [per-room] | off | subscribe @someone | reminder 30 | sync 10"),
               summary=("开关排期日历、订阅、提醒", "Turn the calendar on, subscribe people, set the reminder"),
               examples=["/排期 日历 开", "/排期 日历 订阅 @李主播"], examples_en=["/schedule calendar on"])
async def change_verb(ctx: Ctx, rest: str) -> None:
    await change(ctx, rest)


async def show(ctx: Ctx) -> None:
    chat = await team_chat(ctx)
    settings = await sync.settings_for(ctx.session, chat)
    card = Card(ctx.t("cal.show_title"), template="blue")
    if not settings.enabled:
        card.markdown(ctx.t("cal.show_off", cmd=ctx.cmd("/排期 日历 开")))
        await ctx.reply(card=card)
        return
    cals = (await ctx.session.execute(select(StreamCalendar).where(StreamCalendar.chat_id == chat)
                                      .order_by(StreamCalendar.id))).scalars().all()
    lines = []
    for cal in cals:
        count = (await ctx.session.execute(select(func.count()).select_from(StreamEvent).where(
            StreamEvent.scope_key == cal.scope_key, StreamEvent.state == ACTIVE))).scalar()
        state = ctx.t("cal.state_ready" if cal.status == READY else "cal.state_pending")
        lines.append(ctx.t("cal.show_line", name=escape_md(cal.summary), state=state, n=count,
                           id=cal.calendar_id or "-"))
    card.markdown("\n".join(lines) or ctx.t("cal.show_none"))
    card.markdown(ctx.t("cal.show_body", link=CALENDAR_APP, minutes=settings.reminder_minutes,
                        sync=settings.sync_minutes, per_room=ctx.t("cal.per_room" if settings.per_room else "cal.per_team"),
                        cmd=ctx.cmd("/排期 日历 订阅 @某人")))
    card.note(ctx.t("cal.show_truth"))
    await ctx.reply(card=card)


async def change(ctx: Ctx, rest: str) -> None:
    words = rest.split()
    if not words:
        raise UsageError(ctx.t("cal.usage"))
    head = words[0].lower()
    chat = await team_chat(ctx)
    now = ctx.now()
    if head in ON or head in PER_ROOM:
        per_room = head in PER_ROOM or any(w in PER_ROOM for w in words[1:])
        settings = await sync.save_settings(ctx.session, chat, by=ctx.user_id, now=now, enabled=True, per_room=per_room)
        await watch.plan(ctx.session, settings, now)
        made = await enable(ctx, settings)
        await ctx.reply(ctx.t("cal.enabled", n=made, per_room=ctx.t("cal.per_room" if per_room else "cal.per_team")))
    elif head in OFF:
        await sync.save_settings(ctx.session, chat, by=ctx.user_id, now=now, enabled=False)
        from bot import timers

        await timers.cancel(ctx.session, watch.timer_key(chat))
        await ctx.reply(ctx.t("cal.disabled"))
    elif head in SUBSCRIBE:
        await subscribe(ctx, chat, " ".join(words[1:]))
    elif head in REMIND or head in SYNC:
        value = words[1] if len(words) > 1 else ""
        limit = sync.MAX_REMINDER if head in REMIND else 24 * 60
        if not value.isdigit() or not (0 if head in REMIND else 1) <= int(value) <= limit:
            raise UserError("cal.bad_minutes", value=value[:10] or "-", max=limit)
        name = "reminder_minutes" if head in REMIND else "sync_minutes"
        settings = await sync.save_settings(ctx.session, chat, by=ctx.user_id, now=now, **{name: int(value)})
        if head in SYNC and settings.enabled:
            await watch.plan(ctx.session, settings, now)
        await ctx.reply(ctx.t("cal.reminder_set" if head in REMIND else "cal.sync_set", minutes=int(value)))
    else:
        raise UsageError(ctx.t("cal.usage"))


async def enable(ctx: Ctx, settings) -> int:
    """Ask for the calendars the team needs (its upcoming streams decide which rooms), subscribe
    the ops who turned it on, and queue every upcoming stream whose calendar is ready."""
    now = ctx.now()
    locale = await sync.locale_of(ctx.session, settings.chat_id, ctx.svc.settings.locale)
    await sync.repair(ctx.session, settings.chat_id, locale)  # e.g. turned on again once the scope is granted
    streams = [s for s in await service.streams_between(ctx.session, now, now + timedelta(days=400))
               if s.chat_id == settings.chat_id]
    rooms = {s.room_id: await service.room_by_id(ctx.session, s.room_id) for s in streams}
    wanted = list(rooms.values()) if settings.per_room else [None]
    for room in wanted or [None]:
        cal = await sync.calendar_for(ctx.session, settings, room, locale=locale, now=now)
        await sync.subscribe(ctx.session, cal, ctx.user_id)
        if cal.status == READY:
            await sync.backfill(ctx.session, cal, now, default_locale=ctx.svc.settings.locale,
                                tz=ctx.svc.settings.timezone)
    return len(streams)


async def subscribe(ctx: Ctx, chat: str, text: str) -> None:
    from bot.tasks.parse import owners_in

    people, _ = await owners_in(ctx, text, chat_id=chat, require_member=False)
    if not people:
        raise UsageError(ctx.t("cal.subscribe_hint"))
    settings = await sync.settings_for(ctx.session, chat)
    if not settings.enabled:
        raise UserError("cal.not_enabled", cmd=ctx.cmd("/排期 日历 开"))
    cals = (await ctx.session.execute(select(StreamCalendar).where(StreamCalendar.chat_id == chat))).scalars().all()
    for cal in cals:
        for open_id in people:
            await sync.subscribe(ctx.session, cal, open_id)
    names = await names_of(ctx, people)
    await ctx.reply(ctx.t("cal.subscribed", who="、".join(names[p] for p in people), n=len(cals)))
