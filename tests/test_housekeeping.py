"""The hourly clean-up deletes old finished bookkeeping rows and keeps everything else."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot import housekeeping
from bot.clock import wall_now
from bot.reminders.models import Timer
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
