"""The daily purge of compliance records past their retention, as a repeating timer.

``ensure`` plans the timer ``compliance:purge`` (daily 03:30 local) unless it is already
active with the same rule; /检查 calls it on every check (one keyed read), so an install
that keeps records gets the purge without a start-up hook, and never a second timer (the
key is unique and ``timers.schedule`` upserts).
"""
from __future__ import annotations

from datetime import datetime, time

from sqlalchemy.ext.asyncio import AsyncSession

from bot.compliance import service
from bot.context import Ctx
from bot import timers
from bot.timers.recurrence import DEFAULT_TZ, Recurrence, next_fire

KIND = "compliance.purge"
KEY = "compliance:purge"
AT = time(3, 30)


def rule(tz: str = DEFAULT_TZ) -> Recurrence:
    return Recurrence.daily(AT, tz=tz)


async def ensure(session: AsyncSession, now: datetime, tz: str = DEFAULT_TZ) -> None:
    """Plan the daily purge once (idempotent). No ``stale_after``: a purge missed while the
    bot was down runs late, once."""
    wanted = rule(tz)
    current = await timers.get(session, KEY)
    if current is not None and current.state == timers.ACTIVE and current.rule == wanted.to_dict():
        return
    due = next_fire(wanted, now)
    if due is not None:
        await timers.schedule(session, key=KEY, kind=KIND, due=due, rule=wanted, ref=KEY)


@timers.handler(KIND)
async def fire(ctx: Ctx, timer: timers.Timer, *, due: datetime, late: bool) -> None:
    await service.purge_expired(ctx.session, ctx.now())
