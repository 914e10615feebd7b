"""Hourly clean-up of the bot's own bookkeeping: handled inbox events, sent outbox rows and
finished timers older than ``BOT_KEEP_DAYS`` (default 30) are deleted, at most ``CHUNK`` rows
of each table per run so no run holds the database for long. Failed rows are kept (they are
what /状态 shows and what an admin looks into). Feishu redelivers an event for at most about
7 hours and the outbox dedupe window is one hour, so 30 days is far beyond any idempotency need.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select

from bot.clock import wall_now
from bot.commands.registry import on_startup
from bot.context import Ctx
from bot.reminders import timers
from bot.reminders.models import CANCELLED, DONE, Timer
from bot.reminders.recurrence import Recurrence
from bot.store.models import InboxEvent, OutboxMessage

KIND = KEY = "housekeeping"
DEFAULT_DAYS = 30
CHUNK = 5000


def keep_days(svc) -> int:
    raw = str(svc.settings.extra.get("BOT_KEEP_DAYS", DEFAULT_DAYS))
    return int(raw) if raw.isdigit() and int(raw) >= 1 else DEFAULT_DAYS


async def purge(session, now: datetime, days: int) -> dict[str, int]:
    """Delete old finished rows (up to CHUNK per table); returns how many per table."""
    cutoff = now - timedelta(days=days)
    plans = {
        "inbox": (InboxEvent, InboxEvent.status == "done", InboxEvent.done_at < cutoff),
        "outbox": (OutboxMessage, OutboxMessage.status == "sent", OutboxMessage.sent_at < cutoff),
        "timers": (Timer, Timer.state.in_((DONE, CANCELLED)), Timer.updated_at < cutoff),
    }
    out = {}
    for name, (model, state, old) in plans.items():
        ids = list((await session.execute(select(model.id).where(state, old).order_by(model.id).limit(CHUNK))).scalars())
        if ids:
            await session.execute(delete(model).where(model.id.in_(ids)))
        out[name] = len(ids)
    return out


@timers.handler(KIND)
async def fire(ctx: Ctx, timer: timers.Timer, *, due: datetime, late: bool) -> None:
    await purge(ctx.session, wall_now(), keep_days(ctx.svc))  # these rows carry wall time


@on_startup
async def plan(svc, session) -> None:
    current = await timers.get(session, KEY)
    if current is None or current.state != timers.ACTIVE:
        await timers.schedule(session, key=KEY, kind=KIND, due=svc.clock.now() + timedelta(minutes=10),
                              rule=Recurrence.interval(60, tz=svc.settings.timezone), ref=KEY)
