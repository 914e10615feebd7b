"""The intake's writes on sqlite3 itself (bot.store.sqlite_inline.RawTransactions and
RawConnection, issue 20): stored exactly as through the engine, once per event, lanes
included, under the process's write lock, waiting for another process's lock, and rolled back
whole on failure."""
from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from bot.store import inbox
from bot.store.db import Database
from bot.store.models import InboxEvent, InboxLane
from bot.store.sqlite_inline import raw_statement


@pytest.fixture
def db(sqlite_file_db):
    return sqlite_file_db  # (tests/conftest.py)


def chatter(n: int) -> dict:
    return {"event_id": f"ev_{n}", "event_type": "im.message.receive_v1", "message_id": f"om_{n}",
            "payload": {"schema": "2.0", "event": {"text": f"今天灯光不错 {n}", "n": n, "quote": '"tag": "x"'}},
            "lane": "oc_team"}


async def stored(db: Database) -> list[InboxEvent]:
    async with db.session() as s:
        return list((await s.execute(select(InboxEvent).order_by(InboxEvent.id))).scalars())


async def test_a_settled_row_is_stored_as_the_engine_stores_it(db):
    writer = inbox.InboxWriter(db)
    at = datetime(2026, 12, 7, 1, 2, 3, 456789, tzinfo=timezone.utc)
    assert db.raw is not None
    assert await writer.store(now=at, done=True, **chatter(1))  # on sqlite3
    raw, db.raw = db.raw, None
    try:
        assert await writer.store(now=at, done=True, **{**chatter(1), "event_id": "ev_2", "message_id": "om_2"})
    finally:
        db.raw = raw
    a, b = await stored(db)
    columns = [c.key for c in InboxEvent.__table__.columns if c.key not in ("id", "event_id", "message_id")]
    assert {c: getattr(a, c) for c in columns} == {c: getattr(b, c) for c in columns}
    assert (a.status, a.done_at, a.payload["event"]["quote"]) == ("done", at, '"tag": "x"')
    with sqlite3.connect(db.raw.path) as conn:  # the same text in the file, too
        texts = conn.execute("SELECT received_at, done_at, payload FROM inbox ORDER BY id").fetchall()
    assert texts[0] == texts[1]


async def test_a_settled_event_stored_twice_is_new_once(db):
    writer = inbox.InboxWriter(db)
    now = datetime.now(timezone.utc)
    firsts = await asyncio.gather(*(writer.store(now=now, done=True, **chatter(7)) for _ in range(3)))
    assert sorted(firsts) == [False, False, True]
    assert await writer.store(now=now, done=True, **chatter(7)) is False
    assert len(await stored(db)) == 1


async def test_pending_events_and_their_lanes_are_stored_as_the_engine_stores_them(db):
    """A mixed batch (settled chatter and a command for a worker) on sqlite3, then the same
    through the engine: the same rows, the same lanes, the same text in the file."""
    writer = inbox.InboxWriter(db)
    at = datetime(2026, 12, 7, 3, 4, 5, 6789, tzinfo=timezone.utc)

    def two(n: int) -> list:  # the same two events each time, under new ids
        return [writer.store(now=at, done=True, **{**chatter(1), "event_id": f"ev_{n}", "message_id": f"om_{n}"}),
                writer.store(now=at, **{**chatter(2), "event_id": f"ev_{n + 1}", "message_id": f"om_{n + 1}",
                                        "lane": f"oc_other_{n}"})]

    assert await asyncio.gather(*two(1)) == [True, True]  # one batch, on sqlite3
    raw, db.raw = db.raw, None
    try:
        assert await asyncio.gather(*two(3)) == [True, True]  # through the engine
    finally:
        db.raw = raw
    rows = await stored(db)
    assert [(r.event_id, r.status) for r in rows] == [("ev_1", "done"), ("ev_2", "pending"), ("ev_3", "done"),
                                                      ("ev_4", "pending")]
    columns = [c.key for c in InboxEvent.__table__.columns if c.key not in ("id", "event_id", "message_id", "lane")]
    for a, b in ((rows[0], rows[2]), (rows[1], rows[3])):
        assert {c: getattr(a, c) for c in columns} == {c: getattr(b, c) for c in columns}
    async with db.session() as s:
        lanes = [(lane.lane, lane.head, lane.held_by) for lane in (await s.execute(select(InboxLane))).scalars()]
    assert sorted(lanes) == [("oc_other_1", rows[1].id, None), ("oc_other_3", rows[3].id, None)]
    with sqlite3.connect(db.raw.path) as conn:
        texts = conn.execute("SELECT received_at, done_at, payload, status FROM inbox ORDER BY id").fetchall()
    assert texts[0] == texts[2] and texts[1] == texts[3] and texts[1][3] == "pending"


async def test_the_write_waits_for_this_process_and_for_another(db):
    writer = inbox.InboxWriter(db)
    now = datetime.now(timezone.utc)
    lock = db.write_lock.get()
    await lock.acquire()  # a transaction of this process holds the writer
    one = asyncio.create_task(writer.store(now=now, done=True, **chatter(1)))
    await asyncio.sleep(0.05)
    assert not one.done()
    other = sqlite3.connect(db.raw.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # and another process takes SQLite's own lock meanwhile
    lock.release()
    await asyncio.sleep(0.1)
    assert not one.done()  # SQLITE_BUSY at BEGIN: retried as a coroutine, the loop runs on
    other.execute("COMMIT")
    other.close()
    assert await asyncio.wait_for(one, timeout=10) is True
    assert not lock.locked()


async def test_a_failed_transaction_stores_nothing_and_frees_the_writer(db):
    writer = inbox.InboxWriter(db)
    rows = [{**chatter(n), "source": "webhook", "status": status, "attempts": 0,
             "received_at": datetime.now(timezone.utc), "done_at": None} for n, status in ((1, "done"), (2, "pending"))]

    def write_then_fail(conn, rows):
        writer._write_raw(conn, rows, [])
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        await db.raw.run(write_then_fail, rows)
    assert await stored(db) == [] and not db.write_lock.get().locked()
    async with db.session() as s:
        assert (await s.execute(select(InboxLane))).first() is None
    assert await inbox.InboxWriter(db).store(now=datetime.now(timezone.utc), done=True, **chatter(1))


async def test_a_raw_insert_not_given_a_defaulted_column_is_refused(db):
    """The engine computes Python-side defaults per row; a statement compiled once cannot, so
    it must be given every such column (here lane, source, status and attempts are missing)."""
    with pytest.raises(ValueError, match="lane"):
        raw_statement(inbox._stored("sqlite"), db.engine.dialect, ("event_id", "event_type", "payload"))


def test_a_raw_connection_answers_as_the_engine_does():
    """Typed columns come back through their types (a datetime, a dict); a text() statement's
    values come back as sqlite3 reads them, not dropped."""
    from sqlalchemy import text
    from sqlalchemy.dialects import sqlite

    from bot.store.sqlite_inline import RawConnection

    conn = sqlite3.connect(":memory:")
    try:
        raw = RawConnection(conn, sqlite.dialect())
        assert raw.execute(text("SELECT 1 + :a AS x"), {"a": 2}).all() == [(3,)]
        typed = select(InboxEvent.received_at, InboxEvent.payload).where(InboxEvent.id == 1)
        conn.execute("CREATE TABLE inbox (id INTEGER, received_at TEXT, payload TEXT)")
        conn.execute("INSERT INTO inbox VALUES (1, '2026-12-07 03:04:05.000006', ?)", (json.dumps({"a": [1]}),))
        row = raw.execute(typed).first()
        assert row.received_at == datetime(2026, 12, 7, 3, 4, 5, 6, tzinfo=timezone.utc) and row.payload == {"a": [1]}
        assert raw.execute(typed.where(InboxEvent.id == 2)).first() is None
    finally:
        conn.close()
