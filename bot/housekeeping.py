"""Hourly clean-up of the bot's own bookkeeping: handled inbox events, sent outbox rows and
finished timers older than ``BOT_KEEP_DAYS`` (default 30) are deleted, at most ``CHUNK`` rows
of each table per run so no run holds the database for long. Failed rows are kept (they are
what /状态 shows and what an admin looks into). Feishu redelivers an event for at most about
7 hours and the outbox dedupe window is one hour, so 30 days is far beyond any idempotency need.

On PostgreSQL each run then vacuums and re-analyses the queue tables (``VACUUM (ANALYZE)`` of
inbox, inbox_lanes and outbox, after the purge has committed, on a connection of its own: VACUUM
cannot run inside a transaction). Every event leaves dead row versions behind (stored, claimed,
done); the per-table autovacuum thresholds of migration 0011_perf clean them when autovacuum
is on, and this run cleans them when it is not (a server started with autovacuum off ended a
benchmark with 32,004 dead inbox rows). SQLite reuses freed pages by itself.
"""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, event, select, text

from bot.clock import wall_now
from bot.commands.registry import on_startup
from bot.context import Ctx
from bot import timers
from bot.timers.models import CANCELLED, DONE, Timer
from bot.timers.recurrence import Recurrence
from bot.store.models import InboxEvent, OutboxMessage

log = logging.getLogger("bot.housekeeping")
KIND = KEY = "housekeeping"
VACUUMED = ("inbox", "inbox_lanes", "outbox")  # the queue tables: rewritten by every event and send
DEFAULT_DAYS = 30
CHUNK = 5000


def keep_days(svc) -> int:
    from bot.feature_settings import RetentionSettings, of

    return of(svc.settings, RetentionSettings).keep_days


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


async def vacuum(db) -> None:
    """VACUUM (ANALYZE) the queue tables on PostgreSQL (autocommit: VACUUM refuses to run in a
    transaction); nothing on SQLite. A failure is logged: the next hour tries again."""
    if db.dialect != "postgresql":
        return
    try:
        async with db.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            for table in VACUUMED:
                await conn.execute(text(f"VACUUM (ANALYZE) {table}"))
    except Exception:  # noqa: BLE001
        log.exception("vacuum of the queue tables failed")


_running: set[asyncio.Task] = set()


@timers.handler(KIND)
async def fire(ctx: Ctx, timer: timers.Timer, *, due: datetime, late: bool) -> None:
    await purge(ctx.session, wall_now(), keep_days(ctx.svc))  # these rows carry wall time
    db = ctx.svc.db
    if db.dialect != "postgresql":
        return

    def after_commit(_session) -> None:  # the rows just deleted are only reclaimable once committed
        task = asyncio.get_running_loop().create_task(vacuum(db))
        _running.add(task)
        task.add_done_callback(_running.discard)

    event.listen(ctx.session.sync_session, "after_commit", after_commit, once=True)


@on_startup
async def plan(svc, session) -> None:
    current = await timers.get(session, KEY)
    if current is None or current.state != timers.ACTIVE:
        await timers.schedule(session, key=KEY, kind=KIND, due=svc.clock.now() + timedelta(minutes=10),
                              rule=Recurrence.interval(60, tz=svc.settings.timezone), ref=KEY)
