"""The hourly clean-up deletes old finished bookkeeping rows and keeps everything else."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, text

from bot import housekeeping
from bot.clock import wall_now
from bot import timers
from bot.timers.models import Timer
from bot.store.models import InboxEvent, OutboxMessage


async def test_purge_keeps_recent_failed_and_pending_rows(database):
    now = wall_now()
    old, recent = now - timedelta(days=31), now - timedelta(days=1)
    async with database.session() as s:
        for i, (status, done) in enumerate([("done", old), ("done", recent), ("failed", old), ("pending", None)]):
            s.add(InboxEvent(event_id=f"e{i}", event_type="x", payload={}, status=status, received_at=old,
                             done_at=done))
        for i, (status, sent) in enumerate([("sent", old), ("sent", recent), ("failed", old), ("pending", None)]):
            s.add(OutboxMessage(key=f"k{i}", op="send", lane="c", payload={}, status=status, created_at=old,
                                next_attempt_at=old, sent_at=sent))
        for i, (state, at) in enumerate([("done", old), ("cancelled", old), ("done", recent), ("active", old)]):
            s.add(Timer(key=f"t{i}", kind="x", next_due=old, state=state, created_at=old, updated_at=at))
        await s.commit()
    async with database.session() as s:
        counts = await housekeeping.purge(s, now, 30)
        await s.commit()
    assert counts == {"inbox": 1, "outbox": 1, "timers": 2}
    async with database.session() as s:
        for model in (InboxEvent, OutboxMessage, Timer):
            assert (await s.execute(select(func.count()).select_from(model))).scalar() == (3 if model is not Timer else 2)


async def test_hourly_run_vacuums_the_queue_tables_on_postgresql(harness):
    """The hourly timer purges, and on PostgreSQL vacuums the queue tables once the purge has
    committed (so it does not depend on autovacuum); on SQLite it only purges."""
    db = harness.db
    now = wall_now()
    async with db.session() as s:
        s.add(InboxEvent(event_id="old", event_type="x", payload={}, status="done", received_at=now - timedelta(days=40),
                         done_at=now - timedelta(days=40)))
    async with db.session() as s:
        timer = await timers.get(s, housekeeping.KEY)
        assert timer is not None
    before = await _vacuum_count(db)
    await harness.advance(11 * 60)
    await harness.settle()
    for task in list(housekeeping._running):
        await task
    async with db.session() as s:
        assert (await s.execute(select(func.count()).select_from(InboxEvent).where(InboxEvent.event_id == "old"))).scalar() == 0
    after = await _vacuum_count(db)
    if db.dialect == "postgresql":
        assert after > before
    else:
        assert after is None and before is None


async def _vacuum_count(db):
    if db.dialect != "postgresql":
        return None
    async with db.engine.connect() as conn:
        return (await conn.execute(text("SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = 'inbox'"))).scalar()
