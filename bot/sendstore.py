"""The sender's statements, built once: building a SQLAlchemy statement costs more CPU than
running it, and the sender runs these for every look and every send."""
from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from datetime import datetime
from typing import Any, Callable

from sqlalchemy import (Boolean, Integer, Text, and_, bindparam, func, insert, literal_column, or_, select, text,
                        update)

from bot.clock import wall_now
from bot.outbox import ALL, BULK
from bot.store.models import OutboxMessage
from bot.store.sqlite_inline import RawConnection
from bot.store.types import UTCDateTime

log = logging.getLogger("bot.sender")


def lowest(bits: int) -> int:
    """The most urgent priority among bot.outbox priority bits."""
    return (bits & -bits).bit_length() - 1


_T = OutboxMessage.__table__


# How many waiting rows, in sending order, the first look reads for lanes' first rows. Beyond
# that the rows read are mostly behind others in their lanes (a busy chat's backlog), and the
# look walks lanes instead: its cost follows the lanes waiting, never the rows (issue 20).
SCAN = 64
_LIVE = ("pending", "sending")
_WANTED = {"high": "priority < {bulk}", "bulk": "priority >= {bulk}"}


def _wanted(kind: str, table=_T):
    now = bindparam("now", type_=UTCDateTime)
    return {"stale": and_(table.c.status == "sending", table.c.claimed_until < now),
            "high": and_(table.c.status == "pending", table.c.next_attempt_at <= now, table.c.priority < BULK),
            "bulk": and_(table.c.status == "pending", table.c.next_attempt_at <= now, table.c.priority >= BULK)}[kind]


def _first_before(status: str, lane, row_id):
    """The first row of ``status`` in ``lane`` before ``row_id``: one probe of (status, lane, id),
    ordered like the index (with enable_sort off, bot.store.db.claim_settings, PostgreSQL walks
    that index even when its statistics say the queue is empty) and with the status a literal."""
    e = _T.alias(f"e_{status}")
    return (select(e.c.id).where(e.c.status == literal_column(f"'{status}'"), e.c.lane == lane, e.c.id < row_id)
            .order_by(e.c.status, e.c.lane, e.c.id).limit(1).scalar_subquery())


@functools.cache
def claim_ids(kind: str):
    """Ids of the first live row of each lane, most urgent first, among the first SCAN rows of
    ``kind`` in sending order (a "sending" row is its lane's first: no bound). The rows read come
    first, materialized, and drive the rest: from stale statistics (an empty queue) PostgreSQL
    otherwise ran the lane checks on every waiting row (issue 20)."""
    rows = select(_T.c.id, _T.c.lane, _T.c.priority).where(_wanted(kind)).order_by(_T.c.priority, _T.c.id)
    scanned = (rows if kind == "stale" else rows.limit(SCAN)).cte("scanned").prefix_with("MATERIALIZED")
    return (select(_T.c.id).select_from(scanned.join(_T, _T.c.id == scanned.c.id))
            .where(*(_first_before(status, scanned.c.lane, scanned.c.id).is_(None) for status in _LIVE))
            .order_by(scanned.c.priority, scanned.c.id)
            .limit(bindparam("lim")).with_for_update(skip_locked=True, of=_T))


@functools.cache
def more_than_scanned(kind: str):
    """A row of ``kind`` beyond the first SCAN: the bounded look may have missed lanes."""
    return (select(_T.c.id).where(_wanted(kind)).order_by(_T.c.priority, _T.c.id).offset(SCAN).limit(1))


@functools.cache
def claim_ids_by_lane(kind: str, dialect: str):
    """The same answer as ``claim_ids`` without its bound, for a look that found the first SCAN
    rows mostly behind others: walks the lanes with a pending row, one index probe each on
    (status, lane, id) (a loose index scan, written as a recursive query), and takes each
    lane's first pending row unless an earlier row of its lane is being sent."""
    if dialect == "postgresql":  # one probe per lane gives its name and its first row
        heads = """heads(lane, id) AS (
  (SELECT lane, id FROM outbox WHERE status = 'pending' ORDER BY status, lane, id LIMIT 1)
  UNION ALL
  SELECT n.lane, n.id FROM heads, LATERAL (
    SELECT o.lane, o.id FROM outbox o WHERE o.status = 'pending' AND o.lane > heads.lane
    ORDER BY o.status, o.lane, o.id LIMIT 1) n)"""
        tail = " FOR UPDATE OF outbox SKIP LOCKED"
        rows = "heads JOIN outbox ON outbox.id = heads.id WHERE"
    else:  # SQLite has no LATERAL: the lane, then its first row (materialized: else it is redone per row)
        heads = """lanes(lane) AS (
  SELECT (SELECT lane FROM outbox WHERE status = 'pending' ORDER BY status, lane LIMIT 1)
  UNION ALL
  SELECT (SELECT o.lane FROM outbox o WHERE o.status = 'pending' AND o.lane > lanes.lane
          ORDER BY o.status, o.lane LIMIT 1)
  FROM lanes WHERE lanes.lane IS NOT NULL),
heads(id) AS MATERIALIZED (
  SELECT (SELECT p.id FROM outbox p WHERE p.status = 'pending' AND p.lane = lanes.lane
          ORDER BY p.status, p.lane, p.id LIMIT 1)
  FROM lanes WHERE lanes.lane IS NOT NULL)"""
        tail = ""
        # IN, not a join: for a join SQLite builds a Bloom filter of outbox's ids, a full scan
        rows = "outbox WHERE outbox.id IN (SELECT id FROM heads) AND"
    wanted = _WANTED[kind].format(bulk=int(BULK))
    return text(f"""WITH RECURSIVE {heads}
SELECT outbox.id FROM {rows} outbox.next_attempt_at <= :now AND outbox.{wanted}
  AND (SELECT s.id FROM outbox s WHERE s.status = 'sending' AND s.lane = outbox.lane AND s.id < outbox.id
       ORDER BY s.status, s.lane, s.id LIMIT 1) IS NULL
ORDER BY outbox.priority, outbox.id LIMIT :lim{tail}""").bindparams(
        bindparam("now", type_=UTCDateTime), bindparam("lim", type_=Integer))


async def claimable(session, kind: str, limit: int, now: datetime) -> list[int]:
    """Ids of rows of ``kind`` ("stale", "high", "bulk") the sender may claim now: each its
    lane's first live row, most urgent first, at most ``limit``. Cost: the first SCAN rows of
    ``kind``, or, when those were mostly behind others, one probe per lane waiting."""
    if limit <= 0:
        return []
    params = {"now": now, "lim": limit}
    ids = list((await session.execute(claim_ids(kind), params)).scalars())
    if len(ids) < limit and kind != "stale" and (
            await session.execute(more_than_scanned(kind), params)).first() is not None:
        ids = list((await session.execute(claim_ids_by_lane(kind, session.bind.dialect.name), params)).scalars())
    return ids


@functools.cache
def claim_update():
    now = bindparam("now", type_=UTCDateTime)
    due = or_(and_(_T.c.status == "pending", _T.c.next_attempt_at <= now),
              and_(_T.c.status == "sending", _T.c.claimed_until < now))
    return (update(OutboxMessage).where(OutboxMessage.id.in_(bindparam("ids", expanding=True)), due)
            .values(status="sending", claimed_by=bindparam("who"), claimed_until=bindparam("until", type_=UTCDateTime))
            .returning(OutboxMessage))


@functools.cache
def next_due():
    now = bindparam("now", type_=UTCDateTime)
    # ORDER BY ... LIMIT 1, not MIN(): with sorting off it follows (status, next_attempt_at) even when
    # the statistics say the queue is empty (MIN read every waiting row then)
    retry = (select(_T.c.next_attempt_at).where(_T.c.status == "pending", _T.c.next_attempt_at > now)
             .order_by(_T.c.status, _T.c.next_attempt_at).limit(1))
    lease = select(func.min(_T.c.claimed_until)).where(_T.c.status == "sending", _T.c.claimed_by != bindparam("who"))
    return select(retry.scalar_subquery(), lease.scalar_subquery())


@functools.cache
def lane_heads():
    """The first unfinished row of each of some lanes."""
    return (select(_T.c.lane, func.min(_T.c.id)).where(
        _T.c.lane.in_(bindparam("lanes", expanding=True)), _T.c.status.in_(_LIVE))
        .group_by(_T.c.lane))


@functools.cache
def behind():
    """The priority of the next row waiting in a lane."""
    return (select(_T.c.priority).where(_T.c.lane == bindparam("lane"), _T.c.status == "pending",
                                        _T.c.id != bindparam("rid")).order_by(_T.c.id).limit(1))


@functools.cache
def finish():
    """The outcome of one row: sent, failed or due again (one statement, built once)."""
    return (update(_T).where(_T.c.id == bindparam("rid"))
            .values(status=bindparam("v_status"), attempts=bindparam("v_attempts"), claimed_until=None,
                    sent_at=bindparam("v_sent", type_=UTCDateTime), result=bindparam("v_result", type_=_T.c.result.type),
                    next_attempt_at=func.coalesce(bindparam("v_next", type_=UTCDateTime), _T.c.next_attempt_at),
                    last_error=bindparam("v_error", type_=Text), error_code=bindparam("v_code", type_=Integer),
                    reported=bindparam("v_reported", type_=Boolean)))


def outcome_of(row: OutboxMessage, status: str, *, attempts: int | None = None, sent: datetime | None = None,
               result: dict | None = None, error: str | None = None, code: int | None = None,
               due: datetime | None = None, reported: bool = False) -> dict:
    """The parameters of ``finish()`` for one row."""
    return {"rid": row.id, "v_status": status, "v_attempts": row.attempts + 1 if attempts is None else attempts,
            "v_sent": sent, "v_result": result if result is not None else row.result, "v_next": due,
            "v_error": error, "v_code": code, "v_reported": reported}


async def adopt(session, job: Any, result: dict) -> None:
    """A card older than 14 days was sent afresh (bot.sendcalls): the row that made the old card
    now stands for the fresh one, so every record holding its key ("@key": fault, task and
    review cards) updates the new card from now on."""
    card = {"message_id": result["message_id"], "chat_id": result.get("chat_id", job.chat), "at": result["at"],
            "replaced": job.target}
    done = await session.execute(update(OutboxMessage).where(OutboxMessage.key == job.origin).values(
        result=card, sent_at=wall_now()))
    if not done.rowcount:  # cleaned up by housekeeping: a row to hold the card again
        now = wall_now()
        await session.execute(insert(OutboxMessage).values(
            key=job.origin, op="send", lane=job.row.lane, target=job.chat, payload={}, status="sent",
            attempts=1, created_at=now, next_attempt_at=now, sent_at=now, result=card,
            priority=job.row.priority, reported=False))
    log.info("card older than 14 days sent afresh", extra={"key": job.origin, "message_id": result["message_id"]})


def writers_take_turns(db: Any) -> bool:
    """Whether a write transaction holds every other writer off until it commits (SQLite: the
    whole database's write lock, BEGIN IMMEDIATE). Then the row waiting behind a finished one
    may be looked for inside the finishing transaction: a row queued behind it commits after it.

    On PostgreSQL it must be looked for after the commit. A transaction that queues a row
    behind one being finished sees that one still live and leaves its row pending; if it
    commits while the finishing one is open, neither the finishing transaction's look behind
    nor the look the queuing commit wakes (it ran before the finish committed) sees the row
    free, and it would wait for the once-a-minute poll (in this process or another replica)."""
    return db.dialect == "sqlite"


def behind_each(conn, finished: list[tuple[str, int]]) -> list[int]:
    """For each (lane, finished row id), the bot.outbox priority bit of the row waiting behind
    it (0: none)."""
    bits = []
    for lane, rid in finished:
        nxt = conn.execute(behind(), {"lane": lane, "rid": rid}).first()
        bits.append(0 if nxt is None else 1 << nxt[0])
    return bits


def _mark(conn, batch: list[tuple[dict, str, Any]], look_behind: bool) -> list[int]:
    """SentMarks' transaction: the outcomes, and (``look_behind``) what waits behind each."""
    conn.execute(finish(), [outcome for outcome, _, _ in batch])
    return behind_each(conn, [(lane, outcome["rid"]) for outcome, lane, _ in batch]) if look_behind else []


def _mark_raw(conn, dialect: Any, batch: list[tuple[dict, str, Any]]) -> list[int]:
    """``_mark`` on ``sqlite3`` itself (RawTransactions; writers take turns there): the same
    statements, compiled once. A mark is every send's write (commands, timers, fan-outs)."""
    return _mark(RawConnection(conn, dialect), batch, True)


def _autocommit(conn) -> Any:
    """The connection out of transactions: a read after a commit is one round trip, no
    BEGIN and COMMIT (the pool restores the isolation level when it is given back)."""
    return conn.execution_options(isolation_level="AUTOCOMMIT")


def _look_behind(conn, finished: list[tuple[str, int]]) -> list[int]:
    """``behind_each`` after the rows' finish committed (``conn`` in autocommit). If it cannot
    be read, every lane is taken to have rows of every priority waiting (a look finds out)."""
    try:
        return behind_each(conn, finished)
    except Exception:  # noqa: BLE001 - the outcomes are stored; a look costs less than a lost row
        return _every_priority(finished)


def _every_priority(finished: list) -> list[int]:
    """What to wake for when the look behind could not be read: rows of every priority."""
    log.warning("could not look behind finished rows; looking for due rows instead", exc_info=True)
    return [ALL] * len(finished)


def _mark_then_look(conn, batch: list[tuple[dict, str, Any]]) -> list[int]:
    """PostgreSQL's mark: the outcomes (one statement in autocommit, all or nothing: two round
    trips instead of four with BEGIN and COMMIT), then the row behind each read after it
    committed, on the same connection (writers_take_turns says why after). If the statement
    fails, every caller gets the error and its row, still "sending", is put back and resent
    with the same Feishu uuid (Sender._release_orphans)."""
    conn = _autocommit(conn)
    _mark(conn, batch, False)
    return _look_behind(conn, [(lane, outcome["rid"]) for outcome, lane, _ in batch])


async def behind_committed(db: Any, finished: list[tuple[str, int]]) -> list[int]:
    """``_look_behind`` on a connection of its own (a callback's or a failure's transaction
    committed)."""
    try:
        return await db.connected(lambda conn: _look_behind(_autocommit(conn), finished))
    except Exception:  # noqa: BLE001 - no connection to read on
        return _every_priority(finished)


class SentMarks:
    """Group commit of plain "sent" outcomes (no callback to run): the sends that finish within
    ``window`` seconds of each other are marked in one transaction, one UPDATE for all of them
    and one look behind each, instead of a transaction each (timers that fire together send
    together). Each caller gets, once its mark is durable, the bot.outbox priority bits of what
    waits behind it in its lane (0: nothing); a failed write fails every caller of that batch.

    With ``in_flight`` (how many sends are under way, the marking ones included) the batch closes
    as soon as every send under way has asked: a lone send is marked at once, not after the
    window (at a few sends a second the window was a wake-up of its own for every send)."""

    def __init__(self, db: Any, window: float = 0.01, *, in_flight: Callable[[], int] | None = None) -> None:
        self.db, self.window, self.in_flight = db, window, in_flight
        self._pending: list[tuple[dict, str, asyncio.Future]] = []
        self._task: asyncio.Task | None = None
        self._all_asked = asyncio.Event()

    async def mark(self, outcome: dict, lane: str) -> int:
        future = asyncio.get_running_loop().create_future()
        self._pending.append((outcome, lane, future))
        if self._task is None:
            self._task = asyncio.create_task(self._flush())
        else:
            self.recount()
        return await future

    def recount(self) -> None:
        """Close the gathering batch if every send under way has asked (called at each mark and
        when a send ends: one that ended without a mark no longer holds the batch open)."""
        if self._task is not None and self._all_in():
            self._all_asked.set()

    def _all_in(self) -> bool:
        return self.in_flight is not None and len(self._pending) >= self.in_flight()

    async def _gather(self) -> None:
        """Wait for the batch: the window, or until every send under way has asked."""
        if self.in_flight is None:
            await asyncio.sleep(self.window)
            return
        await asyncio.sleep(0)  # marks asked in this turn of the loop join
        if self._all_in():
            return
        self._all_asked.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.window):
                await self._all_asked.wait()

    async def _flush(self) -> None:
        batch: list[tuple[dict, str, asyncio.Future]] = []
        try:
            await self._gather()
            raw, serial = getattr(self.db, "raw", None), writers_take_turns(self.db)
            while self._pending:
                batch, self._pending = self._pending, []
                try:
                    if raw is not None:
                        nexts = await raw.run(_mark_raw, self.db.engine.dialect, batch)
                    elif serial:  # SQLite in memory
                        nexts = await self.db.transact(_mark, batch, True)
                    else:
                        nexts = await self.db.connected(_mark_then_look, batch)
                except Exception as exc:  # noqa: BLE001 - every caller of the batch gets it
                    for _, _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_, _, future), nxt in zip(batch, nexts):
                    if not future.done():
                        future.set_result(nxt)
        except BaseException:  # cancelled (shutdown): nobody is left waiting for a mark that will not come
            for _, _, future in batch + self._pending:
                if not future.done():
                    future.cancel()
            self._pending = []
            raise
        finally:
            self._task = None
