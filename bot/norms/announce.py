"""Schedule announcements and the optional norm reminders, as repeating timers.

* ``norms:announce:weekly`` (default Sunday 20:00): the week card of next week
  (bot.schedule.cards.week_card); ``norms:announce:monthly`` (default the 1st, 09:00): the
  month card of that month (of next month when the day is not the 1st).
* ``norms:optional:{selfeval|learning|innovation|topic}``: month-end self-evaluation form
  (last day 17:00), monthly learning report of 5 top rooms (25th 10:00), quarterly
  innovation (1st of Jan/Apr/Jul/Oct 10:00), weekly topic meeting (Monday 10:00), quarterly
  review (1st of Jan/Apr/Jul/Oct 09:30, with the past quarter's KPI card) — only
  when the team switched them on (/规范 开启 自评表).

They go to the chats of kind "team"; when the bot knows none, to the team groups of the
streams it has. ``ensure`` (re)plans them from the settings; it runs on every schedule
change and on /规范, so a team that uses the schedule gets them without a start-up hook.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Ctx
from bot.norms import config
from bot import timers
from bot.timers.recurrence import LAST_DAY, Recurrence, next_fire
from bot.schedule import cards as schedule_cards
from bot.schedule.models import Stream
from bot.store.models import Chat

KIND = "norms.announce"
PREFIX = "norms:"
OPTIONAL_RULES = {
    "selfeval": lambda tz: Recurrence.monthly(LAST_DAY, time(17), tz=tz),
    "learning": lambda tz: Recurrence.monthly(25, time(10), tz=tz),
    "innovation": lambda tz: Recurrence.from_cron("0 10 1 1,4,7,10 *", tz=tz),
    "topic": lambda tz: Recurrence.weekly([0], time(10), tz=tz),
    "quarterly": lambda tz: Recurrence.from_cron("30 9 1 1,4,7,10 *", tz=tz),
}


def announce_rule(key: str, value: str, tz: str) -> Recurrence | None:
    """"7 20:00" → weekly Sunday 20:00; "1 09:00" → monthly 1st 09:00; "" → None."""
    if not value:
        return None
    day, hm = value.split()
    at = time(int(hm[:2]), int(hm[3:5]))
    if key == "weekly":
        return Recurrence.weekly([int(day) - 1], at, tz=tz)
    return Recurrence.monthly(int(day), at, tz=tz)


def wanted(cfg: dict, tz: str) -> dict[str, Recurrence | None]:
    out: dict[str, Recurrence | None] = {
        f"announce:{k}": announce_rule(k, cfg[f"announce.{k}"], tz) for k in ("weekly", "monthly")}
    for name, make in OPTIONAL_RULES.items():
        out[f"optional:{name}"] = make(tz) if cfg[f"optional.{name}"] else None
    return out


async def ensure(session: AsyncSession, now: datetime, tz: str = "Asia/Shanghai") -> None:
    cfg = await config.effective(session)
    for name, rule in wanted(cfg, tz).items():
        key = PREFIX + name
        current = await timers.get(session, key)
        if rule is None:
            if current is not None and current.state in (timers.ACTIVE, timers.PAUSED):
                await timers.cancel(session, key)
            continue
        if current is not None and current.state == timers.ACTIVE and current.rule == rule.to_dict():
            continue
        due = next_fire(rule, now)
        if due is not None:
            await timers.schedule(session, key=key, kind=KIND, due=due, rule=rule, payload={"what": name},
                                  ref="norms:schedule", stale_after=timedelta(hours=6))


async def targets(session: AsyncSession, now: datetime) -> list[str]:
    chats = list((await session.execute(select(Chat.chat_id).where(Chat.kind == "team")
                                        .order_by(Chat.chat_id))).scalars())
    if chats:
        return chats
    rows = (await session.execute(select(Stream.chat_id).where(Stream.chat_id != "", Stream.ends_at >= now - timedelta(days=35))
                                  .distinct())).scalars()
    return sorted(set(rows))


@timers.handler(KIND)
async def fire(ctx: Ctx, timer: timers.Timer, *, due: datetime, late: bool) -> None:
    what = timer.payload.get("what", "")
    tz = ctx.svc.settings.timezone
    today = due.astimezone(ctx.svc.tz).date()
    for chat in await targets(ctx.session, ctx.now()):
        if what == "announce:weekly":
            monday = today + timedelta(days=7 - today.weekday())
            card = await schedule_cards.week_card(ctx.session, monday, ctx.locale, tz,
                                                  subtitle=ctx.t("norms.announce_weekly"))
            await ctx.send(chat, card=card)
        elif what == "announce:monthly":
            first = today.replace(day=1) if today.day == 1 else (today.replace(day=1) + timedelta(days=32)).replace(day=1)
            card = await schedule_cards.month_card(ctx.session, first, ctx.locale, tz,
                                                   subtitle=ctx.t("norms.announce_monthly"))
            await ctx.send(chat, card=card)
        elif what == "optional:quarterly":  # the quarter just ended, with its KPI card (bot.norms.quarterly)
            from bot.norms import quarterly

            await quarterly.remind(ctx, chat, due)
        elif what.startswith("optional:"):
            await ctx.send(chat, ctx.t(f"norms.optional_msg.{what.split(':', 1)[1]}"))
