"""The durable inbox: accepted events, claimed by workers, finished once."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlalchemy import Row, and_, bindparam, func, literal_column, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.db import Database, dialect_insert, claim_settings
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
        for attempt in (1, 2):
            try:
                async with self.db.engine.begin() as conn:
                    result = await conn.execute(stmt, rows)
                    return set(result.scalars())
            except DBAPIError as exc:
                # A pooled connection closed by a server restart (the pool does not ping before
                # use): SQLAlchemy has now discarded the stale ones, so one more try on a fresh
                # connection; a database that is really down fails again and the webhook says 503.
                if attempt == 2 or not exc.connection_invalidated:
                    raise
        raise AssertionError("unreachable")


_T = InboxEvent.__table__
_EARLIER = _T.alias("earlier")
_LIVE = [literal_column("'pending'"), literal_column("'claimed'")]  # in the SQL text, not parameters
# Built once: the hot path binds values into ready statements (no ORM, cache keys memoized).
# "An earlier live row in the same lane", written as a scalar subquery with LIMIT 1 rather
# than NOT EXISTS: PostgreSQL turns NOT EXISTS into an anti-join whose plan follows the
# statistics, and with statistics from a quiet hour (few pending rows) it read the whole
# backlog on every claim (2,750 rows a claim at a 3,000-event backlog). A subquery stays a
# per-row probe of the (lane, status, id) index whatever the statistics say.
_FIRST_IN_LANE = (select(_EARLIER.c.id).where(_EARLIER.c.lane == _T.c.lane, _EARLIER.c.id < _T.c.id,
                                              _EARLIER.c.status.in_(_LIVE))
                  .limit(1).scalar_subquery().is_(None))
_EXPIRED = and_(_T.c.status == "claimed", _T.c.claimed_until < bindparam("now"))
_PENDING = _T.c.status == "pending"


def _claim_stmt(wanted):
    """UPDATE ... WHERE id = (the first claimable row, locked, skipping rows others hold)
    RETURNING: one round trip. SQLite ignores the locking clause; its writer lock serialises."""
    pick = (select(_T.c.id).where(wanted, _FIRST_IN_LANE, _T.c.attempts < bindparam("max_attempts"))
            .order_by(_T.c.id).limit(1).with_for_update(skip_locked=True).scalar_subquery())
    return (update(_T).where(_T.c.id == pick, or_(_PENDING, _EXPIRED))
            .values(status="claimed", claimed_by=bindparam("worker"), claimed_until=bindparam("until"),
                    attempts=_T.c.attempts + 1)
            .returning(_T.c.id, _T.c.event_id, _T.c.event_type, _T.c.payload, _T.c.attempts))


_CLAIM_EXPIRED, _CLAIM_PENDING = _claim_stmt(_EXPIRED), _claim_stmt(_PENDING)
_FINISH = (update(_T).where(_T.c.id == bindparam("row_id"), _T.c.claimed_by == bindparam("worker"),
                            _T.c.status == "claimed")
           .values(status=bindparam("new_status"), done_at=bindparam("now"), error_ref=bindparam("ref")))


async def claim(db: Database, worker: str, now: datetime, lease: timedelta,
                max_attempts: int = 5, *, expired_first: bool = True) -> Row | None:
    """Take a row whose claim expired (its worker died) or the oldest pending row, among the
    rows that are first in their lane: one chat's events are handled one at a time, in order.
    Returns (id, event_id, event_type, payload, attempts).

    One status per query, so each walks the (status, id) index from the first live row: the
    cost follows the backlog, not the history of handled rows (an OR of the two statuses made
    PostgreSQL walk the primary key through every done row, 28 ms at 200,000 rows). Under
    load the worker asks for expired rows only now and then (expired_first=False): the
    pending query runs first and the expired one only when nothing is pending."""
    params = {"now": now, "max_attempts": max_attempts, "worker": worker, "until": now + lease}
    order = (_CLAIM_EXPIRED, _CLAIM_PENDING) if expired_first else (_CLAIM_PENDING, _CLAIM_EXPIRED)
    async with db.engine.begin() as conn:
        await claim_settings(conn)
        for stmt in order:
            row = (await conn.execute(stmt, params)).first()
            if row is not None:
                return row
    return None


async def finish(session: AsyncSession, row_id: int, worker: str, now: datetime,
                 *, error_ref: str | None = None, failed: bool = False) -> bool:
    """Mark a claimed row done (inside the handler's own transaction). False if the claim
    was lost to another worker meanwhile, in which case the caller must roll back."""
    conn = await session.connection()
    result = await conn.execute(_FINISH, {"row_id": row_id, "worker": worker, "now": now, "ref": error_ref,
                                          "new_status": "failed" if failed else "done"})
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
