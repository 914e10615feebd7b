"""Sent outcomes marked together (bot.sendstore.SentMarks, issue 20): sends finishing within the
window share one transaction; a flush cancelled while it waits for the database leaves nobody
waiting for a mark that will not come."""
from __future__ import annotations

import asyncio
import sqlite3
from datetime import datetime, timezone

import pytest
from sqlalchemy import event, select

from bot import outbox
from bot.sendstore import SentMarks, _look_behind, _mark, outcome_of
from bot.store.db import Database
from bot.store.models import OutboxMessage


@pytest.fixture
async def db(tmp_path):
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'marks.db'}")
    await database.migrate()
    async with database.session() as s:
        for i, lane in enumerate(("oc_a", "oc_a", "oc_b")):  # m:1 waits behind m:0 in oc_a
            await outbox.enqueue(s, key=f"m:{i}", op="send", lane=lane, target=lane,
                                 payload={"receive_id_type": "chat_id", "msg_type": "text", "content": {"text": "x"}})
    yield database
    await database.close()


def commits_of(db: Database) -> list[str]:
    """Every transaction committed from now on, through the engine or on the file's own sqlite3
    connection (RawTransactions: the marks' path on a SQLite file)."""
    commits: list[str] = []
    event.listen(db.engine.sync_engine, "commit", lambda conn: commits.append("engine"))
    if db.raw is not None:  # (on whichever sqlite3 connection it borrows: WriteLock.last)
        run = db.raw.run

        async def counted(fn, *args):
            result = await run(fn, *args)
            commits.append("raw")
            return result
        db.raw.run = counted  # type: ignore[method-assign]
    return commits


async def _rows(db: Database) -> list[OutboxMessage]:
    async with db.session() as s:
        return list((await s.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars())


def _sent(row: OutboxMessage) -> dict:
    return outcome_of(row, "sent", sent=datetime.now(timezone.utc), result={"message_id": f"om_{row.id}"})


async def test_sends_finishing_together_are_marked_in_one_transaction(db):
    first, behind, other = await _rows(db)
    commits = commits_of(db)
    marks = SentMarks(db)
    got = await asyncio.gather(marks.mark(_sent(first), first.lane), marks.mark(_sent(other), other.lane))
    assert got == [1 << behind.priority, 0]  # oc_a has a row waiting behind; oc_b has none
    assert commits == ["raw"]  # a SQLite file: on sqlite3 itself (RawTransactions)
    assert [r.status for r in await _rows(db)] == ["sent", "pending", "sent"]


async def test_a_flush_cancelled_while_it_waits_leaves_nobody_waiting(db):
    first, _behind, other = await _rows(db)
    lock = db.write_lock.get()
    await lock.acquire()  # another transaction of this process holds SQLite's writer
    try:
        marks = SentMarks(db)
        callers = [asyncio.create_task(marks.mark(_sent(r), r.lane)) for r in (first, other)]
        await asyncio.sleep(0.05)  # the flush is waiting for the writer
        assert marks._task is not None
        marks._task.cancel()  # shutdown
        done, pending = await asyncio.wait(callers, timeout=1.0)
        assert not pending and all(t.cancelled() for t in done)
        assert marks._task is None and marks._pending == []
    finally:
        lock.release()
    assert [r.status for r in await _rows(db)] == ["pending"] * 3  # nothing written: resent later


async def test_a_lone_send_is_marked_without_waiting_for_the_window(db):
    first, _behind, _other = await _rows(db)
    marks = SentMarks(db, window=60.0, in_flight=lambda: 1)  # the only send under way
    assert await asyncio.wait_for(marks.mark(_sent(first), first.lane), timeout=10) == 1 << _behind.priority
    assert [r.status for r in await _rows(db)][0] == "sent"


async def test_the_batch_closes_when_every_send_under_way_has_asked(db):
    first, behind, other = await _rows(db)
    commits = commits_of(db)
    marks = SentMarks(db, window=60.0, in_flight=lambda: 2)
    one = asyncio.create_task(marks.mark(_sent(first), first.lane))
    await asyncio.sleep(0.05)
    assert not one.done()  # the other send under way has not asked yet: the batch waits for it
    two = asyncio.create_task(marks.mark(_sent(other), other.lane))
    assert await asyncio.wait_for(asyncio.gather(one, two), timeout=10) == [1 << behind.priority, 0]
    assert commits == ["raw"]


async def test_a_send_that_never_asks_holds_the_batch_only_for_the_window(db):
    first, _behind, _other = await _rows(db)
    marks = SentMarks(db, window=0.2, in_flight=lambda: 3)  # two of them fail: they never ask
    assert await asyncio.wait_for(marks.mark(_sent(first), first.lane), timeout=10) == 1 << _behind.priority


async def test_a_flush_cancelled_while_the_batch_gathers_leaves_nobody_waiting(db):
    first, _behind, _other = await _rows(db)
    marks = SentMarks(db, window=60.0, in_flight=lambda: 2)  # waits for a second send that is slow
    caller = asyncio.create_task(marks.mark(_sent(first), first.lane))
    await asyncio.sleep(0.05)
    assert marks._task is not None and not caller.done()
    marks._task.cancel()  # shutdown
    await asyncio.wait([caller], timeout=1.0)
    assert caller.cancelled() and marks._task is None and marks._pending == []
    assert [r.status for r in await _rows(db)][0] == "pending"  # nothing written: resent later


async def test_a_send_that_ends_without_a_mark_stops_holding_the_batch(db):
    first, _behind, _other = await _rows(db)
    under_way = [1, 2]  # this send and one that will fail (no mark)
    marks = SentMarks(db, window=60.0, in_flight=lambda: len(under_way))
    caller = asyncio.create_task(marks.mark(_sent(first), first.lane))
    await asyncio.sleep(0.05)
    assert not caller.done()
    under_way.pop()  # the other send ended (its task's done callback: Sender._finished)
    marks.recount()
    assert await asyncio.wait_for(caller, timeout=10) == 1 << _behind.priority


async def test_a_mark_on_sqlite3_stores_what_the_engine_stores(db, tmp_path):
    """The same outcomes, marked on sqlite3 itself and through the engine (the path PostgreSQL
    takes), leave the same text in the file, column by column."""
    first, _behind, other = await _rows(db)
    at = datetime(2026, 12, 7, 3, 4, 5, 678901, tzinfo=timezone.utc)
    outcome = {**outcome_of(first, "sent", sent=at, result={"message_id": "om_1", "文": "引号\"", "n": [1, 2.5]},
                            error="老错误", code=230020), "v_next": at}
    await SentMarks(db).mark(outcome, first.lane)
    await db.transact(_mark, [({**outcome, "rid": other.id}, other.lane, None)], True)
    conn = sqlite3.connect(tmp_path / "marks.db")
    try:
        raw, engine = (conn.execute("SELECT * FROM outbox WHERE id = ?", (i,)).fetchone() for i in (first.id, other.id))
        names = [d[0] for d in conn.execute("SELECT * FROM outbox LIMIT 0").description]
    finally:
        conn.close()
    written = ("status", "attempts", "next_attempt_at", "claimed_until", "sent_at", "result", "error_code",
               "last_error", "reported")  # what a mark writes
    assert {n: a for n, a in zip(names, raw) if n in written} == {n: b for n, b in zip(names, engine) if n in written}
    assert raw[names.index("status")] == "sent" and raw[names.index("claimed_until")] is None


async def test_marks_and_the_rows_behind_them_on_either_database(database):
    """SQLite: on sqlite3 itself, the look behind in the same transaction. PostgreSQL: the
    UPDATE in its own implicit transaction, then the look behind after it (a row queued beside
    an open mark would otherwise be missed: tests/test_sender_rules.py)."""
    async with database.session() as s:
        for i, lane in enumerate(("oc_a", "oc_a", "oc_b")):
            await outbox.enqueue(s, key=f"m:{i}", op="send", lane=lane, target=lane, priority=outbox.PAGE if i else None,
                                 payload={"receive_id_type": "chat_id", "msg_type": "text", "content": {"text": "x"}})
    first, _behind, other = await _rows(database)
    marks = SentMarks(database, in_flight=lambda: 2)
    got = await asyncio.gather(marks.mark(_sent(first), first.lane), marks.mark(_sent(other), other.lane))
    assert got == [1 << outbox.PAGE, 0]
    rows = await _rows(database)
    assert [r.status for r in rows] == ["sent", "pending", "sent"]
    assert rows[0].result == {"message_id": f"om_{first.id}"} and rows[0].claimed_until is None


async def test_a_look_behind_that_cannot_be_read_wakes_every_priority(db):
    """After a commit the outcomes are stored; if the look behind then fails, the sender looks
    for rows of every priority (a briefing's bulk rows too), not for none."""
    def on_a_closed_connection(conn):
        conn.close()
        return _look_behind(conn, [("oc_a", 1), ("oc_b", 3)])

    assert await db.connected(on_a_closed_connection) == [outbox.ALL, outbox.ALL]
