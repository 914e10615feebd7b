"""The durable inbox: accepted events, claimed by workers, finished once."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.orm import aliased
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.db import Database, dialect_insert
from bot.store.models import InboxEvent


class InboxWriter:
    """Group commit for the webhook: concurrent requests share one INSERT and one commit.

    Each caller still gets its answer only after its row is durable (or an exception when
    the write failed, which the webhook turns into a 503). With no concurrency a batch is
    one row and nothing waits; under load, rows that arrive while a commit is running go
    into the next one, so throughput grows with load instead of queueing on the database.
    """

    def __init__(self, db: Database, max_batch: int = 500) -> None:
        self.db, self.max_batch = db, max_batch
        self._pending: list[tuple[dict, asyncio.Future]] = []
        self._flushing = False

    async def store(self, *, now: datetime, **fields) -> bool:
        fields.setdefault("lane", "")
        row = {"event_id": fields["event_id"], "event_type": fields["event_type"],
               "message_id": fields.get("message_id"), "payload": fields["payload"],
               "source": fields.get("source", "webhook"), "lane": fields["lane"] or fields["event_id"],
               "status": "pending", "attempts": 0, "received_at": now}
        future = asyncio.get_running_loop().create_future()
        self._pending.append((row, future))
        if not self._flushing:
            self._flushing = True
            asyncio.get_running_loop().create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending[:self.max_batch], self._pending[self.max_batch:]
                try:
                    fresh = await self._insert([row for row, _ in batch])
                except Exception as exc:  # noqa: BLE001 - every caller gets the failure
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for row, future in batch:
                    if not future.done():
                        future.set_result(row["event_id"] in fresh)
                        fresh.discard(row["event_id"])  # the same event twice in one batch: once fresh
        finally:
            self._flushing = False

    async def _insert(self, rows: list[dict]) -> set[str]:
        table = InboxEvent.__table__  # Core, not the ORM: this is the hot path
        stmt = dialect_insert(self.db.dialect)(table).on_conflict_do_nothing().returning(table.c.event_id)
        async with self.db.engine.begin() as conn:
            result = await conn.execute(stmt, rows)
            return set(result.scalars())


async def claim(db: Database, worker: str, now: datetime, lease: timedelta,
                max_attempts: int = 5) -> InboxEvent | None:
    """Take a row whose claim expired (its worker died), else the oldest pending row, among the
    rows that are first in their lane: one chat's events are handled one at a time, in order.

    One status per query, so each walks the (status, id) index from the first live row: the
    cost follows the backlog, not the history of handled rows (an OR of the two statuses made
    PostgreSQL walk the primary key through every done row, 28 ms at 200,000 rows)."""
    expired = and_(InboxEvent.status == "claimed", InboxEvent.claimed_until < now)
    claimable = or_(InboxEvent.status == "pending", expired)
    earlier = aliased(InboxEvent)
    blocked = exists().where(earlier.lane == InboxEvent.lane, earlier.id < InboxEvent.id,
                             earlier.status.in_(("pending", "claimed")))
    async with db.session() as session:
        for wanted in (expired, InboxEvent.status == "pending"):
            pick = (select(InboxEvent.id).where(wanted, ~blocked, InboxEvent.attempts < max_attempts)
                    .order_by(InboxEvent.id).limit(1).with_for_update(skip_locked=True))
            row_id = (await session.execute(pick)).scalar_one_or_none()
            if row_id is not None:
                break
        else:
            return None
        stmt = (update(InboxEvent).where(InboxEvent.id == row_id, claimable)
                .values(status="claimed", claimed_by=worker, claimed_until=now + lease,
                        attempts=InboxEvent.attempts + 1)
                .returning(InboxEvent))
        return (await session.execute(stmt)).scalar_one_or_none()


async def finish(session: AsyncSession, row_id: int, worker: str, now: datetime,
                 *, error_ref: str | None = None, failed: bool = False) -> bool:
    """Mark a claimed row done (inside the handler's own transaction). False if the claim
    was lost to another worker meanwhile, in which case the caller must roll back."""
    stmt = (update(InboxEvent)
            .where(InboxEvent.id == row_id, InboxEvent.claimed_by == worker,
                   InboxEvent.status == "claimed")
            .values(status="failed" if failed else "done", done_at=now, error_ref=error_ref))
    result = await session.execute(stmt)
    return bool(result.rowcount)


async def give_up_exhausted(db: Database, now: datetime, max_attempts: int = 5) -> int:
    """Rows that crashed their worker max_attempts times are marked failed, not retried forever."""
    async with db.session() as session:
        result = await session.execute(
            update(InboxEvent)
            .where(InboxEvent.status == "claimed", InboxEvent.claimed_until < now,
                   InboxEvent.attempts >= max_attempts)
            .values(status="failed", done_at=now, error_ref="poison"))
    return result.rowcount or 0


async def counts(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(InboxEvent.status, func.count()).group_by(InboxEvent.status))
    return {status: n for status, n in rows.all()}
