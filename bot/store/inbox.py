"""The durable inbox: accepted events, claimed by workers, finished once.

Lanes (issue 20): one chat's events are handled one at a time, in order. Workers pick a *lane*
(``inbox_lanes``: a row per chat with live events, its first live event's id as ``head``), not
a row: the oldest head among lanes nobody holds, ``FOR UPDATE SKIP LOCKED``. A lane whose head
is in hand is one skipped index entry, so a worker that wakes while one chat has 3,000 events
waiting costs the same as with 3 (the old claim walked that chat's whole backlog and took
nothing). The hold carries the same lease as the row's claim: a worker that dies leaves both
to expire, and the next worker takes the lane over and the row again.

Who keeps ``head`` right:
* the webhook's writer, in the transaction that stores the events: a new lane gets a row, an
  idle lane whose head is later than a stored event gets that event (an UPSERT, which locks
  the lane row on PostgreSQL even when it changes nothing);
* the worker, in the handler's transaction: after marking its row done it locks the lane row,
  then (a new statement, so it sees everything committed meanwhile) moves ``head`` to the next
  pending event and lets the lane go, or deletes the lane row when nothing is left. A writer
  that stored an event in between either committed before the lock (seen) or waits on it and
  then finds no lane row, or an idle one, and sets ``head`` itself.
SQLite serialises every writer (BEGIN IMMEDIATE), so there the locks are not needed.
"""
from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Row, and_, bindparam, delete, exists, func, or_, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import wall_now
from bot.store.db import Database, dialect_insert, claim_settings
from bot.store.models import InboxEvent, InboxLane
from bot.store.pg_held import write_burst
from bot.store.sqlite_inline import RawConnection


WRITES_AT_ONCE = 2  # the webhook's batches written at the same time on PostgreSQL (InboxWriter)
# A batch that starts less than this after the last write ended waits one turn of the loop, so
# the requests read in that turn share its commit (fewer, larger batches in a burst: an event
# costs the intake less); a lone event starts its write at once.
STREAM_GAP = 0.002
MAX_ATTEMPTS = 5  # claims of one event (each a worker that died on it) before it is set aside as poison


class Takers(Protocol):
    """This process's inbox workers as the writer sees them (bot.worker.InboxWorkers)."""

    lease: timedelta

    def asleep(self) -> bool: ...  # a worker sleeps: ``reserve`` would give one

    def reserve(self) -> Any: ...  # a sleeping worker (with a ``name``), taken out of the idle list; or None

    def hand(self, sleeper: Any, row: Row | None) -> None: ...  # its event (None: just woken)

    def announce(self, event_id: str, *, wake: bool = True) -> None: ...


class InboxWriter:
    """Group commit for the webhook: concurrent requests share one INSERT and one commit.

    Each caller still gets its answer only after its row is durable (or an exception when
    the write failed, which the webhook turns into a 503). With no concurrency a batch is
    one row and nothing waits; under load, rows that arrive while a commit is running go
    into the next one, so throughput grows with load instead of queueing on the database.

    Handed over at the insert (``workers`` set): a stored event that is the head of a lane
    nobody holds is claimed, in the same transaction, for a worker of this process that is
    asleep, and given to it after the commit: no claim transaction of its own. One claim per
    sleeping worker at most; every other stored event wakes a worker the usual way.
    """

    def __init__(self, db: Database, max_batch: int = 500, *, workers: Takers | None = None) -> None:
        self.db, self.max_batch, self.workers = db, max_batch, workers
        self._pending: list[tuple[dict, asyncio.Future]] = []
        # Writes at once: on PostgreSQL a second batch is written while the first waits for its
        # commit (the server flushes both with one WAL write); SQLite has one writer anyway. A
        # chat's events are never in two batches being written: ids and commits of one lane stay
        # in the order its events arrived (a worker takes a lane's events by id).
        self.writes = WRITES_AT_ONCE if db.dialect == "postgresql" else 1
        self._tasks: set[asyncio.Task] = set()  # the running writes (kept: a task nobody holds may be collected)
        self._writing: set[str] = set()  # the lanes of the batches being written
        self._wrote = float("-inf")  # the loop's time the last write ended

    async def store(self, *, now: datetime, done: bool = False, **fields) -> bool:
        """Store one event (pending; or ``done`` when the intake settled it, bot.known) and
        return whether it was new. Returns once the row is durable."""
        fields.setdefault("lane", "")
        row = {"event_id": fields["event_id"], "event_type": fields["event_type"],
               "message_id": fields.get("message_id"), "payload": fields["payload"],
               "source": fields.get("source", "webhook"), "lane": fields["lane"] or fields["event_id"],
               "status": "done" if done else "pending", "attempts": 0, "received_at": now,
               "done_at": now if done else None}
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._pending.append((row, future))
        # The write runs in a task of its own: a caller that stops waiting (a long-connection event
        # past its deadline) cannot cut it short. A lane being written waits for its batch's task.
        if len(self._tasks) < self.writes and row["lane"] not in self._writing:
            task = loop.create_task(self._flush())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await future

    def _take(self) -> list[tuple[dict, asyncio.Future]]:
        """The next batch: waiting rows in arrival order, none of a lane another batch is writing
        (those wait for it; its task takes them next)."""
        batch: list[tuple[dict, asyncio.Future]] = []
        if not self._writing:
            batch, self._pending = self._pending[:self.max_batch], self._pending[self.max_batch:]
        else:
            rest: list[tuple[dict, asyncio.Future]] = []
            for item in self._pending:
                (batch if len(batch) < self.max_batch and item[0]["lane"] not in self._writing else rest).append(item)
            self._pending = rest
        return batch

    async def _flush(self) -> None:
        try:
            if self._wrote + STREAM_GAP > asyncio.get_running_loop().time():
                await asyncio.sleep(0)  # a stream of requests: those read in the loop's next turn join this batch
            while batch := self._take():
                lanes = {row["lane"] for row, _ in batch} - self._writing
                self._writing |= lanes
                try:
                    fresh = await self._insert([row for row, _ in batch])
                except Exception as exc:  # noqa: BLE001 - every caller gets the failure
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                except BaseException:  # cancelled (shutdown): nobody is left waiting for a write that will not come
                    for _, future in batch + self._pending:
                        future.cancel()
                    self._pending = []
                    raise
                finally:
                    self._writing -= lanes
                    self._wrote = asyncio.get_running_loop().time()
                for row, future in batch:
                    if not future.done():
                        future.set_result(row["event_id"] in fresh)
                        fresh.discard(row["event_id"])  # the same event twice in one batch: once fresh
        finally:
            self._tasks.discard(asyncio.current_task())  # (at once: a store arriving now starts a write)

    async def _insert(self, rows: list[dict]) -> set[str]:
        for attempt in (1, 2):
            handed: list[tuple[Any, Row | None]] = []
            try:
                if self.db.raw is not None:  # a SQLite file: on sqlite3 itself (RawTransactions says why)
                    stored, fresh = await self.db.raw.run(self._write_raw, rows, handed)
                elif self.db.dialect == "postgresql" and (self.workers is None or not self.workers.asleep()):
                    stored, fresh = await write_burst(self.db.held, rows)  # (a burst: every worker is up)
                else:
                    stored, fresh = await self.db.transact(self._write, rows, handed)
            except BaseException as exc:
                for sleeper, _row in handed:  # nothing was stored: the reserved workers just wake
                    self.workers.hand(sleeper, None)  # type: ignore[union-attr]
                # A pooled connection closed by a server restart (the pool does not ping before
                # use): SQLAlchemy has now discarded the stale ones, so one more try on a fresh
                # connection; a database that is really down fails again and the webhook says 503.
                if attempt == 1 and isinstance(exc, DBAPIError) and exc.connection_invalidated:
                    continue
                raise
            if self.workers is not None:  # committed: the claimed events to their workers, a wake-up for the rest
                woken = 0
                for sleeper, row in handed:
                    self.workers.hand(sleeper, row)
                    if row is None:
                        woken += 1  # awake now, as for an announced event
                    else:
                        fresh.pop(row.id, None)
                for i, event_id in enumerate(fresh.values()):
                    self.workers.announce(event_id, wake=i >= woken)
            return stored
        raise AssertionError("unreachable")

    def _write_raw(self, conn: sqlite3.Connection, rows: list[dict],
                   handed: list[tuple[Any, Row | None]]) -> tuple[set[str], dict[int, str]]:
        return self._write(RawConnection(conn, self.db.engine.dialect), rows, handed)

    def _write(self, conn, rows: list[dict], handed: list[tuple[Any, Row | None]]) -> tuple[set[str], dict[int, str]]:
        """The events' transaction (Database.transact): the rows, their lanes and the hand-over;
        the ids stored and the fresh pending rows (row id -> event id)."""
        dialect = self.db.dialect
        result = conn.execute(_stored(dialect), rows).all()
        heads: dict[str, int] = {}
        fresh: dict[int, str] = {}
        for event_id, row_id, lane, status in result:
            if status == "pending":  # a settled row is done already: no lane waits for it
                heads[lane] = min(row_id, heads.get(lane, row_id))
                fresh[row_id] = event_id
        if heads:  # lanes in one order: two writers never wait on each other in a cycle
            conn.execute(_lanes_upsert(dialect), [{"lane": lane, "head": head} for lane, head in sorted(heads.items())])
            if self.workers is not None:
                self._hand_over(conn, heads, handed)
        return {row[0] for row in result}, fresh

    def _hand_over(self, conn, heads: dict[str, int], handed: list[tuple[Any, Row | None]]) -> None:
        """Claim lanes' new heads for sleeping workers (see the class docstring); ``handed``
        gets each reserved worker as soon as it is reserved, so a failure can wake it."""
        assert self.workers is not None
        now = wall_now()
        for lane, head in sorted(heads.items(), key=lambda item: item[1]):
            sleeper = self.workers.reserve()
            if sleeper is None:
                break
            params = {"ln": lane, "hd": head, "worker": sleeper.name, "now": now, "until": now + self.workers.lease,
                      "max_attempts": MAX_ATTEMPTS}
            row = None
            handed.append((sleeper, None))
            if conn.execute(_HOLD_HEAD, params).first() is not None:
                row = conn.execute(_TAKE, params).first()
                if row is None:  # not claimable after all: the lane is free again for a claim
                    conn.execute(_UNHOLD, params)
            handed[-1] = (sleeper, row)


_T = InboxEvent.__table__
_L = InboxLane.__table__
_STORED: dict[str, object] = {}
_UPSERT: dict[str, object] = {}


def _stored(dialect: str):
    """INSERT ... ON CONFLICT DO NOTHING RETURNING the stored rows (Core: the hot path)."""
    if dialect not in _STORED:
        _STORED[dialect] = (dialect_insert(dialect)(_T).on_conflict_do_nothing()
                            .returning(_T.c.event_id, _T.c.id, _T.c.lane, _T.c.status))
    return _STORED[dialect]


def _lanes_upsert(dialect: str):
    """A lane row for every lane that got events; an idle lane's head moves back to an
    earlier event (two webhooks' commits can land out of id order); a held lane's stays."""
    if dialect not in _UPSERT:
        ins = dialect_insert(dialect)(_L)
        _UPSERT[dialect] = ins.on_conflict_do_update(
            index_elements=[_L.c.lane], set_={"head": ins.excluded.head},
            where=or_(_L.c.head.is_(None), and_(_L.c.held_by.is_(None), ins.excluded.head < _L.c.head)))
    return _UPSERT[dialect]


_FREE = or_(_L.c.held_by.is_(None), _L.c.held_until < bindparam("now"))
# The oldest head among the lanes nobody holds, walking ix_inbox_lanes_head: the lanes held
# are at most one per worker, whatever their backlogs.
_PICK = (select(_L.c.lane).where(_L.c.head.is_not(None), _FREE).order_by(_L.c.head).limit(1)
         .with_for_update(skip_locked=True).scalar_subquery())
_HOLD = (update(_L).where(_L.c.lane == _PICK, _FREE)
         .values(held_by=bindparam("worker"), held_until=bindparam("until"))
         .returning(_L.c.lane, _L.c.head))
_LIVE_OK = or_(_T.c.status == "pending", and_(_T.c.status == "claimed", _T.c.claimed_until < bindparam("now")))
_TAKE = (update(_T).where(_T.c.id == bindparam("hd"), _T.c.lane == bindparam("ln"), _LIVE_OK,
                          _T.c.attempts < bindparam("max_attempts"))
         .values(status="claimed", claimed_by=bindparam("worker"), claimed_until=bindparam("until"),
                 attempts=_T.c.attempts + 1)
         .returning(_T.c.id, _T.c.event_id, _T.c.event_type, _T.c.payload, _T.c.attempts, _T.c.lane))


def _first(status: str):
    # ORDER BY id LIMIT 1, not MIN(id): with the statistics of a quiet hour PostgreSQL aggregated
    # the whole lane (0.3 ms at 1,000 pending) instead of reading the index's first entry.
    return (select(_T.c.id).where(_T.c.lane == bindparam("ln"), _T.c.status == status)
            .order_by(_T.c.id).limit(1).scalar_subquery())


# The first live row of a lane: one (lane, status, id) index probe per status.
_FIRST_LIVE = select(_first("claimed"), _first("pending"))
_ROW = select(_T.c.id, _T.c.status, _T.c.claimed_by, _T.c.claimed_until, _T.c.attempts).where(
    _T.c.id == bindparam("rid"))
_SET_HEAD = (update(_L).where(_L.c.lane == bindparam("ln"))
             .values(head=bindparam("hd"), held_by=None, held_until=None))
_HELD_ELSEWHERE = (update(_L).where(_L.c.lane == bindparam("ln"))
                   .values(head=bindparam("hd"), held_by=bindparam("who"), held_until=bindparam("until")))
_DROP_LANE = delete(_L).where(_L.c.lane == bindparam("ln"))
# The intake's hand-over: a lane whose head is the event just stored, if nobody holds it.
_HOLD_HEAD = (update(_L).where(_L.c.lane == bindparam("ln"), _L.c.head == bindparam("hd"), _FREE)
              .values(held_by=bindparam("worker"), held_until=bindparam("until")).returning(_L.c.lane))
_UNHOLD = (update(_L).where(_L.c.lane == bindparam("ln"), _L.c.held_by == bindparam("worker"))
           .values(held_by=None, held_until=None))
_POISON = (update(_T).where(_T.c.id == bindparam("rid"))
           .values(status="failed", done_at=bindparam("now"), error_ref="poison"))
_NEXT_EXPIRY = select(func.min(_L.c.held_until)).where(_L.c.held_by.is_not(None))
_FINISH = (update(_T).where(_T.c.id == bindparam("row_id"), _T.c.claimed_by == bindparam("worker"),
                            _T.c.status == "claimed")
           .values(status=bindparam("new_status"), done_at=bindparam("now"), error_ref=bindparam("ref")))
_LOCK_LANE = select(_L.c.lane).where(_L.c.lane == bindparam("ln")).with_for_update()
_ADVANCE = (update(_L).where(_L.c.lane == bindparam("ln"), _L.c.held_by == bindparam("worker"))
            .values(head=_first("pending"), held_by=None, held_until=None)
            .returning(_L.c.head))
_DROP_DRAINED = delete(_L).where(_L.c.lane == bindparam("ln"), _L.c.head.is_(None))
# The common case first (one event, nothing behind it): the held lane goes in one statement.
_DROP_IF_DRAINED = delete(_L).where(
    _L.c.lane == bindparam("ln"), _L.c.held_by == bindparam("worker"),
    ~exists().where(_T.c.lane == bindparam("ln"), _T.c.status == "pending"))
_REBUILD = text("INSERT INTO inbox_lanes (lane, head) SELECT lane, MIN(id) FROM inbox "
                "WHERE status IN ('pending', 'claimed') GROUP BY lane ON CONFLICT (lane) DO NOTHING")


@dataclass
class Claimed:
    """What one claim found: the row taken (id, event_id, event_type, payload, attempts, lane)
    or None; rows set aside as poison on the way; when nothing was free, the wall time at
    which a lane held by someone else falls free (its worker may have died), or None."""
    row: Row | None
    given_up: int = 0
    next_expiry: datetime | None = None


async def claim(db: Database, worker: str, now: datetime, lease: timedelta,
                max_attempts: int = MAX_ATTEMPTS, *, tries: int = 20) -> Claimed:
    """Take the first live row of the lane with the oldest head that nobody holds (or whose
    holder's lease ran out), and hold that lane until the row is finished."""
    params = {"now": now, "max_attempts": max_attempts, "worker": worker, "until": now + lease}
    out = Claimed(None)
    async with db.engine.begin() as conn:
        await claim_settings(conn)
        for _ in range(tries):
            picked = (await conn.execute(_HOLD, params)).first()
            if picked is None:
                out.next_expiry = (await conn.execute(_NEXT_EXPIRY)).scalar()
                return out
            lane, head = picked
            if head is not None:
                row = (await conn.execute(_TAKE, {**params, "ln": lane, "hd": head})).first()
                if row is not None:
                    out.row = row
                    return out
            out.given_up += await _repair(conn, lane, params)
    return out


async def _repair(conn, lane: str, params: dict) -> int:
    """The lane's head was not claimable: find its real first live row (a lane left behind by
    a copy or an old version, a row that crashed its workers too often), set the lane right
    and let the caller pick again. Returns rows set aside as poison."""
    given_up = 0
    while True:
        claimed, pending = (await conn.execute(_FIRST_LIVE, {"ln": lane})).one()
        first = min((i for i in (claimed, pending) if i is not None), default=None)
        if first is None:
            await conn.execute(_DROP_LANE, {"ln": lane})
            return given_up
        row = (await conn.execute(_ROW, {"rid": first})).one()
        live_claim = row.status == "claimed" and row.claimed_until is not None and row.claimed_until >= params["now"]
        if live_claim:  # someone still has it: the lane waits for that claim
            await conn.execute(_HELD_ELSEWHERE, {"ln": lane, "hd": first, "who": row.claimed_by,
                                                 "until": row.claimed_until})
            return given_up
        if row.attempts >= params["max_attempts"]:
            await conn.execute(_POISON, {"rid": first, "now": params["now"]})
            given_up += 1
            continue
        await conn.execute(_SET_HEAD, {"ln": lane, "hd": first})  # free again: the next pick takes it
        return given_up


async def finish(session: AsyncSession, row_id: int, worker: str, now: datetime, *, lane: str | None = None,
                 error_ref: str | None = None, failed: bool = False) -> bool | None:
    """Mark a claimed row done (inside the handler's own transaction) and pass its lane on.
    None if the claim was lost to another worker meanwhile, in which case the caller must
    roll back; otherwise whether the lane has more events waiting (see ``release``)."""
    conn = await session.connection()
    result = await conn.execute(_FINISH, {"row_id": row_id, "worker": worker, "now": now, "ref": error_ref,
                                          "new_status": "failed" if failed else "done"})
    if not result.rowcount:
        return None
    if lane is None:
        return True
    return await release(conn, lane, worker)


async def release(conn, lane: str, worker: str) -> bool:
    """The lane's next pending event becomes its head and the lane is free again; a drained
    lane's row goes. Lock first, read after (see the module docstring). Returns whether the
    lane has more events waiting: a worker that finished the last one need not look again."""
    params = {"ln": lane, "worker": worker}
    if conn.dialect.name == "postgresql":
        await conn.execute(_LOCK_LANE, params)
    if (await conn.execute(_DROP_IF_DRAINED, params)).rowcount:
        return False
    head = (await conn.execute(_ADVANCE, params)).first()
    if head is not None and head[0] is None:
        await conn.execute(_DROP_DRAINED, params)
        return False
    return True


async def rebuild_lanes(db: Database) -> None:
    """Lane rows for live events that have none (rows copied in by ``liveops copy-data``, or
    stored by a version without lanes). At start-up; a no-op when every lane has its row."""
    async with db.engine.begin() as conn:
        await conn.execute(_REBUILD)


async def give_up_exhausted(db: Database, now: datetime, max_attempts: int = MAX_ATTEMPTS) -> int:
    """Rows that crashed their worker max_attempts times are marked failed, not retried
    forever (the claim does this too when it meets one at a lane's head)."""
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
