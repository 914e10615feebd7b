"""Briefing subscriptions and their delivery.

Each subscribed group has one timer, ``briefing:<chat_id>``, due at its local time plus a
spread that follows the share of Feishu's send window the sender gives bulk rows
(bot.sendlimits: 45 a second and 900 a minute of the API's 50 and 1,000; the rest is kept for
fault pages and answers): the n-th group of one time is due at
``(n // 900) minutes + (n % 900) / 45 seconds``, in blocks of 5 (the timer engine fires a block
in one transaction, and a short one: on SQLite it holds the one writer while it builds the
cards, and with blocks of 25 a fault report waited up to 6 s to be handled). 1,000 groups at
09:30 are thus released at the pace they can be sent, in subscription order: the first 900 in 20 s, the last 100 when the minute window has
room again (09:31:00–09:31:02), instead of all on the minute; a fault reported meanwhile is
paged at once (the cards are BULK rows, bot.outbox).
A fire writes the card and a ``briefing_sends`` row (unique per group, day and kind) in one
transaction, then re-arms the timer for the next day: a crash redoes the fire, never a copy;
a restart picks up the groups not yet served.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import outbox
from bot.context import Ctx
from bot.data.models import BriefingSend, BriefingSubscription
from bot.metrics import count
from bot import timers
from bot.timeparse.workdays import is_holiday
from bot.sendlimits import BULK_PER_MINUTE, BULK_PER_SECOND
from bot.store.db import insert_ignore

KIND = "briefing.daily"
RATE = float(BULK_PER_SECOND)  # groups released per second: the bulk share of 50 messages/s
PER_MINUTE = BULK_PER_MINUTE  # groups per minute: the bulk share of 1,000 messages/min
BLOCK = 5  # released together: the timer engine claims and commits them in one short transaction
LATE_LIMIT = timedelta(hours=3)  # a briefing more than 3 hours late is skipped, not sent


def offset(slot: int) -> float:
    """Seconds after the subscribed minute at which the group in ``slot`` is released."""
    n = (slot // BLOCK) * BLOCK
    return (n // PER_MINUTE) * 60.0 + (n % PER_MINUTE) / RATE


def floor_seconds(groups: int) -> float:
    """The least time ``groups`` briefings can take within the bulk share of Feishu's windows:
    from the minute to the last card (benchmarks compare against it)."""
    if groups <= 0:
        return 0.0
    k = groups - 1
    return (k // PER_MINUTE) * 60.0 + (k % PER_MINUTE + 1) / RATE


def timer_key(chat_id: str) -> str:
    return f"briefing:{chat_id}"


def next_due(sub: BriefingSubscription, after: datetime, tz: ZoneInfo) -> datetime:
    """The first local ``sub.at`` (+ the group's spread) strictly after ``after``."""
    hh, mm = (int(x) for x in sub.at.split(":"))
    day = after.astimezone(tz).date()
    spread = timedelta(seconds=offset(sub.slot))
    while True:
        due = datetime.combine(day, time(hh, mm), tz) + spread
        if due > after:
            return due
        day += timedelta(days=1)


async def get(session: AsyncSession, chat_id: str) -> BriefingSubscription | None:
    return (await session.execute(select(BriefingSubscription).where(BriefingSubscription.chat_id == chat_id))
            ).scalar_one_or_none()


async def subscribe(session: AsyncSession, chat_id: str, *, at: str, holidays: str, weekly: bool, monthly: bool,
                    by: str, now: datetime, tz: ZoneInfo) -> BriefingSubscription:
    sub = await get(session, chat_id)
    if sub is None or sub.at != at or not sub.active:
        slot = (await session.execute(select(func.coalesce(func.max(BriefingSubscription.slot) + 1, 0)).where(
            BriefingSubscription.at == at, BriefingSubscription.active.is_(True),
            BriefingSubscription.chat_id != chat_id))).scalar_one()
    else:
        slot = sub.slot
    if sub is None:
        sub = BriefingSubscription(chat_id=chat_id, created_by=by, created_at=now)
        session.add(sub)
    sub.at, sub.holidays, sub.weekly, sub.monthly, sub.slot, sub.active = at, holidays, weekly, monthly, slot, True
    await session.flush()
    await timers.schedule(session, key=timer_key(chat_id), kind=KIND, due=next_due(sub, now, tz),
                          payload={"chat": chat_id}, chat_id=chat_id, ref=f"briefing:{chat_id}", created_by=by,
                          tz=str(tz))
    return sub


async def unsubscribe(session: AsyncSession, chat_id: str) -> bool:
    sub = await get(session, chat_id)
    await timers.cancel(session, timer_key(chat_id))
    if sub is None or not sub.active:
        return False
    sub.active = False
    return True


async def claim(session: AsyncSession, chat_id: str, day: date, kind: str, now: datetime) -> bool:
    """Record that ``kind`` went to ``chat_id`` for ``day``; False when it already had."""
    result = await session.execute(insert_ignore(session.bind.dialect.name, BriefingSend,
                                                 chat_id=chat_id, day=day.isoformat(), kind=kind, at=now))
    return bool(result.rowcount)


@timers.handler(KIND, exact=True)  # the pace above: one block per wake-up
async def fire(ctx: Ctx, timer: timers.Timer, *, due: datetime, late: bool) -> None:
    with outbox.priority(outbox.BULK):  # a fan-out: pages and answers go first
        await _fire(ctx, timer, due)


async def _fire(ctx: Ctx, timer: timers.Timer, due: datetime) -> None:
    from bot.briefing import build

    sub = await get(ctx.session, timer.payload.get("chat", ""))
    if sub is None or not sub.active:
        return
    tz = ctx.svc.tz
    day = due.astimezone(tz).date()
    now = ctx.now()
    send = now - due <= LATE_LIMIT and not (sub.holidays == "skip" and is_holiday(day))
    if not send:
        count(ctx, "briefings", kind="daily", outcome="skipped_late" if now - due > LATE_LIMIT else "skipped_holiday")
    if send and await claim(ctx.session, sub.chat_id, day, "daily", now):
        await ctx.send(sub.chat_id, card=await build.daily_card(ctx.session, ctx.t, ctx.locale, sub.chat_id, now, tz,
                                                                fanout=(ctx.svc.db, due)))
        count(ctx, "briefings", kind="daily", outcome="sent")
        if sub.weekly and day.weekday() == 0 and await claim(ctx.session, sub.chat_id, day, "weekly", now):
            await ctx.send(sub.chat_id, card=await build.period_card(ctx.session, ctx.t, ctx.locale, sub.chat_id, now,
                                                                     tz, "weekly"))
            count(ctx, "briefings", kind="weekly", outcome="sent")
        if sub.monthly and day.day == 1 and await claim(ctx.session, sub.chat_id, day, "monthly", now):
            await ctx.send(sub.chat_id, card=await build.period_card(ctx.session, ctx.t, ctx.locale, sub.chat_id, now,
                                                                     tz, "monthly"))
            count(ctx, "briefings", kind="monthly", outcome="sent")
    await timers.schedule(ctx.session, key=timer.key, kind=KIND, due=next_due(sub, max(now, due), tz),
                          payload=timer.payload, chat_id=sub.chat_id, ref=timer.ref, created_by=timer.created_by,
                          tz=str(tz))
