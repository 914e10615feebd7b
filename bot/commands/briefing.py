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
from bot.access import Scope
from bot.commands.registry import command_group
from bot.context import Ctx
from bot.errors import UsageError, UserError
from bot.feature_settings import BriefingSettings, of
from bot.timeparse.parser import format_local

TIME = re.compile(r"^(\d{1,2})[:：点](\d{2})?分?$")
SKIP_WORDS = ("节假日不发", "节假日跳过", "假日不发", "skip-holidays")
KEEP_WORDS = ("节假日照常", "节假日也发", "keep-holidays")



BRIEFING = command_group("日报", "briefing", summary=("每日直播简报：今天的场次、昨天的成绩、故障和任务",
                                                    "Daily briefing: today's streams, yesterday's results, faults, tasks"),
                         aliases=("简报", "daily"), group=("数据", "Data"), order=51)


@BRIEFING.verb("现在", "now", default=True, scope=Scope.TEAM, accepts=lambda rest: not rest.strip(),
               summary=("现在发一份简报", "The briefing now"), examples=["/日报"], examples_en=["/briefing"])
async def briefing_now(ctx: Ctx, args: str) -> None:
    if args.strip():
        raise UsageError(ctx.t("briefing.usage"))
    await ctx.reply(card=await build.daily_card(ctx.session, ctx.t, ctx.locale, ctx.chat_id, ctx.now(), ctx.svc.tz))


@BRIEFING.verb("订阅", "subscribe", aliases=("开启",), role=roles.OPS, scope=Scope.TEAM,
               args=("[09:30] [节假日不发|节假日照常] [不要周报] [不要月报]", "[09:30] [skip-holidays|keep-holidays] [no-weekly]"),
               summary=("每天定时发到本群", "Every day at that time"), examples=["/日报 订阅 09:30", "/日报 订阅 08:45 节假日不发"],
               examples_en=["/briefing subscribe 09:30", "/briefing subscribe 08:45 skip-holidays"])
async def subscribe_verb(ctx: Ctx, rest: str) -> None:
    await subscribe(ctx, rest.split())


@BRIEFING.verb("退订", "unsubscribe", aliases=("取消订阅", "关闭"), role=roles.OPS, scope=Scope.TEAM,
               summary=("不再定时发", "Stop"), examples=["/日报 退订"], examples_en=["/briefing unsubscribe"])
async def unsubscribe_verb(ctx: Ctx, rest: str) -> None:
    done = await fanout.unsubscribe(ctx.session, ctx.chat_id)
    await ctx.reply(ctx.t("briefing.unsubscribed" if done else "briefing.not_subscribed"))


@BRIEFING.verb("状态", "status", aliases=("设置",), scope=Scope.TEAM, summary=("本群的订阅", "This chat's subscription"),
               examples=["/日报 状态"], examples_en=["/briefing status"])
async def status_verb(ctx: Ctx, rest: str) -> None:
    await status(ctx)


@BRIEFING.verb("周报", "weekly", scope=Scope.TEAM, summary=("上周的周报", "Last week's report"),
               examples=["/日报 周报"], examples_en=["/briefing weekly"])
async def weekly_verb(ctx: Ctx, rest: str) -> None:
    await ctx.reply(card=await build.period_card(ctx.session, ctx.t, ctx.locale, ctx.chat_id, ctx.now(), ctx.svc.tz,
                                                 "weekly"))


@BRIEFING.verb("月报", "monthly", scope=Scope.TEAM, summary=("上月的月报", "Last month's report"),
               examples=["/日报 月报"], examples_en=["/briefing monthly"])
async def monthly_verb(ctx: Ctx, rest: str) -> None:
    await ctx.reply(card=await build.period_card(ctx.session, ctx.t, ctx.locale, ctx.chat_id, ctx.now(), ctx.svc.tz,
                                                 "monthly"))


async def subscribe(ctx: Ctx, words: list[str]) -> None:
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
        holidays = current.holidays if current is not None else of(ctx.svc.settings, BriefingSettings).briefing_holidays
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
