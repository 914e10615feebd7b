"""/日报 (/briefing): the daily stream briefing, now or every morning.

    /日报                                   the briefing now
    /日报 订阅 [09:30] [节假日不发|节假日照常] [不要周报] [不要月报]   every day at that time (ops)
    /日报 退订                               stop (ops)
    /日报 状态                               this group's subscription
    /日报 周报 | 月报                         last week's / last month's report now
"""
from __future__ import annotations

import re

from bot import roles
from bot.briefing import build, fanout
from bot.commands.registry import command
from bot.context import Ctx
from bot.errors import UsageError, UserError
from bot.reminders.timeparse import format_local

SUBSCRIBE = {"订阅", "subscribe", "开启"}
UNSUBSCRIBE = {"退订", "取消订阅", "unsubscribe", "关闭"}
STATUS = {"状态", "status", "设置"}
WEEKLY = {"周报", "weekly"}
MONTHLY = {"月报", "monthly"}
TIME = re.compile(r"^(\d{1,2})[:：点](\d{2})?分?$")
SKIP_WORDS = ("节假日不发", "节假日跳过", "假日不发", "skip-holidays")
KEEP_WORDS = ("节假日照常", "节假日也发", "keep-holidays")



@command("日报", "briefing", examples_en=["/briefing", "/briefing subscribe 09:30", "/briefing subscribe 08:45 skip-holidays", "/briefing weekly", "/briefing unsubscribe"],
         summary=("每日直播简报：今天的场次、昨天的成绩、故障和任务", "Daily briefing: today's streams, yesterday's results, faults, tasks"),
         usage=("/日报 ｜ /日报 订阅 [09:30] [节假日不发|节假日照常] [不要周报] [不要月报] ｜ /日报 退订 ｜ /日报 状态 ｜ /日报 周报 ｜ /日报 月报",
                "/briefing | /briefing subscribe [09:30] [skip-holidays|keep-holidays] | /briefing unsubscribe | "
                "/briefing status | /briefing weekly | /briefing monthly"),
         examples=["/日报", "/日报 订阅 09:30", "/日报 订阅 08:45 节假日不发", "/日报 周报", "/日报 退订"],
         aliases=("简报", "daily"), group=("数据", "Data"), order=51)
async def briefing_command(ctx: Ctx, args: str) -> None:
    words = args.split()
    head = words[0].lower() if words else ""
    if not head:
        await ctx.reply(card=await build.daily_card(ctx.session, ctx.t, ctx.locale, ctx.chat_id, ctx.now(), ctx.svc.tz))
    elif head in SUBSCRIBE:
        await subscribe(ctx, words[1:])
    elif head in UNSUBSCRIBE:
        ctx.require(roles.OPS)
        done = await fanout.unsubscribe(ctx.session, ctx.chat_id)
        await ctx.reply(ctx.t("briefing.unsubscribed" if done else "briefing.not_subscribed"))
    elif head in STATUS:
        await status(ctx)
    elif head in WEEKLY or head in MONTHLY:
        kind = "weekly" if head in WEEKLY else "monthly"
        await ctx.reply(card=await build.period_card(ctx.session, ctx.t, ctx.locale, ctx.chat_id, ctx.now(), ctx.svc.tz, kind))
    else:
        raise UsageError(ctx.t("briefing.usage"))


async def subscribe(ctx: Ctx, words: list[str]) -> None:
    ctx.require(roles.OPS)
    at, holidays, weekly, monthly = "09:30", None, True, True
    for word in words:
        low = word.lower()
        found = TIME.match(low)
        if found:
            hh, mm = int(found.group(1)), int(found.group(2) or 0)
            if hh > 23 or mm > 59:
                raise UserError("briefing.bad_time", value=word[:10])
            at = f"{hh:02d}:{mm:02d}"
        elif low in SKIP_WORDS:
            holidays = "skip"
        elif low in KEEP_WORDS:
            holidays = "keep"
        elif low in ("不要周报", "no-weekly"):
            weekly = False
        elif low in ("不要月报", "no-monthly"):
            monthly = False
        elif any(ch.isdigit() for ch in low):
            raise UserError("briefing.bad_time", value=word[:10])
        else:
            raise UsageError(ctx.t("briefing.usage"))
    current = await fanout.get(ctx.session, ctx.chat_id)
    if holidays is None:
        holidays = current.holidays if current is not None else ctx.svc.settings.extra.get("BOT_BRIEFING_HOLIDAYS", "keep")
        holidays = holidays if holidays in ("keep", "skip") else "keep"
    sub = await fanout.subscribe(ctx.session, ctx.chat_id, at=at, holidays=holidays, weekly=weekly, monthly=monthly,
                                 by=ctx.user_id, now=ctx.now(), tz=ctx.svc.tz)
    await ctx.reply(ctx.t("briefing.subscribed", at=sub.at, holidays=ctx.t(f"briefing.holidays.{sub.holidays}")))


async def status(ctx: Ctx) -> None:
    sub = await fanout.get(ctx.session, ctx.chat_id)
    if sub is None or not sub.active:
        await ctx.reply(ctx.t("briefing.not_subscribed"))
        return
    nxt = fanout.next_due(sub, ctx.now(), ctx.svc.tz)
    on = {True: ctx.t("briefing.on"), False: ctx.t("briefing.off")}
    await ctx.reply(ctx.t("briefing.status", at=sub.at, holidays=ctx.t(f"briefing.holidays.{sub.holidays}"),
                          weekly=on[sub.weekly], monthly=on[sub.monthly],
                          next=format_local(nxt, ctx.svc.settings.timezone, ctx.locale)))
